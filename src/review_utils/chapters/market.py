"""China in the global CGT market: trial shares, licensing-deal shares, acquisitions, funding.

Figures keep the wording of their source: 'over 50 %' is stored as value 50 with qualifier
'over', and :func:`review_utils.render.text.stated` writes it back the same way for tables and prose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from review_utils.data.values import is_missing
from review_utils.render.text import NOT_IN_EDITION as MISSING
from review_utils.render.text import dated, money, stated

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "market_figures": ("MF01", "MF02", "MF03", "MF14", "MF17", "MF18", "MF21", "MF22", "MF23"),
}


# Rows of data/market_figures.csv shown in each part of the chapter (stable keys).
TRIAL_FIGURES = ("MF01", "MF02", "MF03", "MF17", "MF18")
DEAL_SHARE_METRIC = "share of in-licensed/acquired biotech compounds from Chinese developers"
ACQUISITION_FIGURES = ("MF21", "MF22")
FUNDING_FIGURES = ("MF23",)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``value_shown`` (value + qualifier + unit) and ``date_shown`` to market rows."""
    frame = frame.copy()
    frame["value_shown"] = [stated(r.value, r.value_low, r.value_high, r.qualifier, r.unit, number=money)
                            for r in frame.itertuples()]
    frame["date_shown"] = [dated(d, p) for d, p in zip(frame["as_of_date"], frame["date_precision"])]
    return frame


def with_checks(market: pd.DataFrame, verdicts: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Market rows with the kind of their source and the audit's status for the same figure.

    ``verdicts`` is :func:`review_utils.chapters.shared.audit.audit`'s table; a claim checks a figure when it has
    the same source, stated value and unit (the first such claim by key). ``source_kind`` comes
    from data/sources.csv.
    """
    frame = shown(market)
    checks = verdicts.dropna(subset=["stated_value"]).sort_values("claim_id")
    lookup: dict[tuple, str] = {}
    for row in checks.itertuples():
        lookup.setdefault((row.source_id, float(row.stated_value), row.unit), f"{row.status_label} ({row.claim_id})")
    frame["check"] = [lookup.get((r.source_id, float(r.value), r.unit), "not checked") if not is_missing(r.value) else "not checked"
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
    return stated(row["value"], row["value_low"], row["value_high"], row["qualifier"], row["unit"], number=money)


def deal_shares(market: pd.DataFrame) -> pd.DataFrame:
    """Share of in-licensed/acquired compounds from Chinese developers, one row per year, oldest first."""
    import pandas as pd

    part = market[market["metric"] == DEAL_SHARE_METRIC].copy()
    part["year"] = pd.to_datetime(part["as_of_date"]).dt.year.astype("Int64")
    return shown(part.dropna(subset=["year"]).sort_values(["year", "figure_id"]).reset_index(drop=True))


def deal_share_figure(shares: pd.DataFrame) -> Figure:
    """Bars for the years a share is stated; years in between are marked 'not given', never 0."""
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

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
