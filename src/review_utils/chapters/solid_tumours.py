"""CAR-T in solid tumours: antigen heterogeneity, the suppressive microenvironment,
on-target/off-tumour toxicity, and approvals for a solid tumour.

Reads ``data/findings.csv`` (review figures and the public CT041 report), ``data/approvals.csv``
with ``data/products.csv``, and ``data/efficacy.csv``. Ranges and qualifiers are kept as the
sources word them; exact intervals come from :mod:`review_utils.chapters.shared.stats`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared import results, stats  # noqa: F401 - results: the trial rows the notebook quotes
from review_utils.render import charts
from review_utils.render.figures import MARKERS, OKABE_ITO, placeholder
from review_utils.render.text import NOT_IN_EDITION as MISSING
from review_utils.render.text import as_given, dated, stated

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "efficacy": ("R27", "R28"),
    "findings": ("F011", "F012", "F013", "F015", "F061"),
}


# Names that mark a row as being about solid-tumour CAR-T (antigens, the CT041 product).
SOLID_MARKERS = ("CT041", "Claudin18.2", "CLDN18.2", "GPC3", "glypican", "gastric", "HCC", "solid")
SOLID_TOPICS = ("antigen_expression", "tumour_microenvironment")
# Words in an approved indication that mark a solid tumour.
SOLID_INDICATION_WORDS = ("carcinoma", "adenocarcinoma", "gastric", "cancer", "tumour", "tumor", "glioma",
                          "sarcoma", "hepatocellular")
ANTIGENS = ("GPC3", "Claudin18.2", "CLDN18.2", "mesothelin", "HER2", "B7-H3", "EGFR")

EVIDENCE_LABEL = {
    "clinical": "clinical",
    "preclinical": "preclinical (not evidence in patients)",
    "regulatory": "regulatory",
    "market": "market",
    "not_stated": "not stated by the source (study design not given)",
}
def finding_value(row: Any) -> str:
    """The figure with its qualifier and unit, as the source words it: '40–60 %', 'about 60 %'."""
    return stated(row["value"], row.get("value_low"), row.get("value_high"), row["qualifier"], row["unit"], number=as_given)


def antigen_of(text: Any) -> str:
    for name in ANTIGENS:
        if re.search(re.escape(name), str(text), re.I):
            return name
    return "other"


def tumour_of(text: Any) -> str:
    text = str(text)
    if re.search(r"\bHCC\b|hepatocellular", text, re.I):
        return "HCC"
    if re.search(r"gastric", text, re.I):
        return "gastric cancer"
    return "tumour not stated"


def is_solid(row: Any) -> bool:
    if row["topic"] in SOLID_TOPICS:
        return True
    if row["topic"] in ("toxicity", "trials"):
        return any(marker.lower() in str(row["quantity"]).lower() for marker in SOLID_MARKERS)
    return False


def solid_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Solid-tumour findings with display columns, in topic then id order."""
    frame = findings[[is_solid(r) for _, r in findings.iterrows()]].copy() if len(findings) else findings.copy()
    order = {"antigen_expression": 0, "tumour_microenvironment": 1, "toxicity": 2, "trials": 3}
    frame["value_shown"] = [finding_value(r) for _, r in frame.iterrows()]
    frame["fraction_shown"] = ["" if stats.is_missing(k) or stats.is_missing(n) else f"{int(k)}/{int(n)}"
                               for k, n in zip(frame["numerator"], frame["denominator"])]
    frame["evidence_shown"] = frame["evidence_level"].map(EVIDENCE_LABEL).fillna(frame["evidence_level"])
    frame["topic_shown"] = frame["topic"].str.replace("_", " ")
    frame["_o"] = frame["topic"].map(order)
    return frame.sort_values(["_o", "finding_id"]).drop(columns="_o").reset_index(drop=True)


def antigen_rows(findings: pd.DataFrame) -> pd.DataFrame:
    rows = solid_findings(findings)
    rows = rows[rows["topic"] == "antigen_expression"].copy()
    rows["antigen"] = rows["quantity"].map(antigen_of)
    rows["tumour"] = rows["quantity"].map(tumour_of)
    return rows.sort_values(["antigen", "finding_id"]).reset_index(drop=True)


def antigen_range_plot(rows: pd.DataFrame) -> Figure:
    """Share of tumours expressing each antigen: a bar for a stated range, a marker for a single
    figure; the qualifier and evidence level are written beside each row."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    plotted = rows[rows["unit"] == "percent"]
    if plotted.empty:
        return placeholder()
    fig, ax = plt.subplots(figsize=(7.5, 1.8 + 0.6 * len(plotted)))
    labels = []
    for y, (_, row) in enumerate(plotted.iterrows()):
        labels.append(f"{row['antigen']}, {row['tumour']} ({row['finding_id']})")
        if row["qualifier"] == "range":
            ax.plot([row["value_low"], row["value_high"]], [y, y], color=OKABE_ITO[0], linewidth=6,
                    solid_capstyle="butt", zorder=2)
            centre = (float(row["value_low"]) + float(row["value_high"])) / 2
        else:
            ax.scatter([row["value"]], [y], marker=MARKERS[2], s=60, color=OKABE_ITO[5], zorder=3)
            centre = float(row["value"])
        wording = " (range)" if row["qualifier"] == "range" else ""
        ax.annotate(f"{row['value_shown']}{wording}; evidence level: {row['evidence_level'].replace('_', ' ')}",
                    (centre, y), xytext=(0, 9), textcoords="offset points", ha="center", fontsize=8)
    ax.set_yticks(range(len(plotted)), labels, fontsize=9)
    ax.set_ylim(len(plotted) - 0.4, -0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of tumours expressing the antigen (%)", fontsize=9)
    ax.grid(axis="y", visible=False)
    handles = [Line2D([], [], color=OKABE_ITO[0], linewidth=6, label="range stated by the source"),
               Line2D([], [], color=OKABE_ITO[5], marker=MARKERS[2], linewidth=0, label="single figure stated")]
    height = fig.get_size_inches()[1]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.4 / height, 1, 1))
    return fig


def plotted_antigen_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows :func:`antigen_range_plot` draws: figures stated in percent."""
    return rows[rows["unit"] == "percent"].reset_index(drop=True)


def antigen_range_chart(rows: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`antigen_range_plot`, from the same rows: a line for a
    stated range, a dot for a single figure (never a dot in the middle of a range); the tooltip
    gives the antigen, tumour, the figure as the source words it, the evidence level and the source."""
    import dataclasses

    plotted = plotted_antigen_rows(rows)
    ranged = plotted["qualifier"] == "range"
    frame = plotted.assign(
        row_label=[f"{a}, {t} ({i})" for a, t, i in zip(plotted["antigen"], plotted["tumour"], plotted["finding_id"])],
        dot=plotted["value"].where(~ranged),
        low=plotted["value_low"].where(ranged),
        high=plotted["value_high"].where(ranged),
        kind=["range stated by the source" if r else "single figure stated" for r in ranged],
        evidence_shown=plotted["evidence_level"].map(EVIDENCE_LABEL).fillna(plotted["evidence_level"]),
    )
    chart = charts.interval_dots(
        frame, estimate="dot", low="low", high="high", row="row_label", row_title="Antigen and tumour",
        x_title="Tumours expressing the antigen (%)", percent=False,
        tooltip={"antigen": "Antigen", "tumour": "Tumour", "value_shown": "Share as stated", "kind": "Shown as",
                 "evidence_shown": "Evidence level"},
        what="figure")
    parts = "; ".join(f"{a} in {t}: {v}" for a, t, v in zip(frame["antigen"], frame["tumour"], frame["value_shown"]))
    summary = f"{len(frame)} antigen expression figure{'' if len(frame) == 1 else 's'}" + (f" ({parts})." if parts else ".")
    # drawn as the static figure: the whole 0-100 % scale, a thick bar for a range, a distinct dot
    chart = charts.fixed_domain(dataclasses.replace(chart, summary=summary), "x", (0, 100))
    chart = charts.restyle(charts.restyle(chart, "rule", strokeWidth=8, color=OKABE_ITO[0]),
                           "point", color=OKABE_ITO[5], size=110, shape="diamond")
    return charts.fit_labels(chart)


def toxicity_intervals(findings: pd.DataFrame) -> pd.DataFrame:
    """Solid-tumour toxicity rows given as events / N, with the exact 95 % interval."""
    import pandas as pd

    rows = solid_findings(findings)
    rows = rows[(rows["topic"] == "toxicity") & rows["numerator"].notna() & rows["denominator"].notna()].copy()
    lows, highs = [], []
    for k, n in zip(rows["numerator"], rows["denominator"]):
        low, high = stats.clopper_pearson(int(k), int(n))
        lows.append(100 * low)
        highs.append(100 * high)
    rows["events_pct"] = pd.array([100 * int(k) / int(n) for k, n in zip(rows["numerator"], rows["denominator"])],
                                  dtype="Float64")
    rows["cp_low"] = pd.array(lows, dtype="Float64")
    rows["cp_high"] = pd.array(highs, dtype="Float64")
    rows["events_pct_shown"] = [f"{v:.1f} %" for v in rows["events_pct"]]
    rows["interval_shown"] = [stats.format_interval(lo, hi) for lo, hi in zip(rows["cp_low"], rows["cp_high"])]
    return rows.reset_index(drop=True)


def trial_sizes(findings: pd.DataFrame) -> pd.DataFrame:
    """Every stated size of the CT041 trial (sources disagree; all rows are kept)."""
    rows = solid_findings(findings)
    return rows[(rows["topic"] == "trials") & (rows["unit"] == "count")].reset_index(drop=True)


def solid_approvals(approved: pd.DataFrame) -> pd.DataFrame:
    """CAR-T approvals (from :func:`review_utils.chapters.approvals.approved`) whose indication is a solid tumour."""
    text = approved["indication"].astype("string").fillna("") + " " + approved["indication_group"].astype("string").fillna("")
    mask = text.str.lower().map(lambda t: any(w in t for w in SOLID_INDICATION_WORDS))
    return approved[mask.astype(bool)].reset_index(drop=True)


def text_for(rows: pd.DataFrame, finding_id: str, column: str = "value_shown", missing: str = MISSING) -> str:
    hit = rows.loc[rows["finding_id"] == finding_id, column]
    return str(hit.iloc[0]) if len(hit) else missing


def summary(findings: pd.DataFrame, approved: pd.DataFrame, efficacy_prepared: pd.DataFrame) -> dict[str, Any]:
    """Figures the prose quotes; a figure absent from this edition reads as :data:`MISSING`."""

    solid = solid_findings(findings)
    tox = toxicity_intervals(findings)
    sizes = trial_sizes(findings)
    approvals = solid_approvals(approved)
    gastric = efficacy_prepared[efficacy_prepared["disease"] == "Gastric/GEJ cancer"]
    out: dict[str, Any] = {
        "n_solid_findings": int(len(solid)),
        "n_antigen_rows": int((solid["topic"] == "antigen_expression").sum()),
        "n_not_stated_evidence": int((solid["evidence_level"] == "not_stated").sum()),
        "n_solid_approvals": int(len(approvals)),
        "n_trial_sizes": int(len(sizes)),
        "trial_sizes": ", ".join(f"{as_given(v)} ({s})" for v, s in zip(sizes["value"], sizes["source_id"])) or MISSING,
        "n_gastric_results": int(len(gastric)),
    }
    for _, row in tox.head(1).iterrows():  # the CT041 gastritis figure
        out.update({"tox_fraction": row["fraction_shown"], "tox_reported": row["value_shown"],
                    "tox_pct": row["events_pct_shown"], "tox_ci": row["interval_shown"]})
    for key in ("tox_fraction", "tox_reported", "tox_pct", "tox_ci"):
        out.setdefault(key, MISSING)
    if len(approvals):
        first = approvals.iloc[0]
        out["first_solid_approval"] = f"{first['product_label']}, {dated(first['approval_date'], first['date_precision'])}"
    else:
        out["first_solid_approval"] = "none in this edition's data"
    return out
