"""Efficacy of CAR-T products in China beside global benchmarks: table, forest plot, headline
ranges, and the review's own efficacy claims set against the public record.

Works on ``data/efficacy.csv`` (joined to ``data/products.csv`` for the target). Intervals come
from :mod:`review_utils.chapters.shared.stats`; a count is never inferred from a rounded percentage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared import stats
from review_utils.chapters.shared.results import (  # noqa: F401 - part of this chapter's API
    DISEASE_ORDER,
    DISEASE_RULES,
    ENDPOINT_LABEL,
    FAMILY,
    FAMILY_LABEL,
    FAMILY_ORDER,
    REGION_ORDER,
    REGION_STYLE,
    REVIEW_SOURCE,
    TIME_TO_EVENT,
    TIME_TO_EVENT_MEDIAN,
    disease,
    interval_shown,
    prepare,
    short_name,
    value_of,
    value_shown,
)
from review_utils.render.figures import MARKERS, OKABE_ITO, placeholder

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "efficacy": ("R14", "R16", "R18", "R19", "R21", "R22", "R24", "R31", "R32", "R33"),
}


CLAIM_CHECKS = [
    ("R31", "R19"), ("R31", "R21"), ("R31", "R22"),
    ("R32", "R14"), ("R32", "R24"),
    ("R33", "R16"), ("R33", "R18"),
]


def results(prepared: pd.DataFrame) -> pd.DataFrame:
    """Trial results (the review's own claims left out)."""
    return prepared[~prepared["is_claim"]].reset_index(drop=True)


# The forest plot is drawn in two figures so that each fits a printed page.
FOREST_PANELS = {
    "lymphoma": ["B-cell lymphoma", "FL", "MCL"],
    "leukaemia_myeloma": [d for d in DISEASE_ORDER if d not in ("B-cell lymphoma", "FL", "MCL")],
}


def forest_rows(prepared: pd.DataFrame, diseases: list[str] | None = None) -> pd.DataFrame:
    """Rows the forest plot shows: trial results that are percentages (not medians, not claims),
    optionally only for ``diseases``."""
    keep = (~prepared["is_claim"]) & (prepared["unit"] == "percent") & prepared["family"].isin(["response", "complete", "pfs_rate"])
    if diseases is not None:
        keep &= prepared["disease"].isin(diseases)
    return prepared[keep & prepared["value"].notna()].reset_index(drop=True)


def forest_plot(rows: pd.DataFrame) -> Figure:
    """One row per result, grouped by disease and endpoint family; China and global differ by
    colour and marker; filled marker + bar = exact 95 % CI from a known count; open marker =
    percentage only (a dotted bar when the source reports its own interval)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if rows.empty:
        return placeholder()
    layout: list[tuple[str, Any]] = []  # ("header", text) or ("row", record)
    for (dis, fam), group in rows.groupby(["disease", "family"], sort=False):
        layout.append(("header", f"{dis}: {FAMILY_LABEL.get(fam, fam)}"))
        layout += [("row", r) for _, r in group.iterrows()]
    legend_height = 0.75
    height = 0.9 + legend_height + 0.2 * len(layout)
    fig, ax = plt.subplots(figsize=(7.5, height))
    labels = []
    for y, (kind, item) in enumerate(layout):
        if kind == "header":
            labels.append("")
            ax.text(-0.01, y, item, transform=ax.get_yaxis_transform(), ha="right", va="center",
                    fontsize=8, fontweight="bold")
            ax.axhline(y, color="#dddddd", linewidth=0.6, zorder=0)
            continue
        row = item
        colour, marker = REGION_STYLE.get(row["region"], (OKABE_ITO[7], MARKERS[2]))
        n_text = f", n = {int(row['n'])}" if not stats.is_missing(row["n"]) else ""
        labels.append(f"{row['result_id']} {row['short_name']}, {row['endpoint_label']}{n_text}")
        known = not stats.is_missing(row["cp_low"])
        if known:
            ax.plot([row["cp_low"], row["cp_high"]], [y, y], color=colour, linewidth=1.6, zorder=2)
        elif not stats.is_missing(row["ci_low"]) and not stats.is_missing(row["ci_high"]):
            ax.plot([row["ci_low"], row["ci_high"]], [y, y], color=colour, linewidth=1.2, linestyle=":", zorder=2)
        ax.scatter([row["value"]], [y], marker=marker, s=36, zorder=3, linewidth=1.3,
                   facecolor=colour if known else "white", edgecolor=colour)
    ax.set_yticks(range(len(layout)), labels, fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(layout) - 0.5, -0.7)
    ax.set_xlim(0, 103)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("Patients with the outcome (%)", fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="y", visible=False)
    handles = []
    for region in REGION_ORDER:  # two legend columns: China, then global
        colour, marker = REGION_STYLE[region]
        name = "China" if region == "China" else "Global benchmark"
        handles.append(Line2D([], [], color=colour, marker=marker, markerfacecolor=colour, linewidth=1.6,
                              label=f"{name}: exact 95 % CI from n and count"))
        handles.append(Line2D([], [], color=colour, marker=marker, markerfacecolor="white", linewidth=0,
                              label=f"{name}: percentage only, no interval"))
        if region == "China":
            handles.append(Line2D([], [], color="#555555", linestyle=":", linewidth=1.2,
                                  label="95 % CI as reported by the source (no count)"))
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, legend_height / height, 1, 1))
    return fig


def _range_text(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "no result in this edition"
    low, high = float(values.min()), float(values.max())
    return f"{low:g} %" if low == high else f"{low:g}–{high:g} %"


def headline(prepared: pd.DataFrame) -> dict[str, Any]:
    """Counts and ranges the prose quotes (response-family percentages of trial results)."""
    res = results(prepared)
    response = res[(res["family"] == "response") & (res["unit"] == "percent")]
    china = response[response["region"] == "China"]
    glob = response[response["region"] == "global"]
    shown = forest_rows(prepared)
    out: dict[str, Any] = {
        "n_results": int(len(res)),
        "n_china": int((res["region"] == "China").sum()),
        "n_global": int((res["region"] == "global").sum()),
        "n_forest": int(len(shown)),
        "n_stated": int((shown["count_basis"] == stats.STATED).sum()),
        "n_derived": int((shown["count_basis"] == stats.DERIVED).sum()),
        "n_percent_only": int((shown["count_basis"] == stats.PERCENT_ONLY).sum()),
        "n_time_to_event": int((shown["count_basis"] == TIME_TO_EVENT).sum()),
        "n_source_ci_only": int((shown["cp_low"].isna() & shown["ci_low"].notna()).sum()),
        "n_claims": int(prepared["is_claim"].sum()),
    }
    for key, part in (("cd19_china", china[china["target"].fillna("").str.startswith("CD19")]),
                      ("bcma_china", china[china["target"] == "BCMA"]),
                      ("lymphoma_global", glob[glob["disease"] == "B-cell lymphoma"]),
                      ("ball_global", glob[glob["disease"] == "B-ALL"]),
                      ("mm_global", glob[glob["disease"] == "Multiple myeloma"])):
        out[f"orr_{key}"] = _range_text(part["value"])
        out[f"n_orr_{key}"] = int(part["value"].notna().sum())
    return out


def _reading(claim: Any, record: Any) -> str:
    parts = []
    if claim["qualifier"] == "range":
        low, high = float(claim["value_low"]), float(claim["value_high"])
        inside = low <= float(record["value"]) <= high
        parts.append("inside the claimed range" if inside else "outside the claimed range")
    else:
        diff = float(record["value"]) - float(claim["value"])
        if abs(diff) < 1e-9:
            parts.append("same number")
        else:
            parts.append(f"differs by {abs(diff):g} percentage points")
    if claim["endpoint"] != record["endpoint"]:
        parts.append(f"endpoint differs ({claim['endpoint_label']} vs {record['endpoint_label']})")
    claim_reg, record_reg = claim["registration_id"], record["registration_id"]
    if not stats.is_missing(record_reg) and not stats.is_missing(claim_reg) and claim_reg != record_reg:
        parts.append(f"registration differs ({claim_reg} vs {record_reg})")
    claim_product = "" if stats.is_missing(claim["product_id"]) else claim["product_id"]
    if not stats.is_missing(record["product_id"]) and claim_product and claim_product != record["product_id"]:
        parts.append(f"different product ({record['short_name']})")
    return "; ".join(parts)


def claim_checks(prepared: pd.DataFrame) -> pd.DataFrame:
    """The review's efficacy claims beside the public results they are compared with; only pairs
    whose two rows are both known at the edition date."""
    import pandas as pd

    by_id = prepared.set_index("result_id")
    rows = []
    for claim_id, record_id in CLAIM_CHECKS:
        if claim_id not in by_id.index or record_id not in by_id.index:
            continue
        claim, record = by_id.loc[claim_id], by_id.loc[record_id]
        rows.append({
            "claim_id": claim_id,
            "claim_what": f"{claim['trial']}: {claim['endpoint_label']}",
            "claim_value": claim["value_shown"],
            "record_id": record_id,
            "record_what": f"{record['short_name']}, {record['trial']}: {record['endpoint_label']}",
            "record_value": record["value_shown"],
            "reading": _reading(claim, record),
            "claim_registration": claim["registration_id"],
            "record_registration": record["registration_id"],
            "claim_source_id": claim["source_id"],
            "claim_locator": claim["locator"],
            "record_source_id": record["source_id"],
            "record_locator": record["locator"],
            "claim_note": claim["note"],
        })
    columns = ["claim_id", "claim_what", "claim_value", "record_id", "record_what", "record_value", "reading",
               "claim_registration", "record_registration", "claim_source_id", "claim_locator",
               "record_source_id", "record_locator", "claim_note"]
    return pd.DataFrame(rows, columns=columns)
