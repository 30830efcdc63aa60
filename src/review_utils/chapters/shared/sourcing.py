"""How well sourced a row is, in words a referee reads: the tier of its source (data/sources.csv
``tier``) and whether another source corroborates it. A row whose only source is a secondary
page says so ("single secondary source"), so that a chapter never shows it as settled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from review_utils.data.values import is_missing

if TYPE_CHECKING:
    import pandas as pd

TIER_WORDS = {"regulator": "regulator", "filing_or_company": "company or filing", "peer_reviewed": "peer-reviewed",
              "news": "news", "secondary": "secondary"}
LOW_TIERS = {"secondary"}
SINGLE_LOW = "single secondary source"


def source_words(frame: pd.DataFrame, sources: pd.DataFrame, source_column: str = "source_id",
                 corroborating_column: str = "corroborating_source_id") -> list[str]:
    """For each row of ``frame``: its source's tier in words, '+ corroborated' when another source
    states the same, or :data:`SINGLE_LOW` when a secondary page is its only source."""
    tiers = dict(zip(sources["source_id"], sources["tier"]))
    words = []
    for _, row in frame.iterrows():
        tier = tiers.get(row[source_column])
        corroborated = corroborating_column in frame.columns and not is_missing(row[corroborating_column]) \
            and str(row[corroborating_column]).strip() != ""
        if tier in LOW_TIERS and not corroborated:
            words.append(SINGLE_LOW)
        else:
            text = TIER_WORDS.get(tier, "tier not recorded")
            words.append(f"{text}, corroborated" if corroborated else text)
    return words


def with_source_words(frame: pd.DataFrame, sources: pd.DataFrame, **columns: str) -> pd.DataFrame:
    """``frame`` with a ``source_shown`` column (see :func:`source_words`)."""
    out = frame.copy()
    out["source_shown"] = source_words(out, sources, **columns) if len(out) else []
    return out
