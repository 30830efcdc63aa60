"""Efficacy of CAR-T products in China beside global benchmarks, per disease and endpoint:
tables by disease, forest plots, like-for-like comparison groups, randomised trials with their
control arms, and the review's own efficacy claims set against the public record.

Works on ``data/efficacy.csv`` (joined to ``data/products.csv`` for the target). Intervals come
from :mod:`review_utils.chapters.shared.stats`; a count is never inferred from a rounded percentage.
Results are compared only within one disease and one endpoint code (the same definition of the
endpoint, e.g. best ORR apart from ORR at month 3); nothing is pooled across diseases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared import stats
from review_utils.chapters.shared.results import (  # noqa: F401 - part of this chapter's API
    DENOMINATOR_LABEL,
    DISEASE_LABEL,
    DISEASE_ORDER,
    ENDPOINT_LABEL,
    EVIDENCE_LABEL,
    FAMILY,
    FAMILY_LABEL,
    FAMILY_ORDER,
    HAZARD_RATIO,
    REGION_ORDER,
    REGION_STYLE,
    REVIEW_SOURCE,
    TIME_TO_EVENT,
    TIME_TO_EVENT_MEDIAN,
    arm,
    disease,
    interval_shown,
    prepare,
    short_name,
    source_interval,
    value_of,
    value_shown,
)
from review_utils.render import charts
from review_utils.render.figures import MARKERS, OKABE_ITO, placeholder
from review_utils.render.text import NOT_IN_EDITION, as_given, stated

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "efficacy": ("R14", "R16", "R18", "R19", "R21", "R22", "R24", "R31", "R32", "R33", "R34", "R37"),
}


CLAIM_CHECKS = [
    ("R31", "R19"), ("R31", "R21"), ("R31", "R22"),
    ("R32", "R14"), ("R32", "R24"),
    ("R33", "R16"), ("R33", "R18"),
]


def results(prepared: pd.DataFrame) -> pd.DataFrame:
    """Trial results (the review's own claims left out)."""
    return prepared[~prepared["is_claim"]].reset_index(drop=True)


# The forest plot is drawn in two figures so that each fit a printed page.
FOREST_PANELS = {
    "lymphoma": ["Large B-cell lymphoma", "B-cell lymphoma (mixed types)", "FL", "MCL"],
    "leukaemia_myeloma": [d for d in DISEASE_ORDER
                          if d not in ("Large B-cell lymphoma", "B-cell lymphoma (mixed types)", "FL", "MCL")],
}
FOREST_FAMILIES = ("response", "complete", "pfs_rate", "os_rate")
# How the forest plot's labels mark evidence that is not a journal article or a regulator's label.
EVIDENCE_MARK = {"conference_abstract": "[abstract]", "company_release": "[company]", "news": "[news]",
                 "secondary": "[secondary]"}


def single_arm(prepared: pd.DataFrame) -> pd.DataFrame:
    """Trial results outside randomised comparisons (single-arm trials and cohorts), claims left out."""
    return prepared[~prepared["is_claim"] & ~prepared["randomised"]].reset_index(drop=True)


def forest_rows(prepared: pd.DataFrame, diseases: list[str] | None = None) -> pd.DataFrame:
    """Rows the forest plot shows: single-arm trial results that are percentages (not medians, not
    hazard ratios, not claims, not randomised arms), optionally only for ``diseases``."""
    keep = ((~prepared["is_claim"]) & (~prepared["randomised"]) & (prepared["unit"] == "percent")
            & prepared["family"].isin(FOREST_FAMILIES))
    if diseases is not None:
        keep &= prepared["disease"].isin(diseases)
    return prepared[keep & prepared["value"].notna()].reset_index(drop=True)


def forest_plot(rows: pd.DataFrame) -> Figure:
    """One row per result, grouped by disease and endpoint (one definition per group); China and
    global differ by colour and marker; filled marker + bar = exact 95 % CI from a known count;
    open marker = percentage only (a dotted bar when the source reports its own interval);
    conference abstracts, company releases, news and secondary sources are marked in the label."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if rows.empty:
        return placeholder()
    layout: list[tuple[str, Any]] = []  # ("header", text) or ("row", record)
    for (dis, label), group in rows.groupby(["disease", "endpoint_label"], sort=False):
        layout.append(("header", f"{dis}: {label}"))
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
        mark = EVIDENCE_MARK.get(row["evidence_type"], "")
        labels.append(f"{row['result_id']} {row['short_name']}, {row['trial_base']}{n_text}" + (f" {mark}" if mark else ""))
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


def forest_chart(rows: pd.DataFrame) -> charts.Chart:
    """The interactive forest plot: the same rows as :func:`forest_plot`; hovering a marker shows
    the result, trial, disease and endpoint, n, the rate, its interval and the source; the legend
    filters China or the global benchmarks."""
    frame = rows.assign(
        row_label=[f"{r} {s}, {t}" for r, s, t in zip(rows["result_id"], rows["short_name"], rows["trial_base"])],
        group=[f"{d}: {e}" for d, e in zip(rows["disease"], rows["endpoint_label"])],
        low=rows["cp_low"].where(rows["cp_low"].notna(), rows["ci_low"]),
        high=rows["cp_high"].where(rows["cp_high"].notna(), rows["ci_high"]),
        interval=["exact 95 % CI from n and count" if not stats.is_missing(lo) else
                  ("95 % CI as reported by the source" if not stats.is_missing(c) else "percentage only, no interval")
                  for lo, c in zip(rows["cp_low"], rows["ci_low"])],
        where=["China" if r == "China" else "Global benchmark" for r in rows["region"]],
    )
    return charts.interval_dots(
        frame, estimate="value", low="low", high="high", row="row_label", row_title="Result",
        x_title="Patients with the outcome (%)", percent=False, colour="where", colour_title="Trials",
        tooltip={"result_id": "Result", "trial": "Trial", "group": "Disease and endpoint", "n": "n",
                 "value": "Patients with the outcome (%)", "interval": "Interval"},
        what="result", group="group", group_words="disease and endpoint group")


def summary(prepared: pd.DataFrame) -> dict[str, Any]:
    """Counts the prose quotes; no range is taken over more than one disease or endpoint."""
    res = results(prepared)
    shown = forest_rows(prepared)
    groups = comparison_groups(prepared)
    return {
        "n_results": int(len(res)),
        "n_china": int((res["region"] == "China").sum()),
        "n_global": int((res["region"] == "global").sum()),
        "n_diseases": int(res["disease"].nunique()),
        "n_forest": int(len(shown)),
        "n_stated": int((shown["count_basis"] == stats.STATED).sum()),
        "n_derived": int((shown["count_basis"] == stats.DERIVED).sum()),
        "n_percent_only": int((shown["count_basis"] == stats.PERCENT_ONLY).sum()),
        "n_time_to_event": int((shown["count_basis"] == TIME_TO_EVENT).sum()),
        "n_source_ci_only": int((shown["cp_low"].isna() & shown["ci_low"].notna()).sum()),
        "n_claims": int(prepared["is_claim"].sum()),
        "n_groups": int(len(groups)),
        "n_groups_both": int((groups["n_china"].gt(0) & groups["n_global"].gt(0)).sum()) if len(groups) else 0,
        "n_denominator_not_stated": int((res["denominator_basis"] == "not_stated").sum()),
        "n_patients_not_stated": int((res["patients_shown"] == "not stated").sum()),
        "n_randomised_trials": int(res.loc[res["randomised"], "trial_base"].nunique()),
        "n_not_peer_reviewed": int(res["evidence_type"].isin(["conference_abstract", "company_release", "news",
                                                              "secondary"]).sum()),
    }


def hazard_ratio_of(prepared: pd.DataFrame, result_id: str, missing: str = NOT_IN_EDITION) -> str:
    """'HR 0.37 (95 % CI 0.24–0.56)' for one hazard-ratio row, or ``missing`` outside the edition."""
    hit = prepared[prepared["result_id"] == result_id]
    if hit.empty:
        return missing
    row = hit.iloc[0]
    ci = stated(None, row["ci_low"], row["ci_high"], "range", "ratio", number=as_given) \
        if not (stats.is_missing(row["ci_low"]) or stats.is_missing(row["ci_high"])) else ""
    return str(row["value_shown"]) + (f" (95 % CI {ci})" if ci else "")


def comparison_groups(prepared: pd.DataFrame) -> pd.DataFrame:
    """One row per disease and endpoint (single-arm results only): the China and the global
    results of exactly that endpoint in exactly that disease, each with its product, n and
    evidence type, so that like is set beside like and nothing else."""
    import pandas as pd

    res = single_arm(prepared)
    res = res[res["family"].isin(FOREST_FAMILIES)]
    rows = []
    for (dis, label), group in res.groupby(["disease", "endpoint_label"], sort=False):
        def listed(region: str) -> str:
            part = group[group["region"] == region]
            return "; ".join(
                f"{r['short_name']} {r['trial_base']}: {r['value_shown']}"
                + ("" if stats.is_missing(r["n"]) else f" (n = {int(r['n'])})")
                + (f" {EVIDENCE_MARK[r['evidence_type']]}" if r["evidence_type"] in EVIDENCE_MARK else "")
                for _, r in part.iterrows())
        rows.append({"disease": dis, "endpoint": label,
                     "n_china": int((group["region"] == "China").sum()),
                     "n_global": int((group["region"] == "global").sum()),
                     "china": listed("China"), "global": listed("global"),
                     "result_ids": ", ".join(group["result_id"]),
                     "source_id": "; ".join(dict.fromkeys(group["source_id"]))})
    columns = ["disease", "endpoint", "n_china", "n_global", "china", "global", "result_ids", "source_id"]
    return pd.DataFrame(rows, columns=columns)


def by_disease(prepared: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(disease, its trial results) in the book's disease order, claims left out."""
    res = results(prepared)
    return [(d, res[res["disease"] == d].reset_index(drop=True)) for d in DISEASE_ORDER if (res["disease"] == d).any()]


# What a note says about who received the assigned treatment and about crossover.
_TREATMENT_WORDS = ("received", "infused", "cross", "ASCT")


def randomised(prepared: pd.DataFrame) -> pd.DataFrame:
    """The randomised trials' comparative results: per trial and endpoint, the CAR-T arm beside the
    control arm (value and n), and the hazard ratio with its interval as reported."""
    import pandas as pd

    res = results(prepared)
    res = res[res["randomised"]]
    rows = []
    for trial, group in res.groupby("trial_base", sort=False):
        for _, hr in group[group["arm"] == "comparison"].iterrows():
            rows.append({"trial": trial, "analysis": hr["trial"], "disease": hr["disease"],
                         "endpoint": hr["endpoint_label"], "population": DENOMINATOR_LABEL.get(hr["denominator_basis"], ""),
                         "car_t_arm": "", "control_arm": "", "effect": hazard_ratio_of(prepared, hr["result_id"]),
                         "result_ids": hr["result_id"], "source_id": hr["source_id"],
                         "evidence": hr["evidence_shown"]})
        arms = group[group["arm"] != "comparison"]
        for (analysis, endpoint), pair in arms.groupby(["trial", "endpoint"], sort=False):
            car_t, control = pair[pair["arm"] == ""], pair[pair["arm"] == "control"]

            def shown(part: pd.DataFrame) -> str:
                if part.empty:
                    return "not reported in the data"
                r = part.iloc[0]
                source_ci = source_interval(r)
                ci = ("exact " + stats.format_interval(r["cp_low"], r["cp_high"])) if not stats.is_missing(r["cp_low"]) \
                    else (f"95 % CI as reported {source_ci}" if source_ci else "")
                n = "" if stats.is_missing(r["n"]) else f", n = {int(r['n'])}"
                return f"{r['value_shown']}{n}" + (f" ({ci})" if ci else "")
            first = pair.iloc[0]
            rows.append({"trial": trial, "analysis": analysis, "disease": first["disease"],
                         "endpoint": first["endpoint_label"], "population": DENOMINATOR_LABEL.get(first["denominator_basis"], ""),
                         "car_t_arm": shown(car_t), "control_arm": shown(control), "effect": "",
                         "result_ids": ", ".join(pair["result_id"]),
                         "source_id": "; ".join(dict.fromkeys(pair["source_id"])),
                         "evidence": "; ".join(dict.fromkeys(pair["evidence_shown"]))})
    columns = ["trial", "analysis", "disease", "endpoint", "population", "car_t_arm", "control_arm", "effect",
               "result_ids", "source_id", "evidence"]
    return pd.DataFrame(rows, columns=columns)


def randomised_treatment(prepared: pd.DataFrame, source_ids: Any = ()) -> pd.DataFrame:
    """Per randomised trial: patients randomised to CAR-T and how many received it (the share
    computed only from the two counts), and what the sources say about treatment received and
    crossover (the notes' own words; a source of ``source_ids`` that a note names is cited too)."""
    import pandas as pd

    res = results(prepared)
    res = res[res["randomised"]]
    rows = []
    for trial, group in res.groupby("trial_base", sort=False):
        car_t = group[(group["arm"] == "") & group["enrolled_n"].notna() & group["infused_n"].notna()]
        if len(car_t):
            enrolled, infused = int(car_t.iloc[0]["enrolled_n"]), int(car_t.iloc[0]["infused_n"])
            share = f"{infused} of {enrolled} ({as_given(round(100 * infused / enrolled, 1), 'percent')})"
        else:
            share = "count not in the data (see the sources' wording)"
        clauses = []
        for note in group["note"].dropna():
            for clause in str(note).split(";"):
                clause = clause.strip()
                if any(word in clause for word in _TREATMENT_WORDS) and clause not in clauses:
                    clauses.append(clause)
        named = [sid for sid in sorted(set(source_ids)) if any(sid in clause for clause in clauses)]
        rows.append({"trial": trial, "disease": group.iloc[0]["disease"], "car_t_infused": share,
                     "treatment_and_crossover": "; ".join(clauses) or "not stated in the data",
                     "source_id": "; ".join(dict.fromkeys([*group["source_id"], *named]))})
    return pd.DataFrame(rows, columns=["trial", "disease", "car_t_infused", "treatment_and_crossover", "source_id"])


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
