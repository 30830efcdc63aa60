"""Innovations: new CAR-T designs with clinical data, ordered by the weight of their evidence;
the review's next-generation directions; and the (preclinical) Huangqin claim.

The Huangqin (Scutellaria baicalensis) numbers are a before/after pair from animal models of
lung cancer that the review gives in its abstract only, with no model, sample size or reference.
Every table and figure built here carries the label PRECLINICAL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.data.support import with_support as sourced  # noqa: F401 - the tables' Source column
from review_utils.render import charts
from review_utils.render.text import NOT_IN_EDITION as MISSING
from review_utils.render.text import format_value

if TYPE_CHECKING:
    import pandas as pd

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "findings": ("F009", "F010"),
    "innovations": ("IN01", "IN02", "IN03", "IN04", "IN05", "IN06", "IN07"),
    "recommendations": ("REC3", "REC4", "REC5", "REC6"),
}

# Claims of the review that this chapter discusses; it shows the audit's status for each.
CLAIMS = ("C012",)
ROWS["claims"] = CLAIMS

DIRECTION_LABELS = {"in_vivo": "In vivo CAR-T", "allogeneic": "Allogeneic (off the shelf)",
                    "fast_manufacturing": "Fast manufacturing", "cd7": "CD7 CAR-T", "dual_target": "Dual target",
                    "autoimmune": "Autoimmune disease"}
# Weight of a design's evidence, from the phase as the source words it: larger is stronger.
PHASE_WEIGHTS = (("phase 3", 5), ("phase 2", 4), ("phase 1/2", 3), ("pooled", 3), ("phase 1", 2),
                 ("investigator-initiated", 1))
VERIFIED_WORDS = {"yes": "read in the source", "single_low_tier": "single secondary source, not verified",
                  "no": "not confirmed"}

PRECLINICAL = "PRECLINICAL"

# data/findings.csv rows of the Huangqin pair (stable keys) and the arm each stands for.
HUANGQIN_ARMS = {"F009": "CAR-T alone", "F010": "CAR-T + Huangqin"}
BASELINE, COMBINED = "F009", "F010"
# data/recommendations.csv rows about next-generation engineering, manufacturing and TCM.
INNOVATION_RECS = ("REC5", "REC6", "REC3", "REC4")
REC_THEMES = {
    "REC5": "Precision engineering and AI-guided optimisation",
    "REC6": "Armoured CAR-T and biomarker-guided treatment",
    "REC3": "Automated manufacturing",
    "REC4": "Future focus, including traditional Chinese medicine",
}
EVIDENCE_WORDS = {"preclinical": PRECLINICAL, "clinical": "clinical", "regulatory": "regulatory",
                  "market": "market", "not_stated": "not stated"}


def regression_change(before: float, after: float) -> dict[str, float]:
    """Absolute change (percentage points) and relative change (percent of the baseline) between
    two rates given in percent."""
    if before <= 0:
        raise ValueError(f"baseline rate must be positive for a relative change, got {before}")
    return {"absolute_pp": float(after - before), "relative_pct": 100.0 * (after - before) / before}


def huangqin_pair(findings: pd.DataFrame) -> pd.DataFrame:
    """The two Huangqin rows with their arm and an explicit evidence label, baseline first."""
    frame = findings[findings["finding_id"].isin(HUANGQIN_ARMS)].copy()
    frame["arm"] = frame["finding_id"].map(HUANGQIN_ARMS)
    frame["evidence"] = frame["evidence_level"].map(EVIDENCE_WORDS).fillna(frame["evidence_level"])
    frame["value_shown"] = [f"{format_value(float(v))} %" for v in frame["value"]]
    frame["setting"] = "lung cancer models (model and n not reported)"
    return frame.sort_values("finding_id").reset_index(drop=True)


def huangqin_summary(pair: pd.DataFrame) -> dict[str, Any]:
    """Glue-ready text for the pair and its computed change (MISSING if either row is absent)."""
    values = dict(zip(pair["finding_id"], pair["value"]))
    if BASELINE not in values or COMBINED not in values:
        return {"hq_before": MISSING, "hq_after": MISSING, "hq_abs_change": MISSING, "hq_rel_change": MISSING,
                "hq_evidence": MISSING}
    change = regression_change(values[BASELINE], values[COMBINED])
    levels = sorted(set(pair["evidence"]))
    return {
        "hq_before": f"{format_value(float(values[BASELINE]))} %",
        "hq_after": f"{format_value(float(values[COMBINED]))} %",
        "hq_abs_change": f"{change['absolute_pp']:.1f} percentage points",
        "hq_rel_change": f"{change['relative_pct']:.1f} %",
        "hq_evidence": ", ".join(levels),
    }


def huangqin_change_rows(pair: pd.DataFrame) -> pd.DataFrame:
    """The pair plus two computed rows (absolute and relative change), for the table."""
    import pandas as pd

    rows = [{"row": r.arm, "value_shown": r.value_shown, "evidence": r.evidence, "setting": r.setting,
             "locator": r.locator, "source_id": r.source_id} for r in pair.itertuples()]
    values = dict(zip(pair["finding_id"], pair["value"]))
    if BASELINE in values and COMBINED in values:
        change = regression_change(values[BASELINE], values[COMBINED])
        source = pair["source_id"].iloc[0]
        rows.append({"row": "Absolute change (computed here)", "value_shown": f"{change['absolute_pp']:+.1f} percentage points",
                     "evidence": PRECLINICAL, "setting": "difference of the two rows above", "locator": "computed",
                     "source_id": source})
        rows.append({"row": "Relative change (computed here)", "value_shown": f"{change['relative_pct']:+.1f} %",
                     "evidence": PRECLINICAL, "setting": "change ÷ baseline", "locator": "computed",
                     "source_id": source})
    return pd.DataFrame(rows, columns=["row", "value_shown", "evidence", "setting", "locator", "source_id"])


def directions(recommendations: pd.DataFrame) -> pd.DataFrame:
    """The review's innovation directions (engineering, AI, manufacturing, TCM), in a fixed order."""
    order = {key: i for i, key in enumerate(INNOVATION_RECS)}
    frame = recommendations[recommendations["rec_id"].isin(INNOVATION_RECS)].copy()
    frame["theme"] = frame["rec_id"].map(REC_THEMES)
    frame["order"] = frame["rec_id"].map(order)
    frame["example_shown"] = frame["example_or_benchmark"].fillna("(none given)")
    return frame.sort_values("order").drop(columns="order").reset_index(drop=True)


def huangqin_figure(pair: pd.DataFrame):
    """Two bars (baseline, combination), hatched, each labelled PRECLINICAL; no error bars because
    the source gives no sample size."""
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

    if len(pair) < 2:
        return placeholder("No preclinical Huangqin data as of the edition date")
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    xs = list(range(len(pair)))
    colours = [OKABE_ITO[0], OKABE_ITO[2]]
    hatches = ["//", "xx"]
    for x, row in zip(xs, pair.itertuples()):
        ax.bar(x, row.value, width=0.55, color=colours[x % 2], hatch=hatches[x % 2], edgecolor="black", linewidth=0.6)
        ax.text(x, row.value + 2, f"{format_value(float(row.value))} %", ha="center", va="bottom", fontsize=10)
    values = dict(zip(pair["finding_id"], pair["value"]))
    if BASELINE in values and COMBINED in values:
        change = regression_change(values[BASELINE], values[COMBINED])
        ax.annotate("", xy=(0.7, values[COMBINED]), xytext=(0.3, values[BASELINE]),
                    arrowprops={"arrowstyle": "->", "color": "#555555", "linewidth": 1.2})
        ax.text(0.5, max(values[BASELINE], values[COMBINED]) + 14,
                f"{change['absolute_pp']:+.0f} points ({change['relative_pct']:+.1f} % relative)",
                ha="center", va="bottom", fontsize=9, color="#333333")
    ax.set_xticks(xs, list(pair["arm"]))
    ax.set_ylim(0, 100)
    ax.set_xlim(-0.6, len(pair) - 0.4)
    ax.set_ylabel("Tumour regression rate (%)")
    ax.set_title("PRECLINICAL: lung cancer models (model and n not reported)", fontsize=10, loc="left")
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def phase_weight(phase: Any) -> int:
    """How far a trial has gone, from its phase as worded (0 when the wording is not known)."""
    text = str(phase).lower()
    return max((weight for word, weight in PHASE_WEIGHTS if word in text), default=0)


def evidence_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The designs with clinical data, strongest evidence first: by phase, then patients treated
    (unknown last), then whether a result is stated; with reader columns."""

    from review_utils.data.values import is_missing
    from review_utils.render.text import dated, stated

    frame = rows.copy()
    frame["weight"] = [phase_weight(p) for p in frame["phase"]]
    frame["_n"] = [-1 if is_missing(n) else int(n) for n in frame["n_treated"]]
    frame["_result"] = [0 if is_missing(v) and is_missing(lo) else 1 for v, lo in zip(frame["value"], frame["value_low"])]
    frame = frame.sort_values(["weight", "_n", "_result", "innovation_id"], ascending=[False, False, False, True])
    frame["direction_shown"] = [DIRECTION_LABELS.get(d, d) for d in frame["direction"]]
    frame["n_shown"] = ["not stated" if n < 0 else format_value(n) for n in frame["_n"]]
    frame["result_shown"] = [
        "no result reported" if is_missing(r["value"]) and is_missing(r["value_low"])
        else f"{r['outcome']}: {stated(r['value'], r['value_low'], r['value_high'], r['qualifier'], r['unit'])}"
        for _, r in frame.iterrows()]
    frame["reported_shown"] = [dated(d, p) for d, p in zip(frame["reported"], frame["date_precision"])]
    frame["verified_shown"] = [VERIFIED_WORDS.get(v, v) for v in frame["verified"]]
    return frame.drop(columns=["_n", "_result"]).reset_index(drop=True)


def evidence_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Numbers for the prose and the key findings box."""
    with_n = table[table["n_shown"] != "not stated"]
    largest = with_n.sort_values(["n_treated", "innovation_id"], ascending=[False, True]).head(1)
    autoimmune = table[table["direction"] == "autoimmune"]
    return {
        "inn_n_rows": int(len(table)),
        "inn_n_designs": int(table["product"].nunique()),
        "inn_n_directions": int(table["direction"].nunique()),
        "inn_largest_product": largest["product"].iloc[0] if len(largest) else MISSING,
        "inn_largest_n": format_value(int(largest["n_treated"].iloc[0])) if len(largest) else MISSING,
        "inn_n_low_tier": int((table["verified"] != "yes").sum()),
        "inn_n_autoimmune_results": int(sum(1 for r in autoimmune["result_shown"] if r != "no result reported")),
    }


def row_result(table: pd.DataFrame, innovation_id: str) -> str:
    """One row's result as worded in the table, or MISSING."""
    hit = table[table["innovation_id"] == innovation_id]
    return MISSING if hit.empty else str(hit.iloc[0]["result_shown"])


def row_n(table: pd.DataFrame, innovation_id: str) -> str:
    hit = table[table["innovation_id"] == innovation_id]
    return MISSING if hit.empty else str(hit.iloc[0]["n_shown"])


def patients_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The designs :func:`patients_figure` draws: a stated patient number, one row per product
    (its strongest evidence, the table's order), strongest at the top."""
    return table[table["n_shown"] != "not stated"].drop_duplicates("product").reset_index(drop=True)


def patients_chart(table: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`patients_figure`, from the same rows, on a log scale;
    the tooltip gives the product, patients, phase, direction, setting and the source."""
    import dataclasses

    rows = patients_rows(table)
    frame = rows.assign(n=rows["n_treated"].astype(float))
    chart = charts.fit_labels(charts.log_bars(
        frame, value="n", category="product", value_title="Patients (log scale)",
        category_title="Product",
        tooltip={"product": "Product", "n_shown": "Patients", "phase": "Phase", "direction_shown": "Direction",
                 "setting": "Setting"},
        what="design"))
    if frame.empty:
        return dataclasses.replace(chart, summary="No design with a stated patient number.")
    ranked = frame.sort_values(["n", "innovation_id"], ascending=[False, True])
    high, low = ranked.iloc[0], ranked.iloc[-1]
    summary = f"{len(frame)} design{'' if len(frame) == 1 else 's'} with a stated patient number: " \
              f"most {high['product']} ({high['n_shown']} patients)"
    if len(frame) > 1:
        summary += f", fewest {low['product']} ({low['n_shown']})"
    return dataclasses.replace(chart, summary=summary + ".")


def patients_figure(table: pd.DataFrame):
    """Horizontal bars: patients treated per design, where the source states it, strongest
    evidence at the top; the label gives the phase."""
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

    rows = patients_rows(table)
    if rows.empty:
        return placeholder("No patient numbers as of the edition date")
    rows = rows.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.5 * len(rows)))
    ax.barh(range(len(rows)), rows["n_treated"].astype(float), color=OKABE_ITO[0])
    for i, row in rows.iterrows():
        ax.annotate(f"{row['n_shown']} ({row['phase']}; {row['direction_shown']})", (float(row["n_treated"]), i),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), list(rows["product"]))
    ax.set_xscale("log")
    ax.set_xlim(1, float(rows["n_treated"].max()) * 2000)
    ax.set_xlabel("patients treated or evaluable (log scale)")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def row_value(rows: pd.DataFrame, innovation_id: str) -> str:
    """One row's stated value with its wording and unit ('64.4 %', '9–14 days'), or MISSING."""
    from review_utils.render.text import stated

    hit = rows[rows["innovation_id"] == innovation_id]
    if hit.empty:
        return MISSING
    r = hit.iloc[0]
    return stated(r["value"], r["value_low"], r["value_high"], r["qualifier"], r["unit"])
