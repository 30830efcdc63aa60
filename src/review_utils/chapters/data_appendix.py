"""The Data appendix: what the package holds, its data dictionary and its sources' provenance.

The descriptions themselves are read from the package (:mod:`review_utils.data.catalogue`); this
module is the appendix's view of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.data.catalogue import data_dictionary, provenance, resource_summary  # noqa: F401 - the appendix's API
from review_utils.data.currency import currency_table, fact_resources  # noqa: F401 - the appendix's API
from review_utils.data.support import support_of, tier_shares  # noqa: F401 - the appendix's API

if TYPE_CHECKING:
    import pandas as pd

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS: dict[str, tuple[str, ...]] = {}


def seed_documents(sources: pd.DataFrame, edition: Any) -> pd.DataFrame:
    """The documents the book starts from (sources with a seed file) that were published by the
    edition date, oldest first."""
    import pandas as pd

    seeds = sources[sources["seed_file"].notna() & (sources["published"] <= pd.Timestamp(edition))]
    return seeds.sort_values(["published", "source_id"]).reset_index(drop=True)
