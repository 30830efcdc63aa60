"""Solid-tumour chapter logic on small frames shaped like data/findings.csv and approvals."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import beta

from review_utils.chapters import solid_tumours as st

FIELDS = ["finding_id", "topic", "quantity", "value", "value_low", "value_high", "qualifier", "unit", "numerator",
          "denominator", "evidence_level", "date", "date_precision", "source_id", "locator", "note"]


def findings(rows: list[dict]) -> pd.DataFrame:
    base = {c: None for c in FIELDS}
    data = pd.DataFrame([{**base, "qualifier": "exact", "locator": "x", **r} for r in rows], columns=FIELDS)
    for c in ("numerator", "denominator"):
        data[c] = pd.array(data[c], dtype="Int64")
    for c in ("value", "value_low", "value_high"):
        data[c] = pd.array(data[c], dtype="Float64")
    return data


ROWS = [
    dict(finding_id="F012", topic="antigen_expression", quantity="Share of gastric cancers expressing Claudin18.2",
         value=60, unit="percent", evidence_level="not_stated", source_id="review"),
    dict(finding_id="F011", topic="antigen_expression", quantity="Share of HCC patients whose tumours express GPC3",
         value_low=40, value_high=60, qualifier="range", unit="percent", evidence_level="not_stated", source_id="review"),
    dict(finding_id="F013", topic="tumour_microenvironment", quantity="Drop in CAR-T cytotoxicity", value=70,
         unit="percent", evidence_level="not_stated", source_id="review"),
    dict(finding_id="F014", topic="toxicity", quantity="Grade >=3 gastritis after Claudin18.2 CAR-T CT041", value=28,
         unit="percent", numerator=10, denominator=36, evidence_level="clinical", source_id="review"),
    dict(finding_id="F040", topic="toxicity", quantity="Secondary T-cell lymphoma cases after CAR-T", value=0,
         unit="count", evidence_level="regulatory", source_id="briefing"),
    dict(finding_id="F015", topic="trials", quantity="Size of the CT041 trial", value=36, unit="count",
         evidence_level="clinical", source_id="review"),
    dict(finding_id="F061", topic="trials", quantity="Patients in the CT041 interim report", value=37, unit="count",
         evidence_level="clinical", source_id="paper"),
    dict(finding_id="F060", topic="trials", quantity="CAR-T products heading for NDA", value=2, unit="count",
         evidence_level="market", source_id="news"),
    dict(finding_id="F009", topic="preclinical", quantity="Tumour regression in lung cancer models", value=40,
         unit="percent", evidence_level="preclinical", source_id="review"),
]


def test_selects_solid_tumour_rows_only():
    solid = st.solid_findings(findings(ROWS))
    assert list(solid["finding_id"]) == ["F011", "F012", "F013", "F014", "F015", "F061"]


def test_values_keep_ranges_and_qualifiers():
    assert st.finding_value({"qualifier": "range", "value_low": 40.0, "value_high": 60.0, "value": None,
                             "unit": "percent"}) == "40–60 %"
    assert st.finding_value({"qualifier": "about", "value": 60.0, "unit": "percent"}) == "about 60 %"
    assert st.finding_value({"qualifier": "over", "value": 133.0, "unit": "count"}) == "over 133"
    solid = st.solid_findings(findings(ROWS)).set_index("finding_id")
    assert solid.loc["F014", "fraction_shown"] == "10/36"
    assert solid.loc["F013", "evidence_shown"].startswith("not stated")


def test_antigens_and_tumours():
    rows = st.antigen_rows(findings(ROWS))
    assert list(zip(rows["antigen"], rows["tumour"])) == [("Claudin18.2", "gastric cancer"), ("GPC3", "HCC")]


def test_gastritis_interval_from_events_over_n():
    tox = st.toxicity_intervals(findings(ROWS))
    assert list(tox["finding_id"]) == ["F014"]  # F040 has no events / N
    row = tox.iloc[0]
    assert row["cp_low"] == pytest.approx(100 * beta.ppf(0.025, 10, 27))
    assert row["cp_high"] == pytest.approx(100 * beta.ppf(0.975, 11, 26))
    assert row["events_pct_shown"] == "27.8 %"  # 10/36 = 0.2777...
    assert row["interval_shown"] == "14.2–45.2 %"


def test_both_trial_sizes_kept():
    sizes = st.trial_sizes(findings(ROWS))
    assert list(zip(sizes["finding_id"], sizes["value"])) == [("F015", 36), ("F061", 37)]


def test_solid_approvals_and_summary():
    approved = pd.DataFrame({
        "approval_id": ["A01", "A12"], "product_label": ["axi-cel (Yikaida)", "satri-cel"],
        "indication": ["adult r/r large B-cell lymphoma", "Claudin18.2-positive advanced gastric/GEJ adenocarcinoma"],
        "indication_group": ["LBCL", "gastric/GEJ cancer"],
        "approval_date": pd.to_datetime(["2021-06-22", "2026-06-22"]), "date_precision": ["day", "day"],
    })
    solid = st.solid_approvals(approved)
    assert list(solid["approval_id"]) == ["A12"]
    eff = pd.DataFrame({"disease": ["Gastric/GEJ cancer", "B-ALL"]})
    out = st.summary(findings(ROWS), approved, eff)
    assert out["first_solid_approval"] == "satri-cel, 2026-06-22"
    assert out["n_solid_approvals"] == 1 and out["n_gastric_results"] == 1
    assert out["tox_fraction"] == "10/36" and out["tox_ci"] == "14.2–45.2 %"
    assert out["trial_sizes"] == "36 (review), 37 (paper)"
    assert out["n_not_stated_evidence"] == 3


def test_summary_empty_edition():
    none = findings([])
    approved = pd.DataFrame({"approval_id": [], "product_label": [], "indication": [], "indication_group": [],
                             "approval_date": pd.to_datetime([]), "date_precision": []})
    out = st.summary(none, approved, pd.DataFrame({"disease": []}))
    assert out["n_solid_findings"] == 0 and out["n_solid_approvals"] == 0
    assert out["tox_ci"] == st.MISSING
    assert out["first_solid_approval"] == "none in this edition's data"
    assert st.text_for(st.solid_findings(none), "F011") == st.MISSING


def test_range_plot_and_placeholder():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = st.antigen_range_plot(st.antigen_rows(findings(ROWS)))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Claudin18.2, gastric cancer (F012)", "GPC3, HCC (F011)"]
    plt.close(fig)
    empty = st.antigen_range_plot(st.antigen_rows(findings([])))
    assert empty.axes[0].texts[0].get_text().startswith("No data")
    plt.close(empty)


def test_antigen_range_chart_draws_a_range_as_a_line_and_a_single_figure_as_a_dot():
    from chart_helpers import assert_reader_tooltips, values

    rows = st.antigen_rows(findings(ROWS))
    chart = st.antigen_range_chart(rows)
    data = values(chart)
    # the rows the figure draws (percent figures), keyed by antigen and tumour
    assert [(r["antigen"], r["tumour"]) for r in data] == [("Claudin18.2", "gastric cancer"), ("GPC3", "HCC")]
    claudin, gpc3 = data
    assert (claudin["dot"], claudin["low"], claudin["high"]) == (60, None, None)
    assert (gpc3["dot"], gpc3["low"], gpc3["high"]) == (None, 40, 60)
    assert gpc3["value_shown"] == "40–60 %" and gpc3["kind"] == "range stated by the source"
    assert_reader_tooltips(chart)
    # the whole 0-100 % scale, as the static figure, in both layers (range and dot)
    assert [layer["encoding"]["x"]["scale"]["domain"] for layer in chart.spec["layer"]] == [[0, 100], [0, 100]]
    assert chart.summary == ("2 antigen expression figures (Claudin18.2 in gastric cancer: 60 %; "
                             "GPC3 in HCC: 40–60 %).")
    empty = st.antigen_range_chart(st.antigen_rows(findings([])))
    assert values(empty) == [] and empty.summary == "0 antigen expression figures."
