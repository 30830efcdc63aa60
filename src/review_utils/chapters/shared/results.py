"""Trial results as every chapter shows them: each row of data/efficacy.csv with its disease,
endpoint family, count basis, exact interval and display columns (used by the efficacy and the
solid-tumour chapters)."""

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
    "PFS_median": "pfs_median",
}
FAMILY_ORDER = ["response", "complete", "pfs_rate", "pfs_median"]
FAMILY_LABEL = {
    "response": "overall response / remission",
    "complete": "complete response",
    "pfs_rate": "progression-free survival rate",
    "pfs_median": "median progression-free survival",
}
ENDPOINT_LABEL = {
    "ORR": "ORR", "ORR_best": "best ORR", "ORR_M3": "ORR at month 3", "ORR_M6": "ORR at month 6",
    "ORR_best_M3": "best ORR (month-3 analysis)", "CR_CRi": "CR + CRi",
    "CR": "CR", "CR_best": "best CR", "CR_M3": "CR at month 3", "CR_M6": "CR at month 6",
    "CR_or_better": "CR or better", "sCR": "sCR", "sCR_CR": "sCR + CR",
    "PFS_12m": "PFS at 12 months", "PFS_18m": "PFS at 18 months", "PFS_24m": "PFS at 24 months",
    "PFS_median": "median PFS",
}
# Disease read from the population text; first match wins (order matters: "B-ALL" before "B-cell").
DISEASE_RULES = [
    ("B-ALL", ("B-ALL",)),
    ("MCL", ("MCL",)),
    ("FL", ("r/r FL", " FL")),
    ("B-cell lymphoma", ("LBCL", "B-cell lymphoma", "NHL")),
    ("Multiple myeloma", ("RRMM", "myeloma")),
    ("Gastric/GEJ cancer", ("G/GEJ", "gastric")),
]
DISEASE_ORDER = ["B-cell lymphoma", "FL", "MCL", "B-ALL", "Multiple myeloma", "Gastric/GEJ cancer", "Other"]
REGION_ORDER = ["China", "global"]
REGION_STYLE = {"China": (OKABE_ITO[0], MARKERS[0]), "global": (OKABE_ITO[1], MARKERS[1])}
TIME_TO_EVENT = "Kaplan–Meier estimate, no binomial interval"
TIME_TO_EVENT_MEDIAN = "median time, no binomial interval"

# The review's efficacy claims and the public results they are read against.
def disease(population: Any) -> str:
    text = f" {population}" if isinstance(population, str) else ""
    for label, keys in DISEASE_RULES:
        if any(key in text for key in keys):
            return label
    return "Other"


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
    """The result as its source gives it: '77.59 %', '79–89 %', '12.6 months'."""
    return stated(row["value"], row["value_low"], row["value_high"], row["qualifier"], row["unit"], number=as_given)


def interval_shown(row: Any) -> str:
    """What the CI column says: the exact interval, the source's own interval, or why none."""
    source_ci = ""
    if not stats.is_missing(row["ci_low"]) and not stats.is_missing(row["ci_high"]):
        source_ci = stated(None, row["ci_low"], row["ci_high"], "range", row["unit"], number=as_given)
    if not stats.is_missing(row["cp_low"]):
        text = "exact " + stats.format_interval(row["cp_low"], row["cp_high"])
        return text + (f"; source: {source_ci}" if source_ci else "")
    if source_ci:
        return f"{row['count_basis']}; 95 % CI as reported: {source_ci}"
    return str(row["count_basis"])


def prepare(efficacy: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Every result with its disease, endpoint family, product target, count basis, exact
    interval and display columns; sorted for showing."""
    import pandas as pd

    targets = dict(zip(products["product_id"], products["target"]))
    frame = efficacy.copy()
    frame["family"] = frame["endpoint"].map(FAMILY).fillna("other")
    frame["endpoint_label"] = frame["endpoint"].map(ENDPOINT_LABEL).fillna(frame["endpoint"])
    frame["disease"] = frame["population"].map(disease)
    frame["target"] = frame["product_id"].map(targets)
    frame["short_name"] = [short_name(p, n) for p, n in zip(frame["product_id"], frame["product_name"])]
    frame["is_claim"] = frame["source_id"] == REVIEW_SOURCE
    binomial = frame["family"].isin(["response", "complete"]) & (frame["unit"] == "percent")
    frame = stats.with_exact_intervals(frame, binomial=binomial, not_binomial_label=TIME_TO_EVENT)
    frame.loc[frame["family"] == "pfs_median", "count_basis"] = TIME_TO_EVENT_MEDIAN
    frame.loc[frame["is_claim"], "count_basis"] = "review's claim, no count given"
    frame["value_shown"] = [value_shown(r) for _, r in frame.iterrows()]
    frame["interval_shown"] = [interval_shown(r) for _, r in frame.iterrows()]
    frame["responders_shown"] = [
        "" if stats.is_missing(k) else (f"{int(k)}" if b == stats.STATED else f"{int(k)} (exact from value × n)")
        for k, b in zip(frame["responders_used"], frame["count_basis"])]
    frame["n_shown"] = ["" if stats.is_missing(n) else str(int(n)) for n in frame["n"]]
    frame["trial_shown"] = [t if stats.is_missing(r) else f"{t} ({r})" for t, r in zip(frame["trial"], frame["registration_id"])]
    frame["dates_shown"] = [
        "; ".join(p for p in (("cut " + d.strftime("%Y-%m-%d")) if not pd.isna(d) else "",
                              ("published " + q.strftime("%Y-%m-%d")) if not pd.isna(q) else "published: undated") if p)
        for d, q in zip(frame["data_cut"], frame["published"])]
    frame["_d"] = frame["disease"].map(DISEASE_ORDER.index)
    frame["_f"] = frame["family"].map(lambda f: FAMILY_ORDER.index(f) if f in FAMILY_ORDER else len(FAMILY_ORDER))
    frame["_r"] = frame["region"].map(REGION_ORDER.index)
    frame = frame.sort_values(["_d", "_f", "_r", "short_name", "endpoint", "result_id"]).drop(columns=["_d", "_f", "_r"])
    return frame.reset_index(drop=True)


def value_of(prepared: pd.DataFrame, result_id: str, missing: str = NOT_IN_EDITION) -> str:
    """The shown value of one result, or ``missing`` when the row is not known at the edition date."""
    hit = prepared.loc[prepared["result_id"] == result_id, "value_shown"]
    return str(hit.iloc[0]) if len(hit) else missing
