"""The Data appendix: what the package holds, its data dictionary and its sources' provenance.

The descriptions themselves are read from the package (:mod:`review_utils.data.catalogue`); this
module is the appendix's view of them.
"""

from __future__ import annotations

from review_utils.data.catalogue import data_dictionary, provenance, resource_summary  # noqa: F401 - the appendix's API

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS: dict[str, tuple[str, ...]] = {}
