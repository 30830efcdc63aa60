"""The registry's CAR-T trials as an edition sees them: which snapshot, which trials, and the
derived columns (location group, active, phase group, branch, sponsor type) by the definitions
the trial-landscape chapter states. Shared by that chapter and the claims audit, so that a claim
checked against the registry is counted exactly as the chapter counts.

Definitions: see :mod:`review_utils.chapters.trials`, whose docstring states them for readers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_utils.data.values import is_missing
from review_utils.render.text import NOT_IN_EDITION, format_value, with_unit

if TYPE_CHECKING:
    import pandas as pd

ONCOLOGY = "ctgov-car-t-oncology"
AUTOIMMUNE = "ctgov-car-t-rheumatology"
CHINA = "China"
COLLECTION_NAMES = {ONCOLOGY: "oncology collection", AUTOIMMUNE: "autoimmune collection"}
ACTIVE = ("RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "ENROLLING_BY_INVITATION")
GROUPS = ("mainland China only", "mainland China and elsewhere", "elsewhere only", "no location listed")
BRANCH_NAMES = {"Heme-onc": "haematological", "Solid-onc": "solid tumour", "Mixed": "haematological and solid",
                "Autoimmune": "autoimmune", "Unknown": "not classified"}
PHASE_ORDER = ("early phase I", "phase I", "phase I/II", "phase II", "phase II/III or III", "phase IV", "not applicable or not given")
STATUS_WORDS = {"RECRUITING": "recruiting", "NOT_YET_RECRUITING": "not yet recruiting",
                "ACTIVE_NOT_RECRUITING": "active, not recruiting", "ENROLLING_BY_INVITATION": "enrolling by invitation",
                "COMPLETED": "completed", "TERMINATED": "terminated", "WITHDRAWN": "withdrawn", "SUSPENDED": "suspended",
                "UNKNOWN": "unknown", "AVAILABLE": "expanded access available", "NO_LONGER_AVAILABLE": "no longer available",
                "TEMPORARILY_NOT_AVAILABLE": "temporarily not available", "APPROVED_FOR_MARKETING": "approved for marketing",
                "WITHHELD": "withheld"}


def percent(part: int, whole: int) -> str:
    return with_unit(format_value(round(100 * part / whole, 1)), "percent") if whole else NOT_IN_EDITION


@dataclass
class Landscape:
    as_of: dt.date
    snapshots: list[Any]  # index rows used, one per collection
    trials: pd.DataFrame  # one row per trial of the edition, with the derived columns
    sites: pd.DataFrame
    left_out_future: int
    overlap: int
    previous: Any = None  # the oncology snapshot before the edition's, when the edition has one
    previous_trials: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # views computed once per edition

    @property
    def label(self) -> str:
        return "; ".join(f"{COLLECTION_NAMES.get(s.collection, s.collection)} pulled {s.snapshot_date.date().isoformat()}"
                         for s in self.snapshots)


def start_dates(trials: pd.DataFrame) -> pd.Series:
    """Start as a timestamp: the day; the month's first day; else the StartYear's first day."""
    import pandas as pd

    text = trials["StartDate"].astype("string")
    full = text.where(text.str.len() == 10)
    month = text.where(text.str.len() == 7) + "-01"
    dates = pd.to_datetime(full.fillna(month), format="%Y-%m-%d", errors="coerce")
    if "StartYear" in trials.columns:
        years = pd.to_numeric(trials["StartYear"], errors="coerce")
        from_year = pd.to_datetime(years.astype("Int64").astype("string") + "-01-01", format="%Y-%m-%d", errors="coerce")
        dates = dates.fillna(from_year)
    return dates


def _by_value(values: pd.Series, rule: Any) -> pd.Series:
    """``rule`` applied once per distinct value (a snapshot has few distinct phases or country lists)."""
    import pandas as pd

    text = values.astype("string").fillna("").tolist()
    done = {v: rule(v) for v in set(text)}
    return pd.Series([done[v] for v in text], index=values.index, dtype="string")


def _group(countries: str) -> str:
    items = [i for i in countries.split("|") if i]
    if not items:
        return GROUPS[3]
    if CHINA in items:
        return GROUPS[0] if set(items) == {CHINA} else GROUPS[1]
    return GROUPS[2]


def location_group(countries: pd.Series) -> pd.Series:
    return _by_value(countries, _group)


def _phase(text: str) -> str:
    parts = set(text.split("|"))
    if parts & {"PHASE3"}:
        return PHASE_ORDER[4]
    if parts == {"PHASE1", "PHASE2"}:
        return PHASE_ORDER[2]
    for code, name in (("PHASE4", PHASE_ORDER[5]), ("PHASE2", PHASE_ORDER[3]), ("PHASE1", PHASE_ORDER[1]),
                       ("EARLY_PHASE1", PHASE_ORDER[0])):
        if code in parts:
            return name
    return PHASE_ORDER[6]


def phase_group(phase: pd.Series) -> pd.Series:
    return _by_value(phase, _phase)


def _prepare(trials: pd.DataFrame, collection: str) -> pd.DataFrame:
    frame = trials.copy()
    frame["collection"] = collection
    frame["start"] = start_dates(frame)
    frame["start_year"] = frame["start"].dt.year.astype("Int64")
    frame["group"] = location_group(frame["Countries"])
    frame["in_china"] = frame["group"].isin(GROUPS[:2])
    frame["located"] = frame["group"] != GROUPS[3]
    frame["active"] = frame["OverallStatus"].isin(ACTIVE)
    frame["phase_group"] = phase_group(frame["Phase"])
    import pandas as pd

    branch = frame["Branch"] if collection == ONCOLOGY else pd.Series("Autoimmune", index=frame.index, dtype="string")
    frame["branch"] = _by_value(branch, lambda b: BRANCH_NAMES.get(b or "Unknown", b))
    frame["sponsor"] = _by_value(frame["LeadSponsorClass"], lambda c: "industry" if c == "INDUSTRY" else "academic and other")
    frame["target"] = frame["TargetCategory"].fillna("Other_or_unknown")
    return frame


# The columns the counts read. Cells are read as text, quickly: every column of every snapshot
# has been typed and checked by `review validate` (which every build runs first).
COUNT_COLUMNS = ["NCTId", "OverallStatus", "Phase", "Countries", "StartDate", "StartYear", "Branch",
                 "LeadSponsorClass", "TargetCategory"]
CHAPTER_COLUMNS = COUNT_COLUMNS + ["BriefTitle", "Conditions", "Interventions"]
SITE_COLUMNS = ["NCTId", "Facility", "City", "Country"]


def landscape(index: pd.DataFrame, data_dir: Path, as_of: dt.date, *, light: bool = False) -> Landscape | None:
    """The edition's trials, or ``None`` when no snapshot was pulled on or before ``as_of``
    (``index`` is the package's registry_snapshots table, already filtered by the edition)."""
    import pandas as pd

    from review_utils.data.registry import load_snapshot

    cutoff = pd.Timestamp(as_of)
    index = index[index["snapshot_date"] <= cutoff].sort_values(["collection", "snapshot_date"])
    if index.empty:
        return None
    latest = index.groupby("collection", sort=True).tail(1)
    frames, site_frames, used = [], [], []
    for collection in (ONCOLOGY, AUTOIMMUNE):
        rows = latest[latest["collection"] == collection]
        if rows.empty:
            continue
        row = rows.iloc[0]
        snap = load_snapshot(data_dir, row, columns=COUNT_COLUMNS if light else CHAPTER_COLUMNS,
                             site_columns=SITE_COLUMNS, sites=not light, typed=False)
        frames.append(_prepare(snap.trials, collection))
        site_frames.append(snap.sites)
        used.append(row)
    combined = pd.concat(frames, ignore_index=True)
    duplicated = combined["NCTId"].duplicated(keep="first")
    overlap = int(duplicated.sum())
    combined = combined[~duplicated]
    future = combined["start"] > cutoff
    trials = combined[~future].reset_index(drop=True)
    sites = pd.concat(site_frames, ignore_index=True).drop_duplicates(["NCTId", "Facility", "City", "Country"])
    sites = sites[sites["NCTId"].isin(set(trials["NCTId"]))].reset_index(drop=True)
    result = Landscape(as_of, used, trials, sites, int(future.sum()), overlap)
    earlier = index[(index["collection"] == ONCOLOGY)]
    if len(earlier) >= 2 and not light:
        previous = earlier.iloc[-2]
        result.previous = previous
        old = load_snapshot(data_dir, previous, columns=COUNT_COLUMNS, sites=False, typed=False).trials
        result.previous_trials = old[~(start_dates(old) > cutoff)].reset_index(drop=True)
    return result


# ----------------------------------------------------------------------------- for the audit
MEASURES = {"china_share": "percent", "china_active": "count"}


def measure(land: Landscape, name: str, holds_for: Any = None) -> tuple[float, str]:
    """A registry figure a claim can be checked against, and its definition in words.

    ``china_share``: trials with a site in mainland China, in percent of trials that list a site;
    with ``holds_for`` (the claim's date), only trials started on or before it (a trial's
    registration date is not in the snapshots, its start date stands in).
    ``china_active``: active trials (statuses of :data:`ACTIVE`) with a site in mainland China, by
    their status in the snapshot (the snapshots do not record past statuses).
    """
    import pandas as pd

    trials = land.trials
    where = (f"ClinicalTrials.gov CAR-T trials ({land.label}; trials registered only in ChiCTR are absent)")
    if name == "china_share":
        scope = ""
        if holds_for is not None and not is_missing(holds_for):
            trials = trials[trials["start"].notna() & (trials["start"] <= pd.Timestamp(holds_for))]
            scope = f", started by {pd.Timestamp(holds_for):%Y-%m-%d}"
        located = trials[trials["located"]]
        value = 100 * float(located["in_china"].sum()) / len(located) if len(located) else float("nan")
        return value, (f"registry: trials with a site in mainland China in percent of trials listing a site{scope}, "
                       f"{where}: {format_value(int(located['in_china'].sum()))} of {format_value(len(located))} = "
                       f"{format_value(round(value, 1))} %")
    if name == "china_active":
        value = int((trials["active"] & trials["in_china"]).sum())
        return float(value), (f"registry: active trials (recruiting, not yet recruiting, active but not recruiting, "
                              f"or enrolling by invitation, status as of the snapshot) with a site in mainland China, "
                              f"{where}: {format_value(value)}")
    raise KeyError(name)
