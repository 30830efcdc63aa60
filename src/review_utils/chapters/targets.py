"""Targets and indications of approved CGT products, and the sources' statements on targets."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from review_utils.render import charts
from review_utils.render.text import dated, money, stated

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "ind_reviews": ("I04",),
}

EVIDENCE_LABELS = {
    "clinical": "clinical",
    "preclinical": "preclinical (laboratory or animal)",
    "regulatory": "regulatory data",
    "market": "market report",
    "not_stated": "not stated by the source",
}


def target_group(target: Any) -> str:
    """The target as recorded, without its parenthesised detail: 'CD19 (humanised scFv)' -> 'CD19';
    'not confirmed (CD19 presumed)' -> 'not confirmed'."""
    if target is None or target != target or not str(target).strip():
        return "not recorded"
    return re.split(r"\s*\(", str(target).strip(), maxsplit=1)[0]


def spread_sources(frame: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """Write several source ids of one row into ``src0_source_id``, ``src1_source_id``, ...
    (one id per column, as the caption citation expects)."""
    for k, source in enumerate(ids):
        frame[f"src{k}_source_id"] = source
    return frame


def by_target(approved: pd.DataFrame) -> pd.DataFrame:
    """One row per target group and modality, from an :func:`review_utils.chapters.approvals.approved`
    table: products, indication groups, counts, and every source behind them.

    Sorted by number of approved indications (most first), then target name.
    """
    import pandas as pd

    if approved.empty:
        return pd.DataFrame(columns=["target_group", "modality", "targets_recorded", "products", "indication_groups",
                                     "n_products", "n_indications"])
    frame = approved.assign(target_group=approved["target"].map(target_group))
    rows = []
    for (group, modality), part in frame.groupby(["target_group", "modality"], sort=True):
        sources = sorted(set(part["source_id"].dropna()) | set(part["product_source_id"].dropna()))
        row = {
            "target_group": group,
            "modality": modality,
            "targets_recorded": "; ".join(sorted(part["target"].dropna().unique())),
            "products": ", ".join(sorted(part["product_label"].unique())),
            "indication_groups": ", ".join(sorted(part["indication_group"].dropna().unique())),
            "n_products": int(part["product_id"].nunique()),
            "n_indications": int(len(part)),
        }
        rows.append(spread_sources(row, sources))
    out = pd.DataFrame(rows)
    return out.sort_values(["n_indications", "n_products", "target_group"], ascending=[False, False, True]).reset_index(drop=True)


def target_counts(table: pd.DataFrame, group: str) -> dict[str, int]:
    """Products and indications for one target group (0 when absent), summed over modalities."""
    part = table[table["target_group"] == group] if len(table) else table
    return {"products": int(part["n_products"].sum()) if len(part) else 0,
            "indications": int(part["n_indications"].sum()) if len(part) else 0}


def target_figure(table: pd.DataFrame) -> Figure:
    """Horizontal bars: approved indications per target, coloured and hatched by modality,
    labelled with the number of products."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from review_utils.render.figures import OKABE_ITO, placeholder

    if table.empty:
        return placeholder("No approved products as of the edition date")
    hatches = ["", "//", "xx", "..", "\\\\", "++", "oo", "--"]
    modalities = sorted(table["modality"].unique())
    style = {m: (OKABE_ITO[i % len(OKABE_ITO)], hatches[i % len(hatches)]) for i, m in enumerate(modalities)}
    labels = [f"{r.target_group} ({r.modality})" for r in table.itertuples()]
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.42 * len(table)))
    for i, row in enumerate(table.itertuples()):
        colour, hatch = style[row.modality]
        ax.barh(i, row.n_indications, color=colour, hatch=hatch, edgecolor="black", linewidth=0.6)
        noun = "product" if row.n_products == 1 else "products"
        ax.text(row.n_indications, i, f"  {row.n_products} {noun}", va="center", fontsize=8)
    ax.set_yticks(range(len(table)), labels, fontsize=8)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlim(0, table["n_indications"].max() * 1.35)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("Approved indications")
    ax.grid(axis="y", visible=False)
    ax.legend(handles=[Patch(facecolor=style[m][0], hatch=style[m][1], edgecolor="black", label=m) for m in modalities],
              title="Modality", fontsize=8, title_fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


def target_chart(approved: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`target_figure`, from the same approved indications (its
    data download): a bar per target and modality (in :func:`by_target` order), one segment per
    approved indication; hovering names the product, the indication, the target as recorded, the
    approval date and the source; the legend filters modalities."""
    order = by_target(approved)
    labels = [f"{g} ({m})" for g, m in zip(order["target_group"], order["modality"])]
    frame = approved.assign(target_group=approved["target"].map(target_group))
    frame = frame.assign(bar=[f"{g} ({m})" for g, m in zip(frame["target_group"], frame["modality"])], count=1,
                         date_shown=[dated(d, p) for d, p in zip(frame["approval_date"], frame["date_precision"])])
    frame["_place"] = frame["bar"].map({label: i for i, label in enumerate(labels)})
    frame = frame.sort_values(["_place", "approval_date", "approval_id"]).reset_index(drop=True)
    chart = charts.bars(
        frame, value="count", category="bar", value_title="Approved indications", category_title="Target (modality)",
        colour="modality", colour_title="Modality", colour_domain=sorted(frame["modality"].dropna().unique()),
        tooltip={"target": "Target as recorded", "modality": "Modality", "product_label": "Product",
                 "indication_group": "Indication", "date_shown": "Approved"},
        what="target")
    if order.empty:
        return chart
    chart = charts.with_end_labels(charts.compact_rows(chart), {label: f"{n} product{'' if n == 1 else 's'}"
                                                                for label, n in zip(labels, order["n_products"])},
                                   room=1.6, narrow_room=2.4)
    top = order.iloc[0]
    leaders = order[order["n_indications"] == top["n_indications"]]
    named = " and ".join(f"{g} ({m})" for g, m in zip(leaders["target_group"], leaders["modality"]))
    noun = "product" if top["n_products"] == 1 else "products"
    singles = int((order["n_products"] == 1).sum())
    return dataclasses.replace(chart, summary=(
        f"{len(order)} targets (by modality) with {len(frame)} approved indications; most: {named} with "
        f"{top['n_indications']} indications" + (f" of {top['n_products']} {noun}" if len(leaders) == 1 else " each")
        + f"; {singles} of the {len(order)} targets have a single product."))


def target_statements(findings: pd.DataFrame, ind: pd.DataFrame, *, topics: tuple[str, ...] = ("antigen_expression",),
                      ind_ids: tuple[str, ...] = ("I04",)) -> pd.DataFrame:
    """Quantitative statements about targets, with their evidence level, as the sources word them."""
    import pandas as pd

    rows = []
    for row in findings[findings["topic"].isin(topics)].sort_values("finding_id").itertuples():
        rows.append({"key": row.finding_id, "statement": row.quantity,
                     "value_shown": stated(row.value, row.value_low, row.value_high, row.qualifier, row.unit, number=money),
                     "evidence": EVIDENCE_LABELS.get(row.evidence_level, row.evidence_level),
                     "source_id": row.source_id, "locator": row.locator, "note": row.note})
    for row in ind[ind["ind_id"].isin(ind_ids)].sort_values("ind_id").itertuples():
        rows.append({"key": row.ind_id, "statement": row.scope,
                     "value_shown": stated(row.count, unit="count", number=money),
                     "evidence": EVIDENCE_LABELS["regulatory"],
                     "source_id": row.source_id, "locator": row.locator, "note": row.note})
    return pd.DataFrame(rows, columns=["key", "statement", "value_shown", "evidence", "source_id", "locator", "note"])
