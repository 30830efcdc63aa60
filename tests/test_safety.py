"""Safety chapter: its table and figure recounted from data/safety.csv (read here with the csv
module, not through the chapter's code), exact intervals only from known counts, the
grade >= 3 <= any-grade validation rule, and the T-cell malignancy table."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from conftest import REPO, SOURCES_SPEC, write_package
from scipy.stats import beta

from review_utils.chapters import safety as sf
from review_utils.data.package import DataPackage
from review_utils.data.validate import validate_package

matplotlib.use("Agg")


def raw(name: str) -> list[dict[str, str]]:
    with open(REPO / "data" / f"{name}.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def package() -> DataPackage:
    return DataPackage(REPO / "data")


@pytest.fixture(scope="module")
def prepared(package) -> pd.DataFrame:
    return sf.prepare(package.load("safety"))


def cp(k: int, n: int) -> tuple[float, float]:
    low = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    high = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return 100 * low, 100 * high


def test_table_has_one_row_per_trial_event_and_grading_system(prepared):
    rows = [r for r in raw("safety") if r["event"] in ("CRS", "ICANS", "neurotoxicity")]
    groups = {(r["trial"], r["event"], r["grading_system"]) for r in rows}
    table = sf.crs_icans_table(prepared)
    assert len(table) == len(groups)
    by_ids = {tuple(t["safety_ids"].split(", ")): t for _, t in table.iterrows()}
    seen = set()
    for ids, t in by_ids.items():
        members = [r for r in rows if r["safety_id"] in ids]
        # one trial, one event, one grading system per table row: scales are never merged
        assert len({(r["trial"], r["event"], r["grading_system"]) for r in members}) == 1
        seen |= set(ids)
        for r in members:
            cell = t["any_grade"] if r["grade_threshold"] == "any" else t["grade_3"]
            if r["value"]:
                assert cell.startswith(f"{float(r['value']):g} %"), (r["safety_id"], cell)
            # a row whose note says "not verified" makes the table row say so
            if "not verified" in r["note"].lower():
                assert t["checked"] == sf.NOT_VERIFIED
        if all("not verified" not in r["note"].lower() for r in members):
            assert t["checked"] == sf.VERIFIED
    assert seen == {r["safety_id"] for r in rows}


def test_exact_intervals_only_where_the_count_is_known(prepared):
    by_id = prepared.set_index("safety_id")
    n_exact = 0
    for r in raw("safety"):
        got = by_id.loc[r["safety_id"]]
        known = bool(r["events"] and r["n"])
        if known and "events derived:" in r["note"]:
            # a count worked out from a rounded percentage is not known, unless value x n is whole
            known = abs(float(r["value"]) * int(r["n"]) / 100 - round(float(r["value"]) * int(r["n"]) / 100)) < 1e-9
        if not known and r["value"] and r["n"]:
            known = abs(float(r["value"]) * int(r["n"]) / 100 - round(float(r["value"]) * int(r["n"]) / 100)) < 1e-9
        if known:
            k = int(r["events"]) if r["events"] else round(float(r["value"]) * int(r["n"]) / 100)
            low, high = cp(k, int(r["n"]))
            assert got["cp_low"] == pytest.approx(low) and got["cp_high"] == pytest.approx(high), r["safety_id"]
            assert got["interval_shown"].startswith("exact ")
            n_exact += 1
        else:
            assert pd.isna(got["cp_low"]) and not got["interval_shown"].startswith("exact"), r["safety_id"]
    assert n_exact == int(prepared["cp_low"].notna().sum())
    # CARTIFAN-1's any-grade CRS count was derived from 97.9 % of 48: shown without an interval
    if "S07" in by_id.index:
        assert by_id.loc["S07", "count_basis"] == sf.DERIVED_FROM_PERCENT


def test_figure_shows_every_grade_3_rate_under_its_own_grading_system(prepared):
    rows = raw("safety")
    by_id = {r["safety_id"]: r for r in rows}
    panels = [("CRS", sf.figure_rows(prepared, "CRS")), ("neuro", sf.figure_rows(prepared, "neuro"))]
    fig = sf.grade3_plot(panels)
    try:
        for ax, (name, expected_events) in zip(fig.axes, (("CRS", {"CRS"}), ("neuro", {"ICANS", "neurotoxicity"}))):
            expected = {r["safety_id"] for r in rows if r["event"] in expected_events
                        and r["grade_threshold"] in ("ge3", "g3_4") and r["value"]}
            headers = {t.get_position()[1]: t.get_text() for t in ax.texts}
            labels = [t.get_text() for t in ax.get_yticklabels()]
            plotted = [lab.split(" ")[0] for lab in labels if lab]
            assert set(plotted) == expected and len(plotted) == len(expected)
            # every plotted row sits under the header of its own event and grading system
            current = None
            for y, lab in enumerate(labels):
                if not lab:
                    current = headers[y]
                    continue
                r = by_id[lab.split(" ")[0]]
                assert current == f"{sf.EVENT_LABEL[r['event']]}, {sf.GRADING_LABEL[r['grading_system']]}", lab
                assert lab.endswith("(not verified)") == ("not verified" in r["note"].lower())
            # the points are the CSV's percentages
            xs = sorted(float(x) for coll in ax.collections for x in coll.get_offsets()[:, 0])
            assert xs == sorted(float(by_id[i]["value"]) for i in expected)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_figure_data_and_empty_figure(prepared):
    panels = [("CRS", sf.figure_rows(prepared, "CRS")), ("neuro", sf.figure_rows(prepared, "neuro"))]
    assert len(sf.figure_data(panels)) == sum(len(rows) for _, rows in panels)
    empty = sf.grade3_plot([("CRS", prepared.iloc[0:0])])
    assert empty.axes[0].texts[0].get_text().startswith("No data")


def test_summary_counts_match_the_csv(prepared, package):
    rows = raw("safety")
    s = sf.summary(prepared, package.load("tcell_malignancy"))
    assert s["n_rows"] == len(rows)
    assert s["n_not_verified"] == sum("not verified" in r["note"].lower() for r in rows)
    assert s["n_verified"] + s["n_not_verified"] == len(rows)
    china = [r for r in rows if r["region"] == "China" and r["event"] in ("CRS", "ICANS", "neurotoxicity")]
    assert s["n_china_rows"] == len(china)
    assert s["n_china_scale_named"] == sum(r["grading_system"] not in ("not_stated", "not_confirmed") for r in china)
    assert s["grade3"] == "grade ≥ 3"


def test_tcell_table_in_date_order_with_counts_as_stated(package):
    frame = sf.tcell_table(package.load("tcell_malignancy"))
    rows = {r["event_id"]: r for r in raw("tcell_malignancy")}
    assert set(frame["event_id"]) == set(rows)
    dates = [d for d in frame["date"] if not pd.isna(d)]
    assert dates == sorted(dates)
    for _, t in frame.iterrows():
        r = rows[t["event_id"]]
        if r["cases"] and r["denominator"]:
            assert t["cases_shown"] == f"{int(r['cases']):,} of {int(r['denominator']):,}"
        elif not r["cases"]:
            assert t["cases_shown"] == ""


SAFETY_FIELDS = [{"name": n, "type": t} for n, t in (
    ("safety_id", "string"), ("trial", "string"), ("event", "string"), ("grade_threshold", "string"),
    ("grading_system", "string"), ("n", "integer"), ("events", "integer"), ("value", "number"))]
RULE = {"type": "lessOrEqualAcrossRows", "key": ["trial", "event", "grading_system"], "field": "grade_threshold",
        "smaller": ["ge3", "g3_4"], "larger": "any", "compare": ["events", "value"]}


def check(tmp_path: Path, rows: str) -> list[str]:
    folder = write_package(tmp_path / "data", {
        "sources": SOURCES_SPEC,
        "safety": {"fields": SAFETY_FIELDS, "rows": rows, "primaryKey": ["safety_id"], "rules": [RULE]}})
    return [str(p) for p in validate_package(folder)]


HEADER = "safety_id,trial,event,grade_threshold,grading_system,n,events,value\n"


def test_rule_grade_3_not_above_any_grade(tmp_path):
    good = HEADER + "S1,T,CRS,any,Lee_2014,50,20,40\nS2,T,CRS,ge3,Lee_2014,50,5,10\n"
    assert check(tmp_path / "a", good) == []
    bad = HEADER + "S1,T,CRS,any,Lee_2014,50,20,40\nS2,T,CRS,ge3,Lee_2014,50,25,10\n"
    assert check(tmp_path / "b", bad) == [
        "data/safety.csv row 3, column events: 25 is more than 20 in row 2, the grade_threshold 'any' row of the "
        "same trial 'T', event 'CRS', grading_system 'Lee_2014'; a grade_threshold 'ge3' figure cannot exceed the "
        "'any' one: correct one of the two rows [events: grade_threshold ge3<=any]"]


def test_rule_counts_grade_3_4_as_grade_3_and_compares_values(tmp_path):
    rows = HEADER + "S1,T,CRS,any,Penn,50,,40\nS2,T,CRS,g3_4,Penn,50,,45.5\n"
    problems = check(tmp_path, rows)
    assert len(problems) == 1 and "column value: 45.5 is more than 40 in row 2" in problems[0]
    assert problems[0].endswith("[value: grade_threshold g3_4<=any]")


def test_rule_never_compares_across_grading_systems_trials_or_events(tmp_path):
    rows = (HEADER + "S1,T,CRS,any,Lee_2014,50,10,20\nS2,T,CRS,ge3,ASTCT_2019,50,30,60\n"
            "S3,U,CRS,ge3,Lee_2014,50,30,60\nS4,T,ICANS,ge3,Lee_2014,50,30,60\n")
    assert check(tmp_path, rows) == []


def test_the_real_safety_table_passes_the_rule():
    assert not [p for p in validate_package(REPO / "data") if "grade_threshold" in p.rule]


# -- interactive chart --------------------------------------------------------------------
def test_grade3_chart_has_the_figures_rows_and_keeps_grading_systems_apart(prepared):
    from chart_helpers import assert_reader_tooltips, legend_filters, values

    panels = [("CRS", sf.figure_rows(prepared, "CRS")), ("neuro", sf.figure_rows(prepared, "neuro"))]
    rows = sf.figure_data(panels)
    chart = sf.grade3_chart(rows)
    data = values(chart)
    csv_rows = {r["safety_id"]: r for r in raw("safety")}
    # the same rates as the figure's download, in its order, with the CSV's percentages
    assert [r["value"] for r in data] == [float(csv_rows[i]["value"]) for i in rows["safety_id"]]
    assert len(data) == len(rows)
    # each row's label names its own event and grading system (never a pooled scale)
    for item, safety_id in zip(data, rows["safety_id"]):
        csv = csv_rows[safety_id]
        system = sf.GRADING_SHORT.get(csv["grading_system"], sf.GRADING_LABEL[csv["grading_system"]])
        event = "Neurotox." if csv["event"] == "neurotoxicity" else csv["event"]
        assert item["row_label"].startswith(f"{event}, {system}: "), item["row_label"]
        assert item["grading_shown"] == sf.GRADING_LABEL[csv["grading_system"]]
        assert item["row_label"].endswith(f"({safety_id}, not verified)" if "not verified" in csv["note"].lower()
                                          else f"({safety_id})"), item["row_label"]
    assert len({r["row_label"] for r in data}) == len(data)
    assert_reader_tooltips(chart)
    assert legend_filters(chart)
    # the summary counts the rates of each event and grading system, and names no extreme
    groups = {}
    for safety_id in rows["safety_id"]:
        csv = csv_rows[safety_id]
        key = f"{sf.EVENT_LABEL[csv['event']]}, {sf.GRADING_LABEL[csv['grading_system']]}"
        groups[key] = groups.get(key, 0) + 1
    for key, count in groups.items():
        assert f"{key}: {count}" in chart.summary
    assert chart.summary.startswith(f"{len(rows)} ")
    assert "highest" not in chart.summary and "lowest" not in chart.summary
