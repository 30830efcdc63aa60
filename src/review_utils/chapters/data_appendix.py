"""The Data appendix: what the package holds, its data dictionary and its sources' provenance.

The descriptions themselves are read from the package (:mod:`review_utils.data.catalogue`); this
module is the appendix's view of them.
"""

from __future__ import annotations

from review_utils.data.catalogue import data_dictionary, provenance, resource_summary  # noqa: F401 - the appendix's API
