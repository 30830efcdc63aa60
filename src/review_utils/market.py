"""China in the global CGT market: trial shares, licensing-deal shares, acquisitions, funding.

Figures keep the wording of their source: 'over 50 %' is stored as value 50 with qualifier
'over', and :func:`format_quantity` writes it back the same way for tables and prose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

MISSING = "not available as of the edition date"

QUALIFIER_WORDS = {
    "exact": "", "about": "about", "over": "over", "under": "under", "at_least": "at least",
    "nearly": "nearly", "up_to": "up to", "range": "",
}

# Rows of data/market_figures.csv shown in each part of the chapter (stable keys).
TRIAL_FIGURES = ("MF01", "MF02", "MF03", "MF17", "MF18")
DEAL_SHARE_METRIC = "share of in-licensed/acquired biotech compounds from Chinese developers"
ACQUISITION_FIGURES = ("MF21", "MF22")
FUNDING_FIGURES = ("MF23",)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value) in ("nan", "<NA>", "NaT")


def format_number(value: float, unit: str) -> str:
    """One number in its unit: '50 %', '2,000', 'US$1.2 billion', 'CNY 1 million', '30 days'."""
    if unit == "percent":
        return f"{value:g} %"
    if unit in ("USD", "CNY"):
        prefix = "US$" if unit == "USD" else "CNY "
        for size, word in ((1e9, "billion"), (1e6, "million")):
            if abs(value) >= size:
                return f"{prefix}{value / size:.1f} {word}"
        return f"{prefix}{value:,.0f}"
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit in ("count", "", None):
        return number
    if unit in ("year", "rank"):
        return f"{value:.0f}"
    if float(value) == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{number} {unit}"


def format_quantity(value: Any, qualifier: Any, unit: str, value_low: Any = None, value_high: Any = None) -> str:
    """A stated quantity with its qualifier, as the source words it.

    >>> format_quantity(50, "over", "percent")
    'over 50 %'
    >>> format_quantity(None, "range", "percent", 40, 60)
    '40–60 %'
    """
    qualifier = "exact" if _missing(qualifier) else str(qualifier)
    if qualifier not in QUALIFIER_WORDS:
        raise ValueError(f"unknown qualifier {qualifier!r}")
    if qualifier == "range" or (_missing(value) and not _missing(value_low) and not _missing(value_high)):
        if _missing(value_low) or _missing(value_high):
            raise ValueError("a range needs value_low and value_high")
        low, high = format_number(float(value_low), unit), format_number(float(value_high), unit)
        if unit == "percent":
            low = low.removesuffix(" %")
        return f"{low}–{high}"
    if _missing(value):
        raise ValueError("no value to format")
    word = QUALIFIER_WORDS[qualifier]
    text = format_number(float(value), unit)
    return f"{word} {text}" if word else text


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``value_shown`` (value + qualifier + unit) and ``date_shown`` to market rows."""
    frame = frame.copy()
    frame["value_shown"] = [format_quantity(r.value, r.qualifier, r.unit, r.value_low, r.value_high)
                            for r in frame.itertuples()]
    frame["date_shown"] = [date_shown(d, p) for d, p in zip(frame["as_of_date"], frame["date_precision"])]
    return frame


def date_shown(when: Any, precision: Any) -> str:
    """'2024' for a year, '2025-06' for a month, 'by 2025-09-16' for an upper bound, '' if undated."""
    if _missing(when):
        return "undated"
    fmt = {"year": "%Y", "month": "%Y-%m", "quarter": "%Y-%m-%d"}.get(str(precision), "%Y-%m-%d")
    text = when.strftime(fmt)
    return f"by {text}" if precision == "not_later_than" else text


def with_checks(market: pd.DataFrame, verdicts: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Market rows with the kind of their source and the audit's status for the same figure.

    ``verdicts`` is :func:`review_utils.audit.audit`'s table; a claim checks a figure when it has
    the same source, stated value and unit (the first such claim by key). ``source_kind`` comes
    from data/sources.csv.
    """
    frame = shown(market)
    checks = verdicts.dropna(subset=["stated_value"]).sort_values("claim_id")
    lookup: dict[tuple, str] = {}
    for row in checks.itertuples():
        lookup.setdefault((row.source_id, float(row.stated_value), row.unit), f"{row.status_label} ({row.claim_id})")
    frame["check"] = [lookup.get((r.source_id, float(r.value), r.unit), "not checked") if not _missing(r.value) else "not checked"
                      for r in frame.itertuples()]
    kinds = dict(zip(sources["source_id"], sources["kind"]))
    frame["source_kind"] = frame["source_id"].map(kinds).str.replace("_", " ")
    return frame


def select(frame: pd.DataFrame, ids: tuple[str, ...]) -> pd.DataFrame:
    """The rows with these figure ids, in the given order (rows absent in this edition are skipped)."""
    order = {fid: i for i, fid in enumerate(ids)}
    part = frame[frame["figure_id"].isin(ids)].copy()
    part["_order"] = part["figure_id"].map(order)
    return part.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def value_of(frame: pd.DataFrame, figure_id: str) -> str:
    """The worded value of one figure for the prose, or a note that the edition lacks it."""
    part = frame[frame["figure_id"] == figure_id]
    if part.empty:
        return MISSING
    row = part.iloc[0]
    return format_quantity(row["value"], row["qualifier"], row["unit"], row["value_low"], row["value_high"])


def deal_shares(market: pd.DataFrame) -> pd.DataFrame:
    """Share of in-licensed/acquired compounds from Chinese developers, one row per year, oldest first."""
    import pandas as pd

    part = market[market["metric"] == DEAL_SHARE_METRIC].copy()
    part["year"] = pd.to_datetime(part["as_of_date"]).dt.year.astype("Int64")
    return shown(part.dropna(subset=["year"]).sort_values(["year", "figure_id"]).reset_index(drop=True))


def deal_share_figure(shares: pd.DataFrame) -> Figure:
    """Bars for the years a share is stated; years in between are marked 'not given', never 0."""
    import matplotlib.pyplot as plt

    from .figures import OKABE_ITO, placeholder

    if shares.empty:
        return placeholder("No deal-share figures as of the edition date")
    years = list(range(int(shares["year"].min()), int(shares["year"].max()) + 1))
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    top = float(shares["value"].max())
    for i, year in enumerate(years):
        row = shares[shares["year"] == year]
        if row.empty:
            ax.text(i, top * 0.05, "not given", ha="center", va="bottom", fontsize=9, color="#555555")
            continue
        value = float(row["value"].iloc[0])
        ax.bar(i, value, width=0.6, color=OKABE_ITO[0], edgecolor="black", linewidth=0.6, hatch="//")
        ax.text(i, value, row["value_shown"].iloc[0], ha="center", va="bottom", fontsize=10)
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.set_xlim(-0.8, len(years) - 0.2)
    ax.set_ylim(0, top * 1.25)
    ax.set_ylabel("Share of compounds (%)")
    ax.set_xlabel("Year of the deals")
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def series_text(shares: pd.DataFrame) -> str:
    """The stated shares in year order for the prose: '12 % (2022), 33 % (2024)'."""
    if shares.empty:
        return MISSING
    return ", ".join(f"{row.value_shown} ({row.year})" for row in shares.itertuples())
