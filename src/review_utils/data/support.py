"""How well each fact row is supported: the tier of its own source and whether other sources
(``corroborating_source_id``) state the same fact. One home for the wording, used by every table
that shows rows and by the Data appendix's shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from review_utils.data.values import is_missing

if TYPE_CHECKING:
    import pandas as pd

TIER_ORDER = ["regulator", "filing_or_company", "peer_reviewed", "news", "secondary"]
TIER_WORDS = {"regulator": "regulator", "filing_or_company": "company filing or release",
              "peer_reviewed": "peer-reviewed", "news": "news", "secondary": "secondary"}
LOW_TIERS = ("news", "secondary")


def support_of(frame: pd.DataFrame, sources: pd.DataFrame, source_column: str = "source_id",
               corroborating_column: str = "corroborating_source_id") -> pd.Series:
    """Per row: 'regulator', 'peer-reviewed, corroborated', 'single news source', ... (empty where
    the row has no source). A row resting on one news or secondary source says so in words."""
    tiers = dict(zip(sources["source_id"], sources["tier"]))

    def label(source: object, others: object) -> str:
        if is_missing(source):
            return ""
        tier = tiers.get(str(source))
        words = TIER_WORDS.get(str(tier), "tier not recorded")
        corroborated = not is_missing(others) and str(others).strip() != ""
        if corroborated:
            return f"{words}, corroborated"
        return f"single {words} source" if tier in LOW_TIERS else words

    import pandas as pd

    others = frame[corroborating_column] if corroborating_column in frame.columns else [None] * len(frame)
    return pd.Series([label(s, o) for s, o in zip(frame[source_column], others)], index=frame.index, dtype="string")


def with_support(frame: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``source_shown`` column: :func:`support_of` for each row."""
    out = frame.copy()
    out["source_shown"] = support_of(out, sources) if len(out) else []
    return out


def tier_shares(tables: dict[str, pd.DataFrame], sources: pd.DataFrame, resources: list[str]) -> pd.DataFrame:
    """Fact rows by the tier of their own source: rows, share, and how many are corroborated."""
    import pandas as pd

    tiers = dict(zip(sources["source_id"], sources["tier"]))
    rows = []
    for name in resources:
        frame = tables.get(name)
        if frame is None or "source_id" not in frame.columns:
            continue
        others = frame["corroborating_source_id"] if "corroborating_source_id" in frame.columns else pd.Series(pd.NA, index=frame.index)
        for source, other in zip(frame["source_id"], others):
            rows.append({"tier": tiers.get(str(source), "unknown"),
                         "corroborated": not is_missing(other) and str(other).strip() != ""})
    facts = pd.DataFrame(rows, columns=["tier", "corroborated"])
    total = len(facts)
    out = []
    for tier in [*TIER_ORDER, "unknown"]:
        part = facts[facts["tier"] == tier]
        if tier == "unknown" and part.empty:
            continue
        out.append({"tier": TIER_WORDS.get(tier, tier), "rows": int(len(part)),
                    "share": round(100 * len(part) / total, 1) if total else 0.0,
                    "corroborated": int(part["corroborated"].sum())})
    return pd.DataFrame(out, columns=["tier", "rows", "share", "corroborated"])
