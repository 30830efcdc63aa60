"""Strategy: the review's China-versus-West comparison and its recommendations.

These tables carry no date of their own; the data package marks them ``asOfSource``, so the
loader keeps a statement out of editions dated before its source was published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "findings": ("F020", "F031"),
    "policy_events": ("E11",),
}

NOT_DESCRIBED = "Not described in the text"


def comparison(frame: pd.DataFrame) -> pd.DataFrame:
    """The comparison rows sorted by dimension, with whether each side is described."""
    out = frame.sort_values("dimension").reset_index(drop=True).copy()
    out["china_described"] = out["china"].fillna(NOT_DESCRIBED) != NOT_DESCRIBED
    out["west_described"] = out["west"].fillna(NOT_DESCRIBED) != NOT_DESCRIBED
    return out


def comparison_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many dimensions the review describes for China, for the West, and for both."""
    return {
        "n_dimensions": int(len(table)),
        "n_china_described": int(table["china_described"].sum()) if len(table) else 0,
        "n_west_described": int(table["west_described"].sum()) if len(table) else 0,
        "n_both_described": int((table["china_described"] & table["west_described"]).sum()) if len(table) else 0,
    }


def review_strategies(recommendations: pd.DataFrame, source_id: str = "review2025",
                      locator: str = "para 7") -> pd.DataFrame:
    """The strategies the review proposes in its strategy paragraph, by rec_id."""
    mask = (recommendations["source_id"] == source_id) & (recommendations["locator"] == locator)
    frame = recommendations[mask].sort_values("rec_id").reset_index(drop=True).copy()
    frame["example_shown"] = frame["example_or_benchmark"].fillna("(none given)")
    return frame


def other_directions(recommendations: pd.DataFrame, strategies: pd.DataFrame) -> pd.DataFrame:
    """Every other recommendation or outlook, labelled by who makes it."""
    frame = recommendations[~recommendations["rec_id"].isin(strategies["rec_id"])].sort_values("rec_id").copy()
    frame["by"] = ["the review" if s == "review2025" else "regulator (outlook, not the review's advice)"
                   if s == "cde2025briefing" else s for s in frame["source_id"]]
    frame["example_shown"] = frame["example_or_benchmark"].fillna("(none given)")
    return frame.reset_index(drop=True)


def stated_strategy_count(findings: pd.DataFrame, finding_id: str = "F020") -> Any:
    """The number of strategies the review says it proposes (None if the row is not in the edition)."""
    hit = findings[findings["finding_id"] == finding_id]
    return None if hit.empty else int(hit["value"].iloc[0])
