"""Safety of CAR-T products in China beside global benchmarks: cytokine release syndrome (CRS),
neurotoxicity (ICANS where the source uses that term), cytopenias, infections and deaths from
treatment, and the secondary T-cell malignancies that regulators acted on.

Works on ``data/safety.csv`` and ``data/tcell_malignancy.csv``. Rules this module keeps:

* a grade is read with its grading system: rows graded by different systems (Lee 2014, the Penn
  scale, ASTCT 2019 consensus, CTCAE) are never in one comparison; the figure and the tables group
  by system, and "not stated" / "not confirmed" are groups of their own;
* ``g3_4`` (grade 3-4 as the source words it) counts as grade >= 3 and keeps its wording;
* an exact (Clopper–Pearson) interval needs a known count: the ``events`` cell, unless the note
  says the count was derived from a rounded percentage (``events derived: x% of n``), in which
  case only a percentage times n that is a whole number counts (:mod:`...shared.stats`);
* a row whose note says "not verified" is shown with that mark, never as a checked figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared import stats
from review_utils.chapters.shared.results import REGION_ORDER, REGION_STYLE, short_name
from review_utils.render import charts
from review_utils.render.figures import MARKERS, OKABE_ITO, placeholder
from review_utils.render.text import NOT_IN_EDITION, as_given, dated, grouped

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "safety": ("S08", "S45"),
    "tcell_malignancy": ("T01", "T03", "T04", "T05", "T10", "T11", "T12"),
}

GRADE_3 = "grade ≥ 3"
HIGH_GRADES = ("ge3", "g3_4")
GRADE_LABEL = {"any": "any grade", "ge3": GRADE_3, "g3_4": "grade 3–4", "not_applicable": ""}
GRADING_LABEL = {
    "ASTCT_2019": "ASTCT 2019 consensus", "Lee_2014": "Lee 2014", "Penn": "Penn scale", "CARTOX": "CARTOX",
    "MSKCC": "MSKCC", "CTCAE_v4": "CTCAE v4.03", "CTCAE_v5": "CTCAE v5.0", "EHA_EBMT_2023": "EHA/EBMT 2023 (ICAHT)",
    "not_stated": "scale not stated by the source", "not_confirmed": "scale not confirmed (paper not seen)",
    "not_applicable": "not graded",
}
GRADING_ORDER = list(GRADING_LABEL)
# the grading system in a chart's row label, where the space is short (the tooltip has the full name)
GRADING_SHORT = {"ASTCT_2019": "ASTCT 2019", "CTCAE_v4": "CTCAE v4.03", "CTCAE_v5": "CTCAE v5.0",
                 "EHA_EBMT_2023": "EHA/EBMT 2023", "not_stated": "scale not stated",
                 "not_confirmed": "scale not confirmed"}
EVENT_SHORT = {"neurotoxicity": "Neurotox."}
EVENT_LABEL = {
    "CRS": "CRS", "ICANS": "ICANS", "neurotoxicity": "neurotoxicity (not ICANS-graded)",
    "prolonged_cytopenia": "prolonged cytopenia", "ICAHT": "ICAHT", "infection": "infection",
    "serious_infection": "serious infection", "NRM": "non-relapse mortality",
    "treatment_related_death": "death from treatment", "death_adverse_event": "death from an adverse event",
    "gastrointestinal_toxicity": "gastrointestinal toxicity",
}
NEURO = ("ICANS", "neurotoxicity")
CRS_ICANS = ("CRS", *NEURO)
NOT_VERIFIED = "not verified against the paper"
VERIFIED = "checked"
DERIVED_FROM_PERCENT = "count derived from a rounded percentage, no interval"
TCELL_KIND_LABEL = {
    "regulatory_action": "regulatory action", "label_change": "label change",
    "regulatory_assessment": "regulatory assessment", "regulatory_statement": "regulator's statement",
    "guidance": "guidance", "case_report": "case report", "case_series": "case series",
    "incidence_estimate": "incidence estimate", "pharmacovigilance_analysis": "pharmacovigilance analysis",
}
DENOMINATOR_LABEL = {"infused": "infused", "treated": "treated (safety set)", "enrolled": "enrolled",
                     "randomised": "randomised", "not_stated": "not stated"}
JURISDICTION_LABEL = {"US": "United States", "EU": "European Union", "CN": "China", "international": "international"}


def is_verified(note: Any) -> bool:
    """False when the row's note says its figure was not verified against the source."""
    return "not verified" not in str(note).lower() if not stats.is_missing(note) else True


def count_for_interval(row: Any) -> tuple[int | None, str]:
    """(count behind an exact interval, why) for one safety row; None when not known."""
    n, events, value = row["n"], row["events"], row["value"]
    if stats.is_missing(n) or int(n) <= 0:
        return None, stats.PERCENT_ONLY
    if not stats.is_missing(events):
        if "events derived:" in str(row["note"]):
            exact = stats.exact_count(value, n)
            return (exact, stats.DERIVED) if exact is not None else (None, DERIVED_FROM_PERCENT)
        return int(events), stats.STATED
    exact = stats.exact_count(value, n)
    return (exact, stats.DERIVED) if exact is not None else (None, stats.PERCENT_ONLY)


def _value_shown(row: Any) -> str:
    if not stats.is_missing(row["value"]):
        text = as_given(row["value"], row["unit"])
    elif not stats.is_missing(row["events"]):
        text = f"{int(row['events'])} patients"
    else:
        return ""
    if not stats.is_missing(row["events_used"]) and not stats.is_missing(row["n"]):
        text += f" ({int(row['events_used'])}/{int(row['n'])})"
    return text


def prepare(safety: pd.DataFrame) -> pd.DataFrame:
    """Every safety row with its short product name, labels, verification mark, the count behind
    an interval (or why none) and the exact interval; sorted by event, grading system, region."""

    frame = safety.copy()
    frame["short_name"] = [short_name(p, n) for p, n in zip(frame["product_id"], frame["product_name"])]
    frame["verified"] = frame["note"].map(is_verified)
    frame["verified_shown"] = frame["verified"].map({True: VERIFIED, False: NOT_VERIFIED})
    frame["grade_label"] = frame["grade_threshold"].map(GRADE_LABEL).fillna(frame["grade_threshold"])
    frame["grading_label"] = frame["grading_system"].map(GRADING_LABEL).fillna(frame["grading_system"])
    frame["event_label"] = frame["event"].map(EVENT_LABEL).fillna(frame["event"])
    frame["high_grade"] = frame["grade_threshold"].isin(HIGH_GRADES)
    frame = stats.intervals_from(frame, lambda index, row: count_for_interval(row), "events_used")
    frame["value_shown"] = [_value_shown(r) for _, r in frame.iterrows()]
    frame["interval_shown"] = [
        ("exact " + stats.format_interval(lo, hi)) if not stats.is_missing(lo) else str(b)
        for lo, hi, b in zip(frame["cp_low"], frame["cp_high"], frame["count_basis"])]
    frame["trial_shown"] = [t if stats.is_missing(r) else f"{t} ({r})" for t, r in zip(frame["trial"], frame["registration_id"])]
    frame["_e"] = frame["event"].map(lambda e: list(EVENT_LABEL).index(e) if e in EVENT_LABEL else len(EVENT_LABEL))
    frame["_g"] = frame["grading_system"].map(lambda g: GRADING_ORDER.index(g) if g in GRADING_ORDER else len(GRADING_ORDER))
    frame["_r"] = frame["region"].map(lambda r: REGION_ORDER.index(r) if r in REGION_ORDER else len(REGION_ORDER))
    frame = frame.sort_values(["_e", "_g", "_r", "short_name", "trial", "grade_threshold", "safety_id"])
    return frame.drop(columns=["_e", "_g", "_r"]).reset_index(drop=True)


def _cell(row: Any | None) -> str:
    if row is None:
        return "not reported in the data"
    text = str(row["value_shown"]) or "not reported"
    if not stats.is_missing(row["cp_low"]):
        text += f"; exact {stats.format_interval(row['cp_low'], row['cp_high'])}"
    if row["grade_threshold"] == "g3_4":
        text += " (worded grade 3–4)"
    return text


def crs_icans_table(prepared: pd.DataFrame) -> pd.DataFrame:
    """One row per trial, event (CRS, ICANS, other neurotoxicity) and grading system: the
    any-grade and the grade >= 3 figure side by side, the denominator, and whether the figures
    were checked against the paper. Rows of different grading systems are never merged."""
    import pandas as pd

    part = prepared[prepared["event"].isin(CRS_ICANS)]
    rows = []
    for (event, system, trial), group in part.groupby(["event", "grading_system", "trial"], sort=False):
        any_grade = group[group["grade_threshold"] == "any"]
        high = group[group["high_grade"]]
        first = group.iloc[0]
        rows.append({
            "event": EVENT_LABEL.get(event, event), "grading": GRADING_LABEL.get(system, system),
            "product": first["short_name"], "trial": first["trial_shown"], "region": first["region"],
            "disease": first["disease"],
            "n": "" if stats.is_missing(first["n"]) else str(int(first["n"])),
            "denominator": DENOMINATOR_LABEL.get(first["denominator_basis"], first["denominator_basis"]),
            "any_grade": _cell(any_grade.iloc[0] if len(any_grade) else None),
            "grade_3": _cell(high.iloc[0] if len(high) else None),
            "checked": NOT_VERIFIED if not group["verified"].all() else VERIFIED,
            "safety_ids": ", ".join(group["safety_id"]),
            "source_id": "; ".join(dict.fromkeys(group["source_id"])),
        })
    columns = ["event", "grading", "product", "trial", "region", "disease", "n", "denominator", "any_grade",
               "grade_3", "checked", "safety_ids", "source_id"]
    return pd.DataFrame(rows, columns=columns)


def other_events(prepared: pd.DataFrame) -> pd.DataFrame:
    """Cytopenias, infections and deaths from treatment, as reported (one row each)."""
    return prepared[~prepared["event"].isin(CRS_ICANS)].reset_index(drop=True)


def figure_rows(prepared: pd.DataFrame, event: str) -> pd.DataFrame:
    """Grade >= 3 rows of ``event`` ('CRS' or 'neuro' for ICANS and other neurotoxicity) that
    have a percentage, for the figure."""
    events = NEURO if event == "neuro" else (event,)
    keep = prepared["event"].isin(events) & prepared["high_grade"] & prepared["value"].notna()
    return prepared[keep].reset_index(drop=True)


def figure_data(panels: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """The rows of every panel of :func:`grade3_plot`, one table (the figure's download)."""
    import pandas as pd

    frames = [rows for _, rows in panels if not rows.empty]
    return pd.concat(frames, ignore_index=True) if frames else panels[0][1]


def grade3_plot(panels: list[tuple[str, pd.DataFrame]]) -> Figure:
    """Grade >= 3 rates, one panel per event, rows grouped by grading system (a header per
    system, never one scale across systems); China and global differ by colour and marker;
    filled marker + bar = exact 95 % CI from a known count, open = percentage only; rows not
    verified against the paper end with '(not verified)' and are drawn in a lighter tone."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    panels = [(title, rows) for title, rows in panels if not rows.empty]
    if not panels:
        return placeholder()
    layouts = []
    for _, rows in panels:
        layout: list[tuple[str, Any]] = []
        for (event, system), group in rows.groupby(["event", "grading_system"], sort=False):
            layout.append(("header", f"{EVENT_LABEL.get(event, event)}, {GRADING_LABEL.get(system, system)}"))
            layout += [("row", r) for _, r in group.iterrows()]
        layouts.append(layout)
    legend_height = 0.8
    heights = [0.45 + 0.2 * len(layout) for layout in layouts]
    height = legend_height + sum(heights) + 0.3
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, height), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, (title, _), layout in zip(axes[:, 0], panels, layouts):
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
            alpha = 1.0 if row["verified"] else 0.55
            n_text = f", n = {int(row['n'])}" if not stats.is_missing(row["n"]) else ""
            grade = " (grade 3–4)" if row["grade_threshold"] == "g3_4" else ""
            mark = "" if row["verified"] else " (not verified)"
            labels.append(f"{row['safety_id']} {row['short_name']}, {str(row['trial']).split(' (')[0]}{n_text}{grade}{mark}")
            known = not stats.is_missing(row["cp_low"])
            if known:
                ax.plot([row["cp_low"], row["cp_high"]], [y, y], color=colour, linewidth=1.6, zorder=2, alpha=alpha)
            ax.scatter([row["value"]], [y], marker=marker, s=36, zorder=3, linewidth=1.3, alpha=alpha,
                       facecolor=colour if known else "white", edgecolor=colour)
        ax.set_yticks(range(len(layout)), labels, fontsize=8)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(len(layout) - 0.5, -0.7)
        ax.set_xlim(0, 103)
        ax.set_xticks(range(0, 101, 20))
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(title, fontsize=9, loc="left")
        ax.grid(axis="y", visible=False)
    axes[-1, 0].set_xlabel(f"Patients with the event, {GRADE_3} (%)", fontsize=9)
    handles = []
    for region in REGION_ORDER:
        colour, marker = REGION_STYLE[region]
        name = "China" if region == "China" else "Global benchmark"
        handles.append(Line2D([], [], color=colour, marker=marker, markerfacecolor=colour, linewidth=1.6,
                              label=f"{name}: exact 95 % CI from n and count"))
        handles.append(Line2D([], [], color=colour, marker=marker, markerfacecolor="white", linewidth=0,
                              label=f"{name}: percentage only, no interval"))
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, legend_height / height, 1, 1))
    return fig


def grade3_chart(rows: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`grade3_plot`, from the same rows (its download): one row
    per rate, labelled with its event and grading system before the trial, so that no two systems
    read as one scale; the legend filters China or the global benchmarks; the tooltip gives the
    trial, grading system, grade as worded, n, the rate, its interval, whether it was checked and
    the source. The data sentence counts the rates per grading system and names no highest or
    lowest rate (that would compare across systems)."""
    import dataclasses

    frame = rows.assign(
        event_shown=rows["event"].map(EVENT_LABEL).fillna(rows["event"]),
        grading_shown=rows["grading_system"].map(GRADING_LABEL).fillna(rows["grading_system"]),
        grade_shown=rows["grade_threshold"].map(GRADE_LABEL).fillna(rows["grade_threshold"]),
        n_shown=["not stated" if stats.is_missing(n) else str(int(n)) for n in rows["n"]],
        where=["China" if r == "China" else "Global benchmark" for r in rows["region"]],
        verified_shown=[VERIFIED if v else NOT_VERIFIED for v in rows["verified"]],
    )
    # event and grading system first (rows of one system stay together and say so), then the
    # product and the row's id as in the static figure; the trial is in the tooltip
    frame["row_label"] = [
        f"{EVENT_SHORT.get(e, e)}, {GRADING_SHORT.get(g, GRADING_LABEL.get(g, g))}: {s} ({i}"
        + (")" if v else ", not verified)")
        for e, g, s, i, v in zip(rows["event"], rows["grading_system"], frame["short_name"], frame["safety_id"],
                                 frame["verified"])]
    chart = charts.interval_dots(
        frame, estimate="value", low="cp_low", high="cp_high", row="row_label", row_title="Rate",
        x_title=f"Patients with the event, {GRADE_3} (%)", percent=False, colour="where", colour_title="Trials",
        tooltip={"short_name": "Product", "trial": "Trial", "event_shown": "Event", "grading_shown": "Grading system",
                 "grade_shown": "Grade as worded", "n_shown": "Patients (n)", "value_shown": "Rate as reported",
                 "interval_shown": "Interval", "verified_shown": "Checked against the paper"},
        what="rate")
    groups: dict[tuple[str, str], int] = {}
    for e, g in zip(frame["event_shown"], frame["grading_shown"]):
        groups[(e, g)] = groups.get((e, g), 0) + 1
    parts = "; ".join(f"{e}, {g}: {k}" for (e, g), k in groups.items())
    total = len(frame)
    summary = (f"{total} {GRADE_3} rate{'' if total == 1 else 's'} in {len(groups)} groups of event and grading "
               f"system ({parts}); rates under different grading systems are not compared.")
    return charts.fit_labels(dataclasses.replace(chart, summary=summary), share=0.55)


def tcell_table(tcell: pd.DataFrame) -> pd.DataFrame:
    """Secondary T-cell malignancy: regulatory events and published counts in date order, with
    the cases and denominator as stated (a rate only where the source or the row gives one)."""
    frame = tcell.copy().sort_values(["date", "event_id"], na_position="last").reset_index(drop=True)
    frame["date_shown"] = [dated(d, p) for d, p in zip(frame["date"], frame["date_precision"])]
    frame["where"] = frame["jurisdiction"].map(JURISDICTION_LABEL).fillna(frame["jurisdiction"])
    frame["kind_shown"] = frame["kind"].map(TCELL_KIND_LABEL).fillna(frame["kind"])
    frame["cases_shown"] = [
        "" if stats.is_missing(c) else (grouped(c, "count") + ("" if stats.is_missing(d) else f" of {grouped(d, 'count')}"))
        for c, d in zip(frame["cases"], frame["denominator"])]
    frame["value_shown"] = [("" if stats.is_missing(v) else as_given(v, u)) for v, u in zip(frame["value"], frame["unit"])]
    return frame


def _row(frame: pd.DataFrame, key: str, value: str) -> Any | None:
    hit = frame[frame[key] == value]
    return None if hit.empty else hit.iloc[0]


def summary(prepared: pd.DataFrame, tcell: pd.DataFrame) -> dict[str, Any]:
    """Counts and values the prose quotes (no rate is pooled across trials or scales)."""
    crs_icans = prepared[prepared["event"].isin(CRS_ICANS)]
    china = crs_icans[crs_icans["region"] == "China"]
    named = ~crs_icans["grading_system"].isin(["not_stated", "not_confirmed", "not_applicable"])
    table = crs_icans_table(prepared)
    out: dict[str, Any] = {
        "n_rows": int(len(prepared)),
        "n_trials": int(prepared["trial"].nunique()),
        "n_trials_china": int(prepared.loc[prepared["region"] == "China", "trial"].nunique()),
        "n_trials_global": int(prepared.loc[prepared["region"] == "global", "trial"].nunique()),
        "n_not_verified": int((~prepared["verified"]).sum()),
        "n_verified": int(prepared["verified"].sum()),
        "n_grading_systems": int(crs_icans.loc[named, "grading_system"].nunique()),
        "n_china_rows": int(len(china)),
        "n_china_scale_named": int((~china["grading_system"].isin(["not_stated", "not_confirmed"])).sum()),
        "n_exact": int(prepared["cp_low"].notna().sum()),
        "n_no_interval": int(prepared["cp_low"].isna().sum()),
        "n_derived_from_percent": int((prepared["count_basis"] == DERIVED_FROM_PERCENT).sum()),
        "n_table_rows": int(len(table)),
        "n_tcell": int(len(tcell)),
        "grade3": GRADE_3,
        "grade34": GRADE_LABEL["g3_4"],
        "n_other_china": int((other_events(prepared)["region"] == "China").sum()),
        "n_icaht": int((prepared["event"] == "ICAHT").sum()),
    }
    for key, safety_id in (("cartifan_g34", "S08"), ("cartitude1_g3", "S45")):
        row = _row(prepared, "safety_id", safety_id)
        out[f"{key}"] = NOT_IN_EDITION if row is None else str(row["value_shown"])
    frame = tcell_table(tcell)
    for key, event_id in (("fda_investigation", "T01"), ("fda_boxed", "T03"), ("fda_rems", "T10"),
                          ("cde_ltfu", "T11"), ("nmpa_statement", "T12")):
        row = _row(frame, "event_id", event_id)
        out[f"tc_{key}_date"] = NOT_IN_EDITION if row is None else str(row["date_shown"])
    for key, event_id in (("fda", "T04"), ("prac", "T05")):
        row = _row(frame, "event_id", event_id)
        for part in ("cases", "denominator"):
            missing = row is None or stats.is_missing(row[part])
            out[f"tc_{key}_n_{part}"] = NOT_IN_EDITION if missing else grouped(row[part], "count")
    return out
