"""Trial results as every chapter shows them: each row of data/efficacy.csv with its disease,
endpoint family, arm, count basis, exact interval and display columns (used by the efficacy and
the solid-tumour chapters)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared import stats
from review_utils.render.figures import MARKERS, OKABE_ITO
from review_utils.render.text import NOT_IN_EDITION, as_given, stated

if TYPE_CHECKING:
    import pandas as pd


# The review whose own claims are checked (rows of efficacy.csv with this source are claims,
# not trial results).
REVIEW_SOURCE = "review2025"

FAMILY = {
    **dict.fromkeys(["ORR", "ORR_best", "ORR_M3", "ORR_M6", "ORR_best_M3", "CR_CRi"], "response"),
    **dict.fromkeys(["CR", "CR_best", "CR_M3", "CR_M6", "CR_or_better", "sCR", "sCR_CR"], "complete"),
    **dict.fromkeys(["PFS_12m", "PFS_18m", "PFS_24m"], "pfs_rate"),
    "EFS_24m": "efs_rate",
    **dict.fromkeys(["OS_12m", "OS_24m", "OS_36m", "OS_48m"], "os_rate"),
    "PFS_median": "pfs_median", "EFS_median": "efs_median", "OS_median": "os_median", "DOR_median": "dor_median",
    **dict.fromkeys(["PFS_HR", "EFS_HR", "OS_HR"], "hazard_ratio"),
}
FAMILY_ORDER = ["response", "complete", "pfs_rate", "efs_rate", "os_rate", "pfs_median", "efs_median",
                "os_median", "dor_median", "hazard_ratio"]
FAMILY_LABEL = {
    "response": "overall response / remission",
    "complete": "complete response",
    "pfs_rate": "progression-free survival rate",
    "efs_rate": "event-free survival rate",
    "os_rate": "overall survival rate",
    "pfs_median": "median progression-free survival",
    "efs_median": "median event-free survival",
    "os_median": "median overall survival",
    "dor_median": "median duration of response",
    "hazard_ratio": "hazard ratio (CAR-T vs control)",
}
# Families whose percentages are Kaplan-Meier estimates, and those that are medians in months.
SURVIVAL_RATE = ("pfs_rate", "efs_rate", "os_rate")
MEDIAN = ("pfs_median", "efs_median", "os_median", "dor_median")
ENDPOINT_LABEL = {
    "ORR": "ORR", "ORR_best": "best ORR", "ORR_M3": "ORR at month 3", "ORR_M6": "ORR at month 6",
    "ORR_best_M3": "best ORR (month-3 analysis)", "CR_CRi": "CR + CRi",
    "CR": "CR", "CR_best": "best CR", "CR_M3": "CR at month 3", "CR_M6": "CR at month 6",
    "CR_or_better": "CR or better", "sCR": "sCR", "sCR_CR": "sCR + CR",
    "PFS_12m": "PFS at 12 months", "PFS_18m": "PFS at 18 months", "PFS_24m": "PFS at 24 months",
    "EFS_24m": "EFS at 24 months",
    "OS_12m": "OS at 12 months", "OS_24m": "OS at 24 months", "OS_36m": "OS at 36 months", "OS_48m": "OS at 48 months",
    "PFS_median": "median PFS", "EFS_median": "median EFS", "OS_median": "median OS", "DOR_median": "median DOR",
    "PFS_HR": "PFS hazard ratio", "EFS_HR": "EFS hazard ratio", "OS_HR": "OS hazard ratio",
}
# In B-ALL the "response" codes are remissions (CR or CR with incomplete count recovery, CRi), and
# the sources define them so; they are labelled as remissions, never as ORR.
ENDPOINT_LABEL_BY_DISEASE = {
    "B-ALL": {"ORR_M3": "CR/CRi remission within month 3", "ORR_best": "best CR/CRi remission",
              "CR_CRi": "CR/CRi remission", "CR_M3": "CR (without CRi) within month 3",
              "DOR_median": "median duration of remission"},
}
# data/efficacy.csv's disease codes and how the chapters name them, in the order they are shown.
DISEASE_LABEL = {
    "LBCL": "Large B-cell lymphoma",
    "B-NHL (mixed)": "B-cell lymphoma (mixed types)",
    "FL": "FL",
    "MCL": "MCL",
    "B-ALL": "B-ALL",
    "B-cell malignancies (mixed)": "B-cell malignancies (mixed)",
    "MM": "Multiple myeloma",
    "gastric/GEJ adenocarcinoma": "Gastric/GEJ cancer",
}
DISEASE_ORDER = [*DISEASE_LABEL.values(), "Other"]
REGION_ORDER = ["China", "global"]
REGION_STYLE = {"China": (OKABE_ITO[0], MARKERS[0]), "global": (OKABE_ITO[1], MARKERS[1])}
TIME_TO_EVENT = "Kaplan–Meier estimate, no binomial interval"
TIME_TO_EVENT_MEDIAN = "median time, no binomial interval"
HAZARD_RATIO = "hazard ratio, no binomial interval"
EVIDENCE_LABEL = {
    "journal_article": "journal article", "regulator_label": "regulator's label",
    "conference_abstract": "conference abstract", "company_release": "company release",
    "news": "news report", "secondary": "secondary (review or summary)",
}
DENOMINATOR_LABEL = {
    "enrolled": "enrolled", "randomized": "randomised (ITT)", "infused": "infused",
    "evaluable": "evaluable", "responders": "responders", "not_stated": "not stated",
}
# Words in a population text that mark the arms of a randomised trial.
CONTROL_ARM_WORDS = ("standard-care arm", "physician-choice")


def disease(code: Any) -> str:
    """The chapters' name of a disease code of data/efficacy.csv ('MM' -> 'Multiple myeloma')."""
    return DISEASE_LABEL.get(code, "Other") if isinstance(code, str) else "Other"


def arm(population: Any, endpoint: Any, note: Any) -> str:
    """'comparison' (a hazard ratio between arms), 'control' (a randomised trial's non-CAR-T arm)
    or '' (a CAR-T result: a single-arm trial or the CAR-T arm)."""
    if FAMILY.get(endpoint) == "hazard_ratio":
        return "comparison"
    if any(word in str(population) for word in CONTROL_ARM_WORDS) or str(note).startswith("control arm"):
        return "control"
    return ""


def short_name(product_id: Any, product_name: Any) -> str:
    """The product's short key (axi-cel), else the conventional short form of its INN."""
    if isinstance(product_id, str) and product_id:
        return product_id
    name = str(product_name)
    for stem in ("cabtagene", "genlecleucel"):
        if stem in name:
            return name.split(stem)[0] + "-cel"
    return name


def value_shown(row: Any) -> str:
    """The result as its source gives it: '77.59 %', '79–89 %', '12.6 months', 'HR 0.37'."""
    text = stated(row["value"], row["value_low"], row["value_high"], row["qualifier"], row["unit"], number=as_given)
    return f"HR {text}" if row["unit"] == "ratio" and text else text


def source_interval(row: Any) -> str:
    """The interval the source reports ('2.86–4.53 months', '17.1 months to not estimable'), or ''."""
    low, high = row["ci_low"], row["ci_high"]
    if not stats.is_missing(low) and not stats.is_missing(high):
        return stated(None, low, high, "range", row["unit"], number=as_given)
    if not stats.is_missing(low):
        return f"{as_given(low, row['unit'])} to not estimable"
    return ""


def interval_shown(row: Any) -> str:
    """What the CI column says: the exact interval, the source's own interval, or why none."""
    source_ci = source_interval(row)
    if not stats.is_missing(row["cp_low"]):
        text = "exact " + stats.format_interval(row["cp_low"], row["cp_high"])
        return text + (f"; source: {source_ci}" if source_ci else "")
    if source_ci:
        return f"{row['count_basis']}; 95 % CI as reported: {source_ci}"
    return str(row["count_basis"])


def _patients(row: Any) -> str:
    parts = [f"{word} {int(row[col])}" for col, word in (("enrolled_n", "enrolled"), ("infused_n", "infused"),
                                                          ("evaluable_n", "evaluable")) if not stats.is_missing(row.get(col))]
    return "; ".join(parts) if parts else "not stated"


def prepare(efficacy: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Every result with its disease (from the ``disease`` column), endpoint family and label,
    product target, arm, count basis, exact interval and display columns; sorted for showing."""
    import pandas as pd

    targets = dict(zip(products["product_id"], products["target"]))
    frame = efficacy.copy()
    for column in ("enrolled_n", "infused_n", "evaluable_n"):
        if column not in frame.columns:
            frame[column] = pd.array([None] * len(frame), dtype="Int64")
    for column, default in (("denominator_basis", "not_stated"), ("endpoint_definition", ""), ("evidence_type", "")):
        if column not in frame.columns:
            frame[column] = default
    frame["disease_code"] = frame["disease"]
    frame["disease"] = frame["disease_code"].map(disease)
    frame["family"] = frame["endpoint"].map(FAMILY).fillna("other")
    frame["endpoint_label"] = [ENDPOINT_LABEL_BY_DISEASE.get(d, {}).get(e, ENDPOINT_LABEL.get(e, e))
                               for d, e in zip(frame["disease"], frame["endpoint"])]
    frame["target"] = frame["product_id"].map(targets)
    frame["short_name"] = [short_name(p, n) for p, n in zip(frame["product_id"], frame["product_name"])]
    frame["is_claim"] = frame["source_id"] == REVIEW_SOURCE
    frame["arm"] = [arm(p, e, n) for p, e, n in zip(frame["population"], frame["endpoint"], frame["note"])]
    frame["trial_base"] = frame["trial"].fillna("").str.split(" (", regex=False).str[0]
    randomised = set(frame.loc[frame["arm"] != "", "trial_base"])
    frame["randomised"] = frame["trial_base"].isin(randomised)
    binomial = frame["family"].isin(["response", "complete"]) & (frame["unit"] == "percent")
    frame = stats.with_exact_intervals(frame, binomial=binomial, not_binomial_label=TIME_TO_EVENT)
    frame.loc[frame["family"].isin(MEDIAN), "count_basis"] = TIME_TO_EVENT_MEDIAN
    frame.loc[frame["family"] == "hazard_ratio", "count_basis"] = HAZARD_RATIO
    frame.loc[frame["is_claim"], "count_basis"] = "review's claim, no count given"
    frame["value_shown"] = [value_shown(r) for _, r in frame.iterrows()]
    frame["interval_shown"] = [interval_shown(r) for _, r in frame.iterrows()]
    frame["responders_shown"] = [
        "" if stats.is_missing(k) else (f"{int(k)}" if b == stats.STATED else f"{int(k)} (exact from value × n)")
        for k, b in zip(frame["responders_used"], frame["count_basis"])]
    frame["n_shown"] = ["" if stats.is_missing(n) else str(int(n)) for n in frame["n"]]
    frame["patients_shown"] = [_patients(r) for _, r in frame.iterrows()]
    frame["denominator_shown"] = [
        DENOMINATOR_LABEL.get(b, str(b)) + ("" if stats.is_missing(n) else f" (n = {int(n)})")
        for b, n in zip(frame["denominator_basis"], frame["n"])]
    frame["evidence_shown"] = frame["evidence_type"].map(EVIDENCE_LABEL).fillna(frame["evidence_type"])
    frame["trial_shown"] = [t if stats.is_missing(r) else f"{t} ({r})" for t, r in zip(frame["trial"], frame["registration_id"])]
    frame["dates_shown"] = [
        "; ".join(p for p in (("cut " + d.strftime("%Y-%m-%d")) if not pd.isna(d) else "",
                              ("published " + q.strftime("%Y-%m-%d")) if not pd.isna(q) else "published: undated") if p)
        for d, q in zip(frame["data_cut"], frame["published"])]
    frame["_d"] = frame["disease"].map(DISEASE_ORDER.index)
    frame["_f"] = frame["family"].map(lambda f: FAMILY_ORDER.index(f) if f in FAMILY_ORDER else len(FAMILY_ORDER))
    frame["_r"] = frame["region"].map(REGION_ORDER.index)
    frame = frame.sort_values(["_d", "_f", "endpoint", "_r", "short_name", "result_id"]).drop(columns=["_d", "_f", "_r"])
    return frame.reset_index(drop=True)


def value_of(prepared: pd.DataFrame, result_id: str, missing: str = NOT_IN_EDITION) -> str:
    """The shown value of one result, or ``missing`` when the row is not known at the edition date."""
    hit = prepared.loc[prepared["result_id"] == result_id, "value_shown"]
    return str(hit.iloc[0]) if len(hit) else missing
