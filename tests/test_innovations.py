"""Unit tests for review_utils.chapters.innovations (expected values worked out by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from review_utils.chapters import innovations as inn

COLUMNS = ["finding_id", "topic", "quantity", "value", "value_low", "value_high", "qualifier", "unit", "numerator",
           "denominator", "evidence_level", "date", "date_precision", "source_id", "locator", "note"]


def findings(rows):
    return pd.DataFrame(rows, columns=COLUMNS)


PAIR_ROWS = [
    ["F010", "preclinical", "with Huangqin", 65, None, None, "exact", "percent", None, None, "preclinical", None, None,
     "review2025", "abstract", ""],
    ["F009", "preclinical", "CAR-T alone", 40, None, None, "exact", "percent", None, None, "preclinical", None, None,
     "review2025", "abstract", ""],
    ["F011", "antigen_expression", "GPC3", None, 40, 60, "range", "percent", None, None, "not_stated", None, None,
     "review2025", "para 4", ""],
]


def test_regression_change_by_hand():
    change = inn.regression_change(40, 65)
    assert change["absolute_pp"] == 25          # 65 - 40
    assert change["relative_pct"] == 62.5       # 25 / 40 = 0.625
    assert inn.regression_change(50, 40) == {"absolute_pp": -10.0, "relative_pct": -20.0}
    with pytest.raises(ValueError):
        inn.regression_change(0, 10)


def test_pair_is_baseline_first_and_labelled_preclinical():
    pair = inn.huangqin_pair(findings(PAIR_ROWS))
    assert list(pair["finding_id"]) == ["F009", "F010"]
    assert list(pair["arm"]) == ["CAR-T alone", "CAR-T + Huangqin"]
    assert set(pair["evidence"]) == {"PRECLINICAL"}


def test_summary_text_and_missing():
    summary = inn.huangqin_summary(inn.huangqin_pair(findings(PAIR_ROWS)))
    assert summary == {"hq_before": "40 %", "hq_after": "65 %", "hq_abs_change": "25.0 percentage points",
                       "hq_rel_change": "62.5 %", "hq_evidence": "PRECLINICAL"}
    empty = inn.huangqin_summary(inn.huangqin_pair(findings(PAIR_ROWS[2:])))
    assert set(empty.values()) == {inn.MISSING}


def test_change_rows_are_labelled_and_computed():
    rows = inn.huangqin_change_rows(inn.huangqin_pair(findings(PAIR_ROWS)))
    assert list(rows["value_shown"]) == ["40 %", "65 %", "+25.0 percentage points", "+62.5 %"]
    assert set(rows["evidence"]) == {"PRECLINICAL"}
    assert set(rows["source_id"]) == {"review2025"}
    assert inn.huangqin_change_rows(inn.huangqin_pair(findings([]))).empty


def test_directions_order():
    recs = pd.DataFrame({"rec_id": ["REC1", "REC3", "REC4", "REC5", "REC6"],
                         "recommendation": list("abcde"), "example_or_benchmark": [None, "x", None, None, "y"],
                         "source_id": ["review2025"] * 5, "locator": ["p"] * 5, "note": [""] * 5})
    table = inn.directions(recs)
    assert list(table["rec_id"]) == ["REC5", "REC6", "REC3", "REC4"]
    assert list(table["example_shown"]) == ["(none given)", "y", "x", "(none given)"]


def test_figure_and_placeholder():
    import matplotlib

    matplotlib.use("Agg")
    fig = inn.huangqin_figure(inn.huangqin_pair(findings(PAIR_ROWS)))
    ax = fig.axes[0]
    assert [round(p.get_height()) for p in ax.patches] == [40, 65]
    assert "PRECLINICAL" in ax.get_title(loc="left")
    assert not inn.huangqin_figure(inn.huangqin_pair(findings([]))).axes[0].axison


def _designs(rows):
    columns = ["innovation_id", "direction", "product", "phase", "n_treated", "outcome", "value", "value_low",
               "value_high", "qualifier", "unit", "reported", "date_precision", "verified", "source_id"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["reported"] = pd.to_datetime(frame["reported"])
    return frame


def test_evidence_table_orders_by_phase_then_patients_then_result():
    rows = _designs([
        ["IN1", "in_vivo", "X", "phase 1", 5, "crs", 4, None, None, "exact", "count", "2026-01-01", "year", "yes", "s"],
        ["IN2", "cd7", "Y", "pooled analysis of five trials", 334, "n", 334, None, None, "exact", "count", "2025-12-01", "month", "yes", "s"],
        ["IN3", "autoimmune", "Z", "investigator-initiated", None, "status", None, None, None, None, None, "2023-11-01", "month", "yes", "s"],
        ["IN4", "allogeneic", "W", "phase 1/2", 62, "CR", 64.4, None, None, "exact", "percent", "2025-06-01", "month", "single_low_tier", "s"],
    ])
    table = inn.evidence_table(rows)
    assert table["innovation_id"].tolist() == ["IN2", "IN4", "IN1", "IN3"]  # pooled = phase 1/2 weight, more patients first
    assert table.loc[table["innovation_id"] == "IN3", "result_shown"].iloc[0] == "no result reported"
    assert table.loc[table["innovation_id"] == "IN4", "verified_shown"].iloc[0].startswith("single secondary source")
    summary = inn.evidence_summary(table)
    assert summary["inn_largest_product"] == "Y" and summary["inn_n_low_tier"] == 1 and summary["inn_n_autoimmune_results"] == 0
    assert inn.row_value(table, "IN4") == "64.4 %" and inn.row_n(table, "IN3") == "not stated"


def test_phase_weight_reads_the_wording():
    assert inn.phase_weight("phase 2") > inn.phase_weight("phase 1/2") > inn.phase_weight("phase 1") > \
        inn.phase_weight("investigator-initiated in China") > inn.phase_weight("unknown")


# -- interactive charts -------------------------------------------------------------------
def test_patients_chart_has_the_figures_rows_on_a_log_scale():
    from chart_helpers import assert_reader_tooltips, values

    rows = _designs([
        ["IN1", "in_vivo", "X", "phase 1", 5, "crs", 4, None, None, "exact", "count", "2026-01-01", "year", "yes", "s"],
        ["IN2", "cd7", "Y", "pooled analysis of five trials", 334, "n", 334, None, None, "exact", "count", "2025-12-01", "month", "yes", "s"],
        ["IN3", "autoimmune", "Z", "investigator-initiated", None, "status", None, None, None, None, None, "2023-11-01", "month", "yes", "s"],
        ["IN5", "in_vivo", "X", "phase 1", 3, "crs", 4, None, None, "exact", "count", "2025-01-01", "year", "yes", "s"],
    ]).assign(setting="r/r B-ALL")
    table = inn.evidence_table(rows)
    chart = inn.patients_chart(table)
    data = values(chart)
    # one bar per product with a stated number (Z has none; X keeps its first, strongest row)
    assert [(r["product"], r["n"]) for r in data] == [("Y", 334), ("X", 5)]
    assert chart.spec["encoding"]["x"]["scale"]["type"] == "log"
    assert_reader_tooltips(chart)
    largest = max(data, key=lambda r: r["n"])
    assert chart.summary == f"2 designs with a stated patient number: most {largest['product']} (334 patients), fewest X (5)."
