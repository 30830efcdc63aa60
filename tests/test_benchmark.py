"""The benchmark's results: loading (with errors that say what is wrong), summaries, ratios, slopes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review_utils.chapters import benchmark
from review_utils.chapters.benchmark import ResultsError


def document(runs: list[tuple[str, int, float]], scenarios: dict | None = None) -> dict:
    described = {
        "cold": {"description": "cold", "tool": "review", "kind": "cold", "notebooks": 12, "group": "book"},
        "no_change": {"description": "nothing changed", "tool": "review", "kind": "rebuild", "group": "book"},
        "csv_edit": {"description": "one CSV", "tool": "review", "kind": "rebuild", "group": "book",
                     "edited": "data/policy_events.csv", "readers": ["a", "b", "c"]},
        "jb_force": {"description": "plain", "tool": "jupyter-book", "kind": "cold", "notebooks": 12,
                     "group": "book"},
        "scale_nb_10x": {"description": "10x", "tool": "review", "kind": "cold", "notebooks": 120,
                         "group": "scale"},
        "scale_nb_50x": {"description": "50x", "tool": "review", "kind": "cold", "notebooks": 600,
                         "group": "scale"},
        "scale_data_100x": {"description": "data", "tool": "review", "kind": "cold", "notebooks": 12,
                            "group": "scale", "data_scale": 100, "rows": 39600},
    }
    return {
        "format": benchmark.FORMAT, "created": "2026-11-24T01:00:00+00:00", "command": "bench/build.py",
        "duration_s": 1800.0, "repeat": 3,
        "machine": {"cpu_model": "Test CPU", "cores": 2, "ram_gib": 24.0, "python": "3.11.7",
                    "packages": {"sphinx": "7.4.7", "jupyter-book": "1.0.4"}},
        "scenarios": scenarios or described,
        "runs": [{"scenario": s, "repeat": r, "seconds": x} for s, r, x in runs],
    }


RUNS = [
    ("cold", 1, 10.0), ("jb_force", 1, 40.0), ("no_change", 1, 0.2), ("csv_edit", 1, 3.0),
    ("cold", 2, 12.0), ("jb_force", 2, 30.0), ("no_change", 2, 0.3), ("csv_edit", 2, 4.0),
    ("cold", 3, 11.0), ("jb_force", 3, 33.0), ("no_change", 3, 1.5), ("csv_edit", 3, 5.0),
    ("scale_nb_10x", 1, 80.0), ("scale_nb_50x", 1, 390.0), ("scale_data_100x", 1, 300.0),
]


@pytest.fixture
def results():
    return benchmark.from_dict(document(RUNS))


def test_summary_is_median_and_range_per_scenario_in_described_order(results):
    summary = {s.scenario: s for s in benchmark.summarise(results)}
    assert list(summary) == ["cold", "no_change", "csv_edit", "jb_force", "scale_nb_10x", "scale_nb_50x",
                             "scale_data_100x"]
    assert (summary["cold"].median, summary["cold"].low, summary["cold"].high, summary["cold"].runs) == (11.0, 10.0, 12.0, 3)
    assert summary["no_change"].median == 0.3


def test_ratio_of_medians_with_the_spread_of_same_repeat_pairs(results):
    r = benchmark.ratio(results, "cold", "jb_force")
    assert r.value == pytest.approx(11.0 / 33.0)
    assert (r.low, r.high, r.pairs) == (pytest.approx(10 / 40), pytest.approx(12 / 30), 3)


def test_a_scenario_run_once_is_set_against_every_run_of_the_other(results):
    r = benchmark.ratio(results, "scale_nb_10x", "cold")
    assert r.value == pytest.approx(80 / 11)
    assert (r.low, r.high, r.pairs) == (pytest.approx(80 / 12), pytest.approx(80 / 10), 3)


def test_targets_are_judged_on_medians(results):
    verdicts = {v.target.key: v for v in benchmark.evaluate(results)}
    assert verdicts["cold_vs_jb_force"].met  # 0.33 <= 0.5
    assert verdicts["no_change"].value == 0.3 and verdicts["no_change"].met  # the slow outlier does not decide
    assert verdicts["no_change"].high == 1.5
    csv = verdicts["csv_edit_vs_cold"]
    assert csv.value == pytest.approx(4.0 / 11.0) and not csv.met  # 0.36 > 0.35
    assert verdicts["scale_10x_vs_cold"].value == pytest.approx(80.0 / 11.0) and verdicts["scale_10x_vs_cold"].met


def test_a_target_whose_scenarios_were_not_measured_is_left_out():
    partial = benchmark.from_dict(document([("cold", 1, 10.0), ("no_change", 1, 0.5)]))
    assert [v.target.key for v in benchmark.evaluate(partial)] == ["no_change"]


def test_slopes_give_seconds_per_notebook_and_growth_against_the_smallest_book(results):
    slopes = {s.scenario: s for s in benchmark.slopes(results)}
    assert set(slopes) == {"cold", "scale_nb_10x", "scale_nb_50x", "jb_force"}  # the data-scaled book is apart
    assert slopes["cold"].per_notebook == pytest.approx(11.0 / 12)
    assert slopes["scale_nb_50x"].per_notebook == pytest.approx(390.0 / 600)
    assert slopes["scale_nb_10x"].work_growth == 10 and slopes["scale_nb_10x"].growth == pytest.approx(80 / 11)
    assert slopes["jb_force"].growth == 1.0  # the smallest book of its own tool


def test_headline_glues_every_number_as_text(results):
    text = benchmark.headline(results)
    assert text["cold_s"] == "11.00 s" and text["cold_range"] == "10.00–12.00 s"
    assert text["no_change_range"] == "0.20–1.50 s" and text["no_change_met"] == "met"
    assert text["cold_vs_jb_force"] == "0.33" and text["cold_vs_jb_force_met"] == "met"
    assert text["csv_edit_vs_cold_met"] == "not met"
    assert text["csv_readers"] == "3" and text["csv_file"] == "data/policy_events.csv"
    assert text["per_nb_scale_nb_10x"] == "0.67 s"
    assert text["scale_verdict"].startswith("at every size measured, time grew less")
    assert text["jb_cache_s"] == benchmark.NOT_MEASURED  # not in this run
    assert text["data_rows"] == "39,600"
    assert text["date"] == "2026-11-24"
    assert "Test CPU, 2 cores, 24 GiB RAM" in text["machine"]


def test_tables_and_figure_are_built_from_the_runs(results):
    table = benchmark.scenario_table(results)
    cold = table[table["scenario"] == "cold"].iloc[0]
    assert (cold["runs"], cold["median_s"], cold["all_runs_s"]) == (3, "11.00", "10.00, 12.00, 11.00")
    targets = benchmark.targets_table(results)
    assert list(targets["met"][:4]) == ["yes", "yes", "no", "yes"]
    assert len(benchmark.runs_frame(results)) == len(RUNS)
    fig = benchmark.figure(results)
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 4  # the book's scenarios, not the scale ones


def test_a_missing_results_file_gives_an_empty_page(tmp_path):
    results = benchmark.load_for_book(tmp_path)
    assert results.runs == [] and benchmark.evaluate(results) == []
    assert set(benchmark.headline(results).values()) >= {benchmark.NOT_MEASURED}
    for table in (benchmark.scenario_table(results), benchmark.targets_table(results),
                  benchmark.slope_table(results), benchmark.runs_frame(results)):
        assert table.empty and len(table.columns) >= 4  # the page's tables still have their columns
    assert len(benchmark.figure(results).axes) == 1  # the placeholder


def write(tmp_path: Path, content) -> Path:
    path = tmp_path / "latest.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("runs"), "'runs' is missing"),
    (lambda d: d.update(format=99), "'format' is 99; this version reads format 1"),
    (lambda d: d["runs"][1].update(seconds="fast"), "runs[1].seconds is 'fast', not a number of seconds"),
    (lambda d: d["runs"][0].update(seconds=-1), "runs[0].seconds is -1, not a number of seconds"),
    (lambda d: d["runs"][2].update(repeat=0), "runs[2].repeat is 0, not a repeat number"),
    (lambda d: d["runs"][0].pop("scenario"), "runs[0] lacks scenario"),
    (lambda d: d["runs"][0].update(scenario="warp"), "runs[0].scenario 'warp' is not described under 'scenarios'"),
    (lambda d: d["scenarios"]["cold"].pop("description"), "scenarios.cold needs a 'description' text"),
    (lambda d: d.update(machine="fast"), "'machine' is a str, not a dict"),
    (lambda d: d.update(runs=[]), "'runs' is empty"),
])
def test_a_malformed_results_file_names_the_file_and_the_problem(tmp_path, change, message):
    raw = document(RUNS)
    change(raw)
    path = write(tmp_path, raw)
    with pytest.raises(ResultsError) as caught:
        benchmark.load(path, shown_as="bench/results/latest.json")
    text = str(caught.value)
    assert text.startswith("bench/results/latest.json: ")
    assert message in text
    assert "re-run the benchmark: .venv/bin/python bench/build.py" in text


def test_unreadable_json_is_reported_with_its_position(tmp_path):
    path = write(tmp_path, '{"format": 1,\n  "runs": [}')
    with pytest.raises(ResultsError, match=r"latest\.json: not valid JSON \(line 2, column"):
        benchmark.load(path)


def test_the_committed_results_file_loads():
    """The file the Methods appendix shows is a valid results document."""
    path = Path(__file__).resolve().parents[1] / benchmark.RESULTS_FILE
    if not path.is_file():
        pytest.skip("no committed benchmark results")
    results = benchmark.load(path)
    assert results.runs and benchmark.summarise(results)


def test_reading_a_file_outside_the_data_package_is_recorded_by_its_bytes(tmp_path):
    from review_utils.data import package as data

    (tmp_path / "bench/results").mkdir(parents=True)
    target = tmp_path / "bench/results/latest.json"
    name = data.record_file_read(target, tmp_path)
    assert name == "file:bench/results/latest.json"
    assert data.reads()[name]["fingerprint"] == "absent"
    target.write_text("{}", encoding="utf-8")
    data.record_file_read(target, tmp_path)
    assert data.reads()[name]["fingerprint"] == data.file_fingerprint(target) != "absent"


PAGES = {
    "budgets": {"chart_page": 1_500_000, "other_page": 600_000},
    "pages": [
        {"page": "book/a.html", "chart_page": True, "transferred": 700_400, "decoded": 1_900_000, "requests": 28,
         "budget": 1_500_000, "within_budget": True, "fcp_ms": 512.0},
        {"page": "book/b.html", "chart_page": False, "transferred": 650_000, "decoded": 900_000, "requests": 22,
         "budget": 600_000, "within_budget": False, "fcp_ms": None},
    ],
    "summary": {"pages": 2, "over_budget": ["book/b.html"], "largest_page": "book/a.html",
                "largest_transferred": 700_400, "largest_chart_page": 700_400, "largest_other_page": 650_000,
                "median_fcp_ms": 512.0},
}


def test_page_weights_are_shown_per_page_with_their_budget(tmp_path):
    (tmp_path / "bench/results").mkdir(parents=True)
    (tmp_path / benchmark.PAGES_RESULTS).write_text(json.dumps(PAGES), encoding="utf-8")
    texts, rows = benchmark.pages_for_book(tmp_path)
    assert texts["largest_kb"] == "700 kB" and texts["over_budget"] == "book/b.html"
    assert texts["budget_other_kb"] == "600 kB" and texts["median_fcp_ms"] == "512 ms"
    assert rows["within"].tolist() == ["yes", "no"]
    assert rows["fcp_ms"].tolist() == ["512", "not recorded"]


def test_page_weights_not_measured_and_malformed(tmp_path):
    texts, rows = benchmark.pages_for_book(tmp_path)
    assert set(texts.values()) == {"not measured"} and rows.empty
    (tmp_path / "bench/results").mkdir(parents=True)
    (tmp_path / benchmark.PAGES_RESULTS).write_text(json.dumps({"pages": []}), encoding="utf-8")
    with pytest.raises(ResultsError, match=r"pages\.json: missing or malformed entry 'budgets'.*bench/pages\.py"):
        benchmark.pages_for_book(tmp_path)


def test_the_committed_page_weights_load_and_cover_every_page():
    root = Path(__file__).resolve().parents[1]
    texts, rows = benchmark.pages_for_book(root)
    assert len(rows) == int(texts["pages"]) > 10
