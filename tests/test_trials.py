"""The trial-landscape chapter against a recount of the committed snapshot files.

The recount reads the CSV files with the standard library only (no pandas, no project reader)
and applies the chapter's written definitions; the chapter module's numbers must match it."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from chart_helpers import tooltip_entries
from conftest import REPO

from review_utils.chapters import trials as tr
from review_utils.data.package import DataPackage

DATA = REPO / "data"
ACTIVE = {"RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "ENROLLING_BY_INVITATION"}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _start(row: dict[str, str]) -> dt.date | None:
    if row["StartDate"]:
        return dt.date.fromisoformat(row["StartDate"])
    if row.get("StartYear"):
        return dt.date(int(float(row["StartYear"])), 1, 1)
    return None


def recount(as_of: dt.date) -> dict:
    index = [r for r in _rows(DATA / "registry" / "snapshots.csv") if dt.date.fromisoformat(r["snapshot_date"]) <= as_of]
    latest: dict[str, dict] = {}
    for row in sorted(index, key=lambda r: r["snapshot_date"]):
        latest[row["collection"]] = row
    seen, trials = set(), []
    future = 0
    for collection in ("ctgov-car-t-oncology", "ctgov-car-t-rheumatology"):
        if collection not in latest:
            continue
        for row in _rows(DATA / "registry" / latest[collection]["folder"] / "trials.csv"):
            if row["NCTId"] in seen:
                continue
            seen.add(row["NCTId"])
            start = _start(row)
            if start is not None and start > as_of:
                future += 1
                continue
            trials.append(row)
    countries = [[c for c in t["Countries"].split("|") if c] for t in trials]
    located = [t for t, c in zip(trials, countries) if c]
    china = [t for t, c in zip(trials, countries) if "China" in c]
    multi = [t for t, c in zip(trials, countries) if "China" in c and len(set(c)) > 1]
    active = [t for t in located if t["OverallStatus"] in ACTIVE]
    active_china = [t for t in active if "China" in t["Countries"].split("|")]
    ids = {t["NCTId"] for t in trials}
    sites = Counter()
    for collection, row in latest.items():
        for site in _rows(DATA / "registry" / row["folder"] / "sites.csv"):
            if site["NCTId"] in ids and site["Country"] == "China":
                sites[(site["NCTId"], site["Facility"], site["City"])] += 1
    return {"trials": len(trials), "located": len(located), "china": len(china), "multi": len(multi),
            "active": len(active), "active_china": len(active_china), "future": future,
            "china_sites": len(sites), "snapshots": sorted(r["snapshot_id"] for r in latest.values())}


def _land(as_of: str):
    package = DataPackage(DATA)
    return tr.landscape(package.load("registry_snapshots", as_of=as_of), DATA, dt.date.fromisoformat(as_of))


def _number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.parametrize("as_of", ["2026-11-23", "2026-05-31"])
def test_chapter_numbers_match_an_independent_recount(as_of):
    expected = recount(dt.date.fromisoformat(as_of))
    land = _land(as_of)
    summary = tr.summary(land)
    assert sorted(s.snapshot_id for s in land.snapshots) == expected["snapshots"]
    assert _number(summary["tr_n_trials"]) == expected["trials"]
    assert _number(summary["tr_n_located"]) == expected["located"]
    assert _number(summary["tr_n_china"]) == expected["china"]
    assert _number(summary["tr_n_china_multi"]) == expected["multi"]
    assert _number(summary["tr_n_active"]) == expected["active"]
    assert _number(summary["tr_n_active_china"]) == expected["active_china"]
    assert _number(summary["tr_n_future"]) == expected["future"]
    assert _number(summary["tr_n_china_sites"]) == expected["china_sites"]
    share = round(100 * expected["china"] / expected["located"], 1)
    assert summary["tr_share"].replace(" %", "") in (f"{share:g}", f"{share:.1f}")


def test_the_may_edition_shows_the_april_snapshot_and_no_change():
    land = _land("2026-05-31")
    assert [s.snapshot_id for s in land.snapshots] == ["ctgov-car-t-oncology/2026-04-24"]
    assert tr.changes(land) is None
    assert "2026-04-24" in tr.snapshot_note(land)


def test_an_edition_before_every_snapshot_says_so():
    land = _land("2025-12-31")
    assert land is None
    summary = tr.summary(land)
    assert "before the first registry snapshot" in summary["tr_edition_note"]
    views = tr.views(land)
    assert all(frame.empty for frame in views.values())
    assert "No registry snapshot" in tr.snapshot_note(land)


def test_changes_between_snapshots_recounted():
    land = _land("2026-11-23")
    change = tr.changes(land)
    old = {r["NCTId"]: r for r in _rows(DATA / "registry" / "ctgov-car-t-oncology" / "2026-04-24" / "trials.csv")
           if not (_start(r) and _start(r) > dt.date(2026, 11, 23))}
    new = {r["NCTId"]: r for r in _rows(DATA / "registry" / "ctgov-car-t-oncology" / "2026-08-22" / "trials.csv")
           if not (_start(r) and _start(r) > dt.date(2026, 11, 23))}
    assert change["added"] == len(set(new) - set(old))
    assert change["gone"] == len(set(old) - set(new))
    moved = [n for n in set(old) & set(new) if old[n]["OverallStatus"] != new[n]["OverallStatus"]]
    assert change["status_changed"] == len(moved)
    assert change["to_completed"] == sum(new[n]["OverallStatus"] == "COMPLETED" for n in moved)
    assert int(change["transitions"]["trials"].sum()) == len(moved)


def test_location_groups_keep_hong_kong_and_taiwan_apart():
    import pandas as pd

    groups = tr.location_group(pd.Series(["China", "China|Hong Kong", "Hong Kong", "Taiwan", "", "United States"]))
    assert groups.tolist() == ["mainland China only", "mainland China and elsewhere", "elsewhere only",
                               "elsewhere only", "no location listed", "elsewhere only"]


def test_phase_groups():
    import pandas as pd

    phases = tr.phase_group(pd.Series(["EARLY_PHASE1", "PHASE1|PHASE2", "PHASE2|PHASE3", "NA", None, "Unknown"]))
    assert phases.tolist() == ["early phase I", "phase I/II", "phase II/III or III", "not applicable or not given",
                               "not applicable or not given", "not applicable or not given"]


# ------------------------------------------------------------------ the audit's trial claims
def _audit(as_of: str):
    from review_utils.chapters.shared import audit
    from review_utils.data.evidence import RESOURCES_NEEDED

    package = DataPackage(DATA)
    keys = {n: package.resource(n).descriptor["schema"]["primaryKey"] for n in RESOURCES_NEEDED}
    tables = audit.load_tables(lambda n: package.load(n, as_of=as_of), package.load, keys, dt.date.fromisoformat(as_of), DATA)
    return audit.audit(tables).set_index("claim_id")


def test_trial_claims_are_recounted_from_the_registry_with_their_definition():
    verdicts = _audit("2026-11-23")
    expected = recount(dt.date(2026, 11, 23))
    share = verdicts.loc["C084"]
    assert share["status"] == "confirmed"  # over 50 %, and the recount (an independent source) is above it
    assert "in percent of trials listing a site" in share["evidence"]
    assert f"{expected['china']:,} of {expected['located']:,}" in share["evidence"]
    active = verdicts.loc["C084b"]
    assert active["status"] == "confirmed"
    assert "mainland China, ClinicalTrials.gov" in active["evidence"] and f"{expected['active_china']:,}" in active["evidence"]
    # all CGT trials: the snapshots cannot settle it, and the ledger says why
    assert verdicts.loc["C090b", "status"] == "not_checkable"
    assert "CAR-T trials only" in verdicts.loc["C090b", "needed"]


def test_trial_claims_before_every_snapshot_are_not_checkable_and_say_why():
    verdicts = _audit("2026-03-31")
    assert verdicts.loc["C084", "status"] == "not_checkable"
    assert "no ClinicalTrials.gov snapshot pulled on or before the edition date" in verdicts.loc["C084", "evidence"]
    assert "no ClinicalTrials.gov snapshot" in verdicts.loc["C084", "needed"]  # the reason stands beside the status


def test_registry_evidence_grammar():
    import pandas as pd

    from review_utils.data.evidence import EvidenceError, _item_problems, parse_evidence

    assert parse_evidence("registry china_share")[0].kind == "registry"
    with pytest.raises(EvidenceError, match="names one of china_share, china_active"):
        parse_evidence("registry china_trials")
    item = parse_evidence("registry china_active")[0]
    claim = pd.Series({"unit": "percent", "claim_id": "C999"})
    assert _item_problems(item, claim, {}, {}, set()) == [
        "registry china_active is in count, this claim in percent; compare like with like"]


# ----------------------------------------------------------------------------- interactive charts
def test_start_year_chart_has_every_year_and_the_same_totals():
    import pandas as pd

    table = pd.DataFrame({"start year": [2019, 2020, 2021],
                          "mainland China only": [2, 0, 7], "mainland China and elsewhere": [0, 0, 1],
                          "elsewhere only": [3, 4, 1], "no location listed": [0, 1, 0], "source_id": ["ct"] * 3})
    chart = tr.start_year_chart(table)
    rows = chart.spec["data"]["values"]
    totals = {}
    for r in rows:
        totals[r["start year"]] = totals.get(r["start year"], 0) + r["trials"]
        assert r["trials"] > 0 and r["group"] in tr.GROUPS and r["source_id"] == "ct"
    expected = dict(zip(table["start year"], table[list(tr.GROUPS)].sum(axis=1)))
    assert totals == expected
    assert all(r["year_total"] == expected[r["start year"]] for r in rows)
    best = max(expected, key=expected.get)  # 2021: 9
    assert f"largest {best} ({expected[best]})" in chart.summary
    assert "source_id" in [entry['field'] for entry in tooltip_entries(chart.spec)]
    assert chart.spec["encoding"]["color"]["scale"]["domain"] == [g for g in tr.GROUPS
                                                                  if table[g].sum() > 0]


def test_share_by_phase_chart_keeps_the_phase_rows_and_labels_n():
    import pandas as pd

    table = pd.DataFrame({"phase_group": ["early phase I", "phase I", "phase II"], "trials": [10, 40, 8],
                          "china": [9, 20, 2], "elsewhere": [1, 20, 6], "share": ["90 %", "50 %", "25 %"],
                          "share_value": [90.0, 50.0, 25.0], "source_id": ["ct"] * 3})
    chart = tr.share_by_phase_chart(table)
    bar, text = chart.spec["layer"]
    assert [r["phase_group"] for r in chart.spec["data"]["values"]] == list(table["phase_group"])
    assert {r["phase_group"]: r["_label"] for r in text["data"]["values"]}["phase I"] == "50 % (n=40)"
    high = table.loc[table["share_value"].idxmax()]
    assert f"highest in {high['phase_group']} ({high['share']} of {high['trials']} trials)" in chart.summary
    assert "lowest in phase II (25 % of 8)" in chart.summary
    assert bar["encoding"]["x"]["axis"]["gridOpacity"]["condition"]["test"] == "datum.value > 100"
    fields = [entry['field'] for entry in tooltip_entries(chart.spec)]
    assert {"source_id", "china", "elsewhere", "trials"} <= set(fields)


def test_city_chart_names_the_city_with_most_sites():
    import pandas as pd

    table = pd.DataFrame({"rank": [1, 2, 3], "city": ["Wuhan", "Beijing", "Hefei"], "sites": [30, 12, 5],
                          "trials": [20, 12, 5], "source_id": ["cs"] * 3})
    chart = tr.city_chart(table)
    assert [(r["city"], r["sites"]) for r in chart.spec["data"]["values"]] == list(zip(table["city"], table["sites"]))
    top = table.loc[table["sites"].idxmax()]
    assert f"most in {top['city']} ({top['sites']})" in chart.summary
    assert "source_id" in [entry['field'] for entry in tooltip_entries(chart.spec)]
