"""Approved products joined with their approvals, and the counts the chapters report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared.approved import (  # noqa: F401 - the chapter's API
    approved,
    count_as_of,
    matching_spans,
    product_label,
)
from review_utils.render import charts
from review_utils.render.figures import MARKERS, OKABE_ITO, placeholder
from review_utils.render.markup import sources_in
from review_utils.render.text import dated

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "findings": ("F017", "F032", "F033", "F034", "F035", "F037", "F038"),
    "market_figures": ("MF04", "MF05", "MF06", "MF07", "MF08", "MF09", "MF19"),
}

def summary(table: pd.DataFrame) -> dict[str, Any]:
    """The counts the prose cites, computed from an :func:`approved` table."""
    dates = table["approval_date"]
    return {
        "n_products": int(table["product_id"].nunique()),
        "n_indications": int(len(table)),
        "n_domestic_products": int(table.loc[table["origin"] == "domestic", "product_id"].nunique()),
        "n_imported_products": int(table.loc[table["origin"] == "imported", "product_id"].nunique()),
        "n_conditional": int((table["approval_type"] == "conditional").sum()),
        "n_full": int((table["approval_type"] == "full").sum()),
        "n_type_not_stated": int((table["approval_type"] == "not_stated").sum()),
        "n_date_bounds": int((table["date_precision"] == "not_later_than").sum()),
        "first_approval": dated(dates.iloc[0], table["date_precision"].iloc[0]) if len(table) else "none",
        "latest_approval": dated(dates.iloc[-1], table["date_precision"].iloc[-1]) if len(table) else "none",
    }



# The wider cell and gene therapy (CGT) landscape --------------------------------------------

MODALITY_ORDER = ["CAR-T", "stem cell", "gene therapy", "small nucleic acid", "oncolytic virus", "other"]
ORIGIN_ORDER = ["domestic", "imported"]
TYPE_ORDER = ["conditional", "full", "not_stated"]


def ordered(values: Any, order: list[str]) -> list[str]:
    """The distinct values present, in ``order`` first, then any others alphabetically."""
    present = {str(v) for v in values if v == v and v is not None}
    return [v for v in order if v in present] + sorted(present - set(order))


def cited_columns(frame: pd.DataFrame, groups: list[list[str]], prefix: str = "cited") -> pd.DataFrame:
    """Add ``<prefix>_<n>_source_id`` columns so that an aggregated row cites every source
    behind it (one id per cell, padded with empty cells; :func:`review_utils.render.markup.sources_in` reads them)."""
    frame = frame.copy()
    width = max((len(g) for g in groups), default=0)
    for i in range(width):
        frame[f"{prefix}_{i + 1}_source_id"] = [g[i] if i < len(g) else None for g in groups]
    return frame


def landscape_by(table: pd.DataFrame, by: str, order: list[str] | None = None) -> pd.DataFrame:
    """Counts per value of ``by`` from an :func:`approved` table: products, indications,
    products by origin and indications by approval type, with every source behind each row."""
    import pandas as pd

    keys = ordered(table[by], order or []) if len(table) else []
    records, groups = [], []
    for key in keys:
        rows = table[table[by].astype(str) == key].sort_values(["approval_date", "approval_id"])
        counts = summary(rows)  # one definition of what each count means
        records.append({
            by: key,
            "products": counts["n_products"],
            "indications": counts["n_indications"],
            "domestic": counts["n_domestic_products"],
            "imported": counts["n_imported_products"],
            "conditional": counts["n_conditional"],
            "full": counts["n_full"],
            "not_stated": counts["n_type_not_stated"],
            "first_approval": counts["first_approval"],
        })
        groups.append(sources_in([rows]))
    columns = [by, "products", "indications", "domestic", "imported", "conditional", "full", "not_stated",
               "first_approval"]
    return cited_columns(pd.DataFrame(records, columns=columns), groups)


def landscape_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Counts for the prose about all approved CGT products (an :func:`approved` table)."""
    counts = summary(table)
    n = counts["n_indications"]
    counts.update({
        "n_modalities": int(table["modality"].nunique()),
        "n_targets": int(table["target"].nunique()),
        "n_indication_groups": int(table["indication_group"].nunique()),
        "share_type_not_stated": (counts["n_type_not_stated"] / n) if n else 0.0,
        "n_non_cart_products": int(table.loc[table["modality"] != "CAR-T", "product_id"].nunique()),
    })
    return counts


def landscape_figure(table: pd.DataFrame):
    """Two panels sharing the modality axis: products split by origin (left) and approved
    indications split by approval type (right). Colour, hatch and legend tell the parts apart."""
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

    if table.empty:
        return placeholder()
    modalities = ordered(table["modality"], MODALITY_ORDER)
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 1.4 + 0.42 * len(modalities)), sharey=True)
    panels = [
        (axes[0], "origin", ORIGIN_ORDER, True, "Products", "Products by origin"),
        (axes[1], "approval_type", TYPE_ORDER, False, "Approved indications", "Indications by approval type"),
    ]
    # fixed colour and hatch per category, so a category looks the same in every edition
    styles = {"domestic": (OKABE_ITO[0], ""), "imported": (OKABE_ITO[1], "///"),
              "conditional": (OKABE_ITO[2], ""), "full": (OKABE_ITO[4], ".."), "not_stated": ("#BBBBBB", "///")}
    for ax, column, order, by_product, xlabel, title in panels:
        parts = ordered(table[column], order)
        left = [0] * len(modalities)
        for j, part in enumerate(parts):
            rows = table[table[column] == part]
            if by_product:
                sizes = [rows.loc[rows["modality"] == m, "product_id"].nunique() for m in modalities]
            else:
                sizes = [int((rows["modality"] == m).sum()) for m in modalities]
            colour, hatch = styles.get(part, (OKABE_ITO[(j + 5) % len(OKABE_ITO)], "xx"))
            ax.barh(range(len(modalities)), sizes, left=left, color=colour, hatch=hatch,
                    edgecolor="#333333", linewidth=0.6, label=part.replace("_", " "), zorder=3)
            left = [a + b for a, b in zip(left, sizes)]
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_title(title, fontsize=9)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="y", visible=False)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22 - 0.3 / len(modalities)), ncol=len(parts),
                  fontsize=8, frameon=False, handlelength=1.5, columnspacing=1.0)
    axes[0].set_yticks(range(len(modalities)), modalities)
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


LANDSCAPE_PARTS = {  # legend entry and colour (the static figure's) for each part of a bar
    ("products", "domestic"): ("developed in China", OKABE_ITO[0]),
    ("products", "imported"): ("licensed or imported", OKABE_ITO[1]),
    ("indications", "conditional"): ("conditional approval", OKABE_ITO[2]),
    ("indications", "full"): ("full approval", OKABE_ITO[4]),
    ("indications", "not_stated"): ("approval type not stated", "#BBBBBB"),
}
LANDSCAPE_BARS = {"products": "Products", "indications": "Approved indications"}


def landscape_chart(table: pd.DataFrame) -> charts.Chart:
    """The interactive landscape: the same :func:`approved` rows as :func:`landscape_figure`, one
    segment per product (products bar, by origin) and one per approved indication (indications
    bar, by approval type) in each therapy class; hovering a segment names the product, its
    indications or indication, the approval date and the source; the legend filters the parts."""
    import pandas as pd

    frame = table.sort_values(["approval_date", "approval_id"]).reset_index(drop=True)
    modalities = ordered(frame["modality"], MODALITY_ORDER)
    rows = []
    for modality in modalities:
        part = frame[frame["modality"].astype(str) == modality]
        for product_id, approvals in part.groupby("product_id", sort=False):
            first = approvals.iloc[0]
            rows.append({"modality": modality, "bar": LANDSCAPE_BARS["products"], "count": 1,
                         "part": _landscape_part("products", first["origin"]), "product_id": product_id,
                         "approval_id": None, "product_label": first["product_label"],
                         "indication_shown": ", ".join(dict.fromkeys(approvals["indication_group"].dropna())),
                         "date_shown": "first indication " + dated(first["approval_date"], first["date_precision"]),
                         "source_id": first["product_source_id"]})
        for row in part.itertuples():
            rows.append({"modality": modality, "bar": LANDSCAPE_BARS["indications"], "count": 1,
                         "part": _landscape_part("indications", row.approval_type), "product_id": row.product_id,
                         "approval_id": row.approval_id, "product_label": row.product_label,
                         "indication_shown": row.indication_group,
                         "date_shown": dated(row.approval_date, row.date_precision), "source_id": row.source_id})
    chart_rows = pd.DataFrame(rows, columns=["modality", "bar", "count", "part", "product_id", "approval_id",
                                             "product_label", "indication_shown", "date_shown", "source_id"])
    return charts.compact_rows(charts.grouped_bars(
        chart_rows, value="count", category="modality", group="bar", value_title="Number",
        category_title="Therapy class", group_title="Counted", colour="part", colour_title="Origin or approval type",
        colour_domain=[label for label, _ in LANDSCAPE_PARTS.values()],
        colour_range=[colour for _, colour in LANDSCAPE_PARTS.values()],
        group_domain=list(LANDSCAPE_BARS.values()),
        tooltip={"modality": "Therapy class", "part": "Counted as", "product_label": "Product",
                 "indication_shown": "Indication", "date_shown": "Approved"},
        what="therapy class"))


def _landscape_part(bar: str, value: Any) -> str:
    key = (bar, value if isinstance(value, str) and value else "not_stated")
    if key in LANDSCAPE_PARTS:
        return LANDSCAPE_PARTS[key][0]
    return str(key[1]).replace("_", " ")


# Counts stated in the sources against the count recomputed from the data ----------------------

# What each stated count counts. Keys are row ids in data/findings.csv (F...) and
# data/market_figures.csv (MF...); values: modality (None = every CGT product), what is counted
# ("products" or "indications"), and optional origin / approval type filters.
STATED_COUNTS: dict[str, dict[str, Any]] = {
    "F017": {"modality": "CAR-T", "unit": "products", "origin": "domestic"},
    "F032": {"modality": "CAR-T", "unit": "products"},
    "F033": {"modality": "CAR-T", "unit": "indications"},
    "F034": {"modality": "CAR-T", "unit": "indications", "approval_type": "conditional"},
    "F035": {"modality": "CAR-T", "unit": "indications", "approval_type": "full"},
    "F037": {"modality": "stem cell", "unit": "products"},
    "F038": {"modality": "gene therapy", "unit": "products"},
    "MF04": {"modality": None, "unit": "products"},
    "MF05": {"modality": "CAR-T", "unit": "products"},
    "MF06": {"modality": "small nucleic acid", "unit": "products"},
    "MF07": {"modality": "gene therapy", "unit": "products"},
    "MF08": {"modality": "stem cell", "unit": "products"},
    "MF09": {"modality": "oncolytic virus", "unit": "products"},
    "MF19": {"modality": "CAR-T", "unit": "products"},
}


def _span_text(spans: list[tuple[Any, Any]]) -> str:
    if not spans:
        return "never"
    return "; ".join(f"{a:%Y-%m-%d} to {b:%Y-%m-%d}" for a, b in spans)


def _scope_text(spec: dict[str, Any]) -> str:
    words = [spec.get("origin"), (spec.get("approval_type") or "").replace("_", " ") or None,
             spec["modality"] or "CGT", spec["unit"]]
    return " ".join(w for w in words if w)


def stated_vs_recomputed(stated: pd.DataFrame, table: pd.DataFrame, published: dict[str, Any],
                         edition: Any) -> pd.DataFrame:
    """One row per stated count (rows of findings/market_figures named in :data:`STATED_COUNTS`,
    with columns row_id, quantity, value, date, date_precision, source_id), beside the count
    recomputed from ``table`` (an :func:`approved` table of every CGT product) for the date the
    statement refers to: its own date, else its source's publication date, else the edition
    date. ``matched`` lists the periods in which the data gave the stated number."""
    import pandas as pd

    records = []
    for _, row in stated.iterrows():
        spec = STATED_COUNTS.get(row["row_id"])
        if spec is None or row["value"] != row["value"]:
            continue
        selector = {k: spec.get(k) for k in ("modality", "unit", "origin", "approval_type")}
        if row["date"] == row["date"] and row["date"] is not None:
            when = row["date"]
            basis = {"not_later_than": "upper bound of an undated statement"}.get(
                row["date_precision"], f"stated cut-off ({row['date_precision']})")
        elif published.get(row["source_id"]) is not None and published[row["source_id"]] == published[row["source_id"]]:
            when, basis = published[row["source_id"]], "undated: source's publication date"
        else:
            when, basis = pd.Timestamp(edition), "undated, source undated: edition date"
        recomputed = count_as_of(table, when, **selector)
        stated_value = int(row["value"]) if float(row["value"]).is_integer() else row["value"]
        records.append({
            "row_id": row["row_id"], "source_id": row["source_id"], "quantity": row["quantity"],
            "counted_as": _scope_text(spec), "stated": stated_value,
            "as_of": pd.Timestamp(when).strftime("%Y-%m-%d"), "date_basis": basis,
            "recomputed": recomputed, "agrees": "yes" if recomputed == stated_value else "no",
            "matched": _span_text(matching_spans(table, stated_value, edition, **selector)),
        })
    columns = ["row_id", "source_id", "quantity", "counted_as", "stated", "as_of", "date_basis", "recomputed",
               "agrees", "matched"]
    frame = pd.DataFrame(records, columns=columns)
    return frame.sort_values(["as_of", "row_id"]).reset_index(drop=True)


def stated_rows(findings: pd.DataFrame, market_figures: pd.DataFrame) -> pd.DataFrame:
    """The rows of findings and market_figures that :data:`STATED_COUNTS` names, in one shape."""
    import pandas as pd

    parts = [
        findings.rename(columns={"finding_id": "row_id"}),
        market_figures.rename(columns={"figure_id": "row_id", "metric": "quantity", "as_of_date": "date"}),
    ]
    columns = ["row_id", "quantity", "value", "date", "date_precision", "source_id"]
    rows = pd.concat([p[columns] for p in parts], ignore_index=True)
    return rows[rows["row_id"].isin(STATED_COUNTS)].sort_values("row_id").reset_index(drop=True)


def grouped_overview(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row per value of ``by`` (e.g. target or indication_group): modalities, products,
    origins and approval types behind it, sorted by modality order then name."""
    import pandas as pd

    records, groups = [], []
    rank = {m: i for i, m in enumerate(MODALITY_ORDER)}
    for key, rows in table.groupby(by, sort=True):
        rows = rows.sort_values(["approval_date", "approval_id"])
        modalities = ordered(rows["modality"], MODALITY_ORDER)
        records.append({
            by: key,
            "modality": ", ".join(modalities),
            "product_labels": ", ".join(dict.fromkeys(rows["product_label"])),
            "products": int(rows["product_id"].nunique()),
            "indications": int(len(rows)),
            "origin": ", ".join(ordered(rows["origin"], ORIGIN_ORDER)),
            "approval_types": ", ".join(t.replace("_", " ") for t in ordered(rows["approval_type"], TYPE_ORDER)),
            "first_approval": dated(rows["approval_date"].iloc[0], rows["date_precision"].iloc[0]),
            "_rank": min(rank.get(m, len(rank)) for m in modalities),
        })
        groups.append(sources_in([rows]))
    columns = [by, "modality", "product_labels", "products", "indications", "origin", "approval_types",
               "first_approval", "_rank"]
    frame = cited_columns(pd.DataFrame(records, columns=columns), groups)
    frame = frame.sort_values(["_rank", by], key=lambda s: s.str.lower() if s.dtype == object else s)
    return frame.drop(columns="_rank").reset_index(drop=True)


def type_statement(comparison: pd.DataFrame) -> str:
    """A sentence setting the briefing's conditional/full split beside what the data document."""
    rows = comparison.set_index("row_id")
    if not {"F034", "F035"} <= set(rows.index):
        return ("This edition predates the regulator's briefing, so no source in it splits the "
                "CAR-T approvals into conditional and full ones.")
    cond, full = rows.loc["F034"], rows.loc["F035"]
    return (f"As of {cond['as_of']} the regulator's briefing counts {cond['stated']} conditional and "
            f"{full['stated']} full CAR-T approvals (by indication); for the same date the data document "
            f"{cond['recomputed']} conditional and {full['recomputed']} full, because so few sources name the type.")


def timeline_chart(approvals: pd.DataFrame, *, as_of) -> charts.Chart:
    """The interactive timeline: the same approvals as :func:`approval_timeline`; the legend
    filters by approval type, the date axis zooms, a marker's tooltip gives the indication, its
    date (and whether that date is only an upper bound) and the source."""
    frame = approvals.sort_values(["approval_date", "product_label"]).reset_index(drop=True)
    frame = frame.assign(approval_type_shown=frame["approval_type"].fillna("not stated").str.replace("_", " "),
                         date_shown=[dated(d, p) for d, p in zip(frame["approval_date"], frame["date_precision"])],
                         upper_bound=frame["date_precision"] == "not_later_than")
    return charts.timeline(
        frame, date="approval_date", row="product_label", row_title="Product", date_title="Approval date (NMPA)",
        colour="approval_type_shown", colour_title="Approval type", hollow="upper_bound",
        marker_date=as_of, marker_label="edition date",
        tooltip={"product_label": "Product", "indication_group": "Indication", "date_shown": "Approved",
                 "approval_type_shown": "Approval type"},
        what="approved indication")


def approval_timeline(approvals: pd.DataFrame, *, as_of) -> Figure:
    """One row per product, one marker per approved indication, shaped by approval type.

    Expects columns: product_label, approval_date, date_precision, approval_type, indication_group.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    if approvals.empty:
        return placeholder()
    frame = approvals.sort_values(["approval_date", "product_label"]).reset_index(drop=True)
    order = list(dict.fromkeys(frame["product_label"]))
    types = sorted(frame["approval_type"].dropna().unique())
    height = 1.2 + 0.45 * max(len(order), 1)
    fig, ax = plt.subplots(figsize=(7.5, height))
    bounded = frame["date_precision"] == "not_later_than"
    for i, kind in enumerate(types):
        colour, marker = OKABE_ITO[i % len(OKABE_ITO)], MARKERS[i % len(MARKERS)]
        for hollow in (False, True):
            part = frame[(frame["approval_type"] == kind) & (bounded == hollow)]
            if part.empty:
                continue
            ax.scatter(part["approval_date"], [order.index(p) for p in part["product_label"]], marker=marker, s=70,
                       facecolor="white" if hollow else colour, edgecolor=colour, linewidth=1.4 if hollow else 0.6,
                       label=kind.replace("_", " ") + (" (date is an upper bound)" if hollow else ""), zorder=3)
    for _, row in frame.iterrows():
        ax.annotate(row["indication_group"], (row["approval_date"], order.index(row["product_label"])),
                    xytext=(0, 7), textcoords="offset points", ha="center", fontsize=7.5)
    ax.set_yticks(range(len(order)), order)
    ax.axvline(pd.Timestamp(as_of), color="#555555", linestyle="--", linewidth=1)
    ax.annotate("edition date", (pd.Timestamp(as_of), 1.0), xycoords=("data", "axes fraction"),
                xytext=(-4, -2), textcoords="offset points", ha="right", va="top", fontsize=8, color="#555555")
    ax.set_xlabel("Approval date (NMPA)")
    ax.set_ylim(len(order) - 0.4, -0.8)
    if types:
        ax.legend(title="Approval type", loc="lower left", fontsize=8, title_fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
