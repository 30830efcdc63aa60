"""The development pipeline (the regulator's figure 1), IND reviews and reasons for non-clearance.

The regulator's briefing shows a therapy type x stage chart but its text gives only some of the
cells. Cells the text does not give are *not given*: they are never shown as 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from review_utils.render import charts
from review_utils.render.text import NOT_IN_EDITION as MISSING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "claims": ("C055",),
    "findings": ("F032", "F033"),
    "ind_reviews": ("I01", "I02"),
}

NOT_GIVEN = "not given"

# The regulator's categories, in the order of its figure 1 (as listed in the briefing).
THERAPY_TYPES = ["CAR-T", "CAR-NK", "TCR-T", "other somatic cell", "stem cell", "gene therapy",
                 "oncolytic microorganism", "therapeutic vaccine"]
STAGES = {
    "ind_under_review": "IND under review",
    "ind_cleared_not_started": "IND cleared, trial not started",
    "exploratory": "Exploratory trials",
    "confirmatory": "Confirmatory trials",
    "nda_under_review": "NDA under review",
    "approved": "Approved",
}


# ----------------------------------------------------------------------------- pipeline
def stage_cells(stages: pd.DataFrame) -> pd.DataFrame:
    """Every therapy type x stage cell of figure 1, one row per cell, in figure order.

    ``count`` is the stated number or missing (``<NA>``); ``given`` says which. A source may
    state the same cell twice; the cells keep every source (one row each).
    """
    import pandas as pd

    grid = pd.DataFrame([(t, s) for t in THERAPY_TYPES for s in STAGES], columns=["therapy_type", "stage"])
    keep = ["therapy_type", "stage", "count", "as_of_date", "source_id", "locator", "note"]
    cells = grid.merge(stages[keep], on=["therapy_type", "stage"], how="left", validate="one_to_many")
    cells["count"] = cells["count"].astype("Int64")
    cells["given"] = cells["count"].notna()
    cells["stage_label"] = cells["stage"].map(STAGES)
    cells["shown"] = [str(int(c)) if g else NOT_GIVEN for c, g in zip(cells["count"], cells["given"])]
    order_t = {t: i for i, t in enumerate(THERAPY_TYPES)}
    order_s = {s: i for i, s in enumerate(STAGES)}
    cells = cells.assign(_t=cells["therapy_type"].map(order_t), _s=cells["stage"].map(order_s))
    return cells.sort_values(["_t", "_s", "source_id"], na_position="last").drop(columns=["_t", "_s"]).reset_index(drop=True)


def stage_matrix(cells: pd.DataFrame) -> pd.DataFrame:
    """Therapy types as rows, stages as columns, cells as text ('72' or 'not given').

    Also ``source_id``: the one source of the row's given cells (empty when none is given),
    so that a table of the matrix cites what it shows.
    """
    import pandas as pd

    rows = []
    for therapy in THERAPY_TYPES:
        part = cells[cells["therapy_type"] == therapy]
        row: dict[str, Any] = {"therapy_type": therapy}
        for stage, label in STAGES.items():
            shown = part.loc[part["stage"] == stage, "shown"]
            row[label] = " / ".join(shown) if len(shown) else NOT_GIVEN
        ids = sorted(part["source_id"].dropna().unique())
        for k, source in enumerate(ids):
            row[f"src{k}_source_id"] = source
        rows.append(row)
    return pd.DataFrame(rows)


def stage_summary(cells: pd.DataFrame) -> dict[str, Any]:
    """How many cells the text gives, and the sum of the given cells per therapy type."""
    given = cells[cells["given"]]
    sums = given.groupby("therapy_type")["count"].sum()
    return {
        "n_cells": int(len(THERAPY_TYPES) * len(STAGES)),
        "n_cells_given": int(given[["therapy_type", "stage"]].drop_duplicates().shape[0]),
        "n_types_with_cells": int(given["therapy_type"].nunique()),
        "given_sum": {t: int(sums[t]) for t in sums.index},
    }


def cell_value(cells: pd.DataFrame, therapy_type: str, stage: str) -> int | None:
    """The stated count of one cell, or None when the text does not give it."""
    part = cells[(cells["therapy_type"] == therapy_type) & (cells["stage"] == stage) & cells["given"]]
    return int(part["count"].iloc[0]) if len(part) else None


def stage_heatmap(cells: pd.DataFrame) -> Figure:
    """A grid like the regulator's figure 1: shaded and labelled where a count is given,
    hatched grey and labelled 'not given' elsewhere."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.patches import Rectangle

    from review_utils.render.figures import OKABE_ITO, placeholder

    if not cells["given"].any():
        return placeholder("No stage counts as of the edition date")
    cmap = LinearSegmentedColormap.from_list("okabe_blue", ["#FFFFFF", OKABE_ITO[0]])
    top = float(cells.loc[cells["given"], "count"].max())
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for i, therapy in enumerate(THERAPY_TYPES):
        for j, stage in enumerate(STAGES):
            value = cell_value(cells, therapy, stage)
            if value is None:
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor="#EEEEEE", edgecolor="white", hatch="///", linewidth=1.5))
                ax.text(j + 0.5, i + 0.5, NOT_GIVEN, ha="center", va="center", fontsize=8, color="#555555")
            else:
                share = 0.15 + 0.85 * value / top
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor=cmap(share), edgecolor="white", linewidth=1.5))
                ax.text(j + 0.5, i + 0.5, str(value), ha="center", va="center", fontsize=11, fontweight="bold",
                        color="white" if share > 0.55 else "black")
    ax.set_xlim(0, len(STAGES))
    ax.set_ylim(len(THERAPY_TYPES), 0)
    ax.set_xticks([j + 0.5 for j in range(len(STAGES))],
                  [label.replace(", ", ",\n").replace(" trials", "\ntrials").replace(" under", "\nunder")
                   for label in STAGES.values()], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([i + 0.5 for i in range(len(THERAPY_TYPES))], THERAPY_TYPES, fontsize=9)
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- IND reviews
def clearance(ind: pd.DataFrame, *, reviewed_id: str, cleared_id: str) -> dict[str, Any]:
    """INDs cleared out of INDs reviewed, from two rows of ``ind_reviews`` (by key).

    The counts are a census of every application the regulator reviewed, not a sample, so the
    rate is reported as it is, without a sampling confidence interval. Missing rows (for example
    in an early edition) give None throughout.
    """
    rows = ind.set_index("ind_id")
    if reviewed_id not in rows.index or cleared_id not in rows.index:
        return {"reviewed": None, "cleared": None, "not_cleared": None, "rate": None, "period_end": None}
    reviewed, cleared = rows.loc[reviewed_id], rows.loc[cleared_id]
    if reviewed["metric"] != "reviewed" or cleared["metric"] != "cleared":
        raise ValueError(f"{reviewed_id} must count reviewed and {cleared_id} cleared INDs")
    n, k = int(reviewed["count"]), int(cleared["count"])
    if not 0 <= k <= n or n == 0:
        raise ValueError(f"cleared ({k}) must lie between 0 and reviewed ({n})")
    return {"reviewed": n, "cleared": k, "not_cleared": n - k, "rate": k / n,
            "period_end": reviewed["period_end"]}


def percent(rate: float | None, digits: int = 1) -> str:
    """A proportion as a percentage for prose: 0.7229 -> '72.3 %'."""
    if rate is None:
        return MISSING
    return f"{100 * rate:.{digits}f} %"


def ind_table(ind: pd.DataFrame) -> pd.DataFrame:
    """The IND rows for display, all-CGT totals first, then narrower scopes, by key."""
    frame = ind.copy()
    frame["metric_shown"] = frame["metric"].map({"reviewed": "reviewed", "cleared": "cleared"})
    frame["period_shown"] = [d.strftime("%Y-%m-%d") if d == d and d is not None else "" for d in frame["period_end"]]
    return frame.sort_values("ind_id").reset_index(drop=True)


def clearance_figure(result: dict[str, Any]) -> Figure:
    """Two horizontal bars (reviewed, cleared) with the computed rate written beside them."""
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

    if result["reviewed"] is None:
        return placeholder("No IND counts as of the edition date")
    fig, ax = plt.subplots(figsize=(7.5, 2.2))
    labels = ["INDs reviewed", "INDs cleared"]
    values = [result["reviewed"], result["cleared"]]
    bars = ax.barh(labels, values, color=[OKABE_ITO[0], OKABE_ITO[1]], edgecolor="black", linewidth=0.6)
    bars[1].set_hatch("//")
    for bar, value in zip(bars, values):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:,}", va="center", fontsize=10)
    ax.set_xlim(0, result["reviewed"] * 1.35)
    ax.invert_yaxis()
    ax.set_xlabel("Applications (cumulative)")
    ax.text(0.99, 0.5, f"cleared / reviewed\n= {percent(result['rate'])}", transform=ax.transAxes,
            ha="right", va="center", fontsize=10)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def clearance_chart(ind: pd.DataFrame, *, reviewed_id: str, cleared_id: str) -> charts.Chart | None:
    """The interactive version of :func:`clearance_figure`, from the same two ``ind_reviews``
    rows (its data download): hovering a bar gives the count, what it counts, the period end and
    the source. None when a row is missing (the figure then says so)."""
    result = clearance(ind, reviewed_id=reviewed_id, cleared_id=cleared_id)
    if result["reviewed"] is None:
        return None
    shown = ind_table(ind[ind["ind_id"].isin([reviewed_id, cleared_id])])
    shown = shown.assign(bar=["INDs " + m for m in shown["metric_shown"]])
    chart = charts.bars(
        shown, value="count", category="bar", value_title="Applications (cumulative)", category_title="IND applications",
        tooltip={"bar": "Applications", "count": "Number", "scope": "What is counted", "period_shown": "Period end"},
        what="bar")
    labels = {b: f"{c:,}" + (f" ({percent(result['rate'])} cleared)" if m == "cleared" else "")
              for b, c, m in zip(shown["bar"], shown["count"], shown["metric"])}
    chart = charts.with_end_labels(charts.compact_rows(chart), labels, narrow_room=2.4)
    counts = ", ".join(f"{b} ({c:,})" for b, c in zip(shown["bar"], shown["count"]))
    return dataclasses.replace(chart, summary=f"{len(shown)} bars: {counts}; cleared / reviewed = {percent(result['rate'])}.")


# ----------------------------------------------------------------------------- reasons
def reasons_table(reasons: pd.DataFrame) -> pd.DataFrame:
    """Reasons in the order the briefing lists them (by key number), with that order shown."""
    frame = reasons.copy()
    frame["order"] = frame["reason_id"].str.extract(r"(\d+)$")[0].astype(int)
    return frame.sort_values("order").reset_index(drop=True)


# ----------------------------------------------------------------------------- CAR-T "approved"
def cart_approved_statements(cells: pd.DataFrame, findings: pd.DataFrame, verdicts: pd.DataFrame,
                             finding_ids: tuple[str, ...] = ("F032", "F033"),
                             claim_id: str = "C055") -> pd.DataFrame:
    """The regulator's CAR-T 'approved' numbers side by side: the figure-1 cell and the text's
    product and indication counts, with the claims audit's status for the cell
    (``verdicts``: :func:`review_utils.chapters.shared.audit.audit`'s table)."""
    import pandas as pd

    rows = []
    cell = cells[(cells["therapy_type"] == "CAR-T") & (cells["stage"] == "approved") & cells["given"]]
    status = verdicts.loc[verdicts["claim_id"] == claim_id, "status_label"]
    check = f"{claim_id}: {status.iloc[0]}" if len(status) else ""
    for _, row in cell.iterrows():
        rows.append({"statement": "Stage chart, CAR-T row, 'approved' column", "count": int(row["count"]),
                     "what": "not stated (matches the indication count)", "check": check,
                     "source_id": row["source_id"], "locator": row["locator"]})
    for fid in finding_ids:
        part = findings[findings["finding_id"] == fid]
        for _, row in part.iterrows():
            rows.append({"statement": f"Text ({fid})", "count": int(row["value"]), "what": row["quantity"],
                         "check": "", "source_id": row["source_id"], "locator": row["locator"]})
    return pd.DataFrame(rows, columns=["statement", "count", "what", "check", "source_id", "locator"])


def recount_cart(approved: pd.DataFrame, cutoff: dt.date) -> tuple[pd.DataFrame, dict[str, int]]:
    """CAR-T approvals (from :func:`review_utils.chapters.approvals.approved`) dated by ``cutoff``,
    with the number of products and of indications they make."""
    import pandas as pd

    car_t = approved[(approved["modality"] == "CAR-T") & (approved["approval_date"] <= pd.Timestamp(cutoff))]
    car_t = car_t.sort_values(["approval_date", "approval_id"]).reset_index(drop=True)
    return car_t, {"products": int(car_t["product_id"].nunique()), "indications": int(len(car_t))}
