"""Efficacy chapter logic on small hand-made frames shaped like data/efficacy.csv."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import beta

from review_utils.chapters import efficacy as ef
from review_utils.chapters.shared import stats

COLUMNS = ["result_id", "product_id", "product_name", "trial", "registration_id", "region", "population",
           "endpoint", "n", "responders", "value", "value_low", "value_high", "ci_low", "ci_high", "qualifier",
           "unit", "data_cut", "published", "source_id", "locator", "note", "enrolled_n", "infused_n", "evaluable_n",
           "denominator_basis", "endpoint_definition", "disease", "evidence_type"]


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {c: None for c in COLUMNS}
    data = pd.DataFrame([{**base, "qualifier": "exact", "unit": "percent", "locator": "x",
                          "denominator_basis": "not_stated", "evidence_type": "journal_article", **r} for r in rows],
                        columns=COLUMNS)
    for c in ("n", "responders", "enrolled_n", "infused_n", "evaluable_n"):
        data[c] = pd.array(data[c], dtype="Int64")
    for c in ("value", "value_low", "value_high", "ci_low", "ci_high"):
        data[c] = pd.array(data[c], dtype="Float64")
    for c in ("data_cut", "published"):
        data[c] = pd.to_datetime(data[c])
    return data


PRODUCTS = pd.DataFrame({"product_id": ["eque-cel", "cilta-cel", "relma-cel"], "target": ["BCMA", "BCMA", "CD19"]})

ROWS = [
    dict(result_id="R14", disease="MM", product_id="eque-cel", product_name="equecabtagene autoleucel", trial="FUMANBA-1",
         registration_id="NCT05066646", region="China", population="RRMM, evaluable", endpoint="ORR", n=101,
         value=96, published="2023-06-01", source_id="s1"),
    dict(result_id="R24", disease="MM", product_id="cilta-cel", product_name="ciltacabtagene autoleucel", trial="CARTIFAN-1",
         registration_id="NCT03758417", region="China", population="RRMM", endpoint="ORR", n=48, value=89.6,
         ci_low=77.3, ci_high=96.5, published="2023-02-20", source_id="s2"),
    dict(result_id="R16", disease="MM", product_id="eque-cel", product_name="equecabtagene autoleucel", trial="FUMANBA-1",
         registration_id="NCT05066646", region="China", population="RRMM", endpoint="PFS_12m", n=101, value=78.8,
         published="2023-07-02", source_id="s3"),
    dict(result_id="R32", disease="MM", product_id="eque-cel", product_name="equecabtagene autoleucel (per review)",
         trial="FUMANBA-1", registration_id="NCT03784192", region="China", population="RRMM", endpoint="ORR",
         value=89.6, published="2025-08-01", source_id=ef.REVIEW_SOURCE),
    dict(result_id="R33", disease="MM", product_id="eque-cel", product_name="equecabtagene autoleucel (per review)",
         trial="FUMANBA-1", registration_id="NCT03784192", region="China", population="RRMM", endpoint="PFS_12m",
         value=64, published="2025-08-01", source_id=ef.REVIEW_SOURCE),
    dict(result_id="R31", disease="B-cell malignancies (mixed)", product_id=None, product_name="CD19 CAR-T", trial="phase 2", registration_id="NCT03563810",
         region="China", population="B-ALL", endpoint="ORR", value_low=79, value_high=89, qualifier="range",
         published="2025-08-01", source_id=ef.REVIEW_SOURCE),
    dict(result_id="R21", disease="B-ALL", product_id=None, product_name="inaticabtagene autoleucel", trial="phase 2",
         region="China", population="adult r/r B-ALL", endpoint="ORR_M3", n=48, responders=34, value=70.8,
         published="2025-02-25", source_id="s4"),
    dict(result_id="G11", disease="MM", product_id=None, product_name="idecabtagene vicleucel", trial="KarMMa",
         region="global", population="RRMM, treated", endpoint="ORR", n=128, responders=94, value=73,
         published="2021-02-25", source_id="s5"),
    dict(result_id="R01", disease="LBCL", product_id="relma-cel", product_name="relmacabtagene autoleucel", trial="RELIANCE",
         region="China", population="r/r LBCL", endpoint="ORR_best", n=58, value=77.6, published="2021-09-01",
         source_id="s6"),
    dict(result_id="R05", disease="FL", product_id="relma-cel", product_name="relmacabtagene autoleucel", trial="RELIANCE B",
         region="China", population="r/r FL", endpoint="ORR_M3", n=20, value=100, published="2022-10-01",
         source_id="s7"),
    dict(result_id="R27", disease="gastric/GEJ adenocarcinoma", product_id="satri-cel", product_name="satricabtagene autoleucel", trial="CT041-ST-01",
         region="China", population="CLDN18.2+ advanced G/GEJ adenocarcinoma", endpoint="PFS_median", n=104,
         value=3.25, ci_low=2.86, ci_high=4.53, unit="months", published="2026-06-22", source_id="s8"),
]


@pytest.fixture
def prepared() -> pd.DataFrame:
    return ef.prepare(frame(ROWS), PRODUCTS)


def test_disease_from_the_disease_column_not_the_population_text(prepared):
    assert ef.disease("MM") == "Multiple myeloma"
    assert ef.disease("gastric/GEJ adenocarcinoma") == "Gastric/GEJ cancer"
    assert ef.disease("LBCL") == "Large B-cell lymphoma"
    assert ef.disease(None) == "Other"
    # R31's population says "B-ALL", but its disease code is the mixed group: the column wins
    by = prepared.set_index("result_id")
    assert by.loc["R31", "disease"] == "B-cell malignancies (mixed)"
    assert by.loc["R21", "disease"] == "B-ALL" and by.loc["R14", "disease"] == "Multiple myeloma"
    assert ef.short_name(None, "tisagenlecleucel") == "tisa-cel"
    assert ef.short_name(None, "brexucabtagene autoleucel") == "brexu-cel"
    assert ef.short_name("axi-cel", "axicabtagene ciloleucel") == "axi-cel"


def test_b_all_remission_is_not_labelled_orr(prepared):
    by = prepared.set_index("result_id")
    assert by.loc["R21", "endpoint_label"] == "CR/CRi remission within month 3"
    assert by.loc["R05", "endpoint_label"] == "ORR at month 3"  # the same code in lymphoma stays ORR
    assert "ORR" not in by.loc["R21", "endpoint_label"]


def test_hazard_ratios_show_as_ratios_not_months():
    rows = [dict(result_id="R34", disease="gastric/GEJ adenocarcinoma", product_id="satri-cel", trial="CT041-ST-01",
                 region="China", population="G/GEJ, satri-cel vs TPC, ITT", endpoint="PFS_HR", n=156, value=0.37,
                 ci_low=0.24, ci_high=0.56, unit="ratio", denominator_basis="randomized", source_id="s8")]
    p = ef.prepare(frame(rows), PRODUCTS).set_index("result_id")
    assert p.loc["R34", "value_shown"] == "HR 0.37"
    assert "month" not in p.loc["R34", "interval_shown"] and "0.24–0.56" in p.loc["R34", "interval_shown"]
    assert pd.isna(p.loc["R34", "cp_low"])  # no binomial interval for a hazard ratio
    assert ef.hazard_ratio_of(p.reset_index(), "R34") == "HR 0.37 (95 % CI 0.24–0.56)"


def test_intervals_only_from_known_counts(prepared):
    by = prepared.set_index("result_id")
    # stated 34/48: exact interval from the beta quantiles
    assert by.loc["R21", "count_basis"] == stats.STATED
    assert by.loc["R21", "cp_low"] == pytest.approx(100 * beta.ppf(0.025, 34, 15))
    assert by.loc["R21", "cp_high"] == pytest.approx(100 * beta.ppf(0.975, 35, 14))
    # 100 % of 20 is exactly 20
    assert by.loc["R05", "count_basis"] == stats.DERIVED and by.loc["R05", "responders_used"] == 20
    assert by.loc["R05", "cp_high"] == pytest.approx(100.0)
    assert by.loc["R05", "cp_low"] == pytest.approx(100 * 0.025 ** (1 / 20))
    # 77.6 % of 58 is not a whole number: percentage only, no interval
    assert by.loc["R01", "count_basis"] == stats.PERCENT_ONLY and pd.isna(by.loc["R01", "cp_low"])
    assert by.loc["R01", "interval_shown"] == "percentage only, no interval"
    # the source's own interval is shown, labelled, when there is no count
    assert by.loc["R24", "interval_shown"] == "percentage only, no interval; 95 % CI as reported: 77.3–96.5 %"
    # survival rates and medians never get a binomial interval
    assert by.loc["R16", "count_basis"] == ef.TIME_TO_EVENT and pd.isna(by.loc["R16", "cp_low"])
    assert by.loc["R27", "count_basis"] == ef.TIME_TO_EVENT_MEDIAN
    assert by.loc["R27", "value_shown"] == "3.25 months"
    assert by.loc["R31", "value_shown"] == "79–89 %"


def test_sorted_by_disease_family_region(prepared):
    order = list(prepared["result_id"])
    assert order.index("R01") < order.index("R05") < order.index("R21") < order.index("R31") < order.index("R14")
    assert order.index("R24") < order.index("G11")  # China before global within myeloma response
    assert order.index("G11") < order.index("R16")  # response before PFS


def test_forest_rows_leave_out_claims_and_medians(prepared):
    rows = ef.forest_rows(prepared)
    assert set(rows["result_id"]) == {"R14", "R24", "R16", "R21", "G11", "R01", "R05"}
    lymphoma = ef.forest_rows(prepared, ef.FOREST_PANELS["lymphoma"])
    assert set(lymphoma["result_id"]) == {"R01", "R05"}
    other = ef.forest_rows(prepared, ef.FOREST_PANELS["leukaemia_myeloma"])
    assert set(other["result_id"]) == {"R14", "R24", "R16", "R21", "G11"}
    assert set(ef.FOREST_PANELS["lymphoma"]) | set(ef.FOREST_PANELS["leukaemia_myeloma"]) == set(ef.DISEASE_ORDER)
    assert not set(ef.FOREST_PANELS["lymphoma"]) & set(ef.FOREST_PANELS["leukaemia_myeloma"])


def test_summary_counts_and_no_pooled_range(prepared):
    h = ef.summary(prepared)
    assert h["n_results"] == 8 and h["n_claims"] == 3
    assert h["n_china"] == 7 and h["n_global"] == 1
    assert h["n_stated"] == 2 and h["n_derived"] == 1 and h["n_time_to_event"] == 1
    assert h["n_percent_only"] == 3 and h["n_source_ci_only"] == 1
    assert h["n_diseases"] == 5  # LBCL, FL, B-ALL, MM, gastric
    assert not any(k.startswith("orr_") for k in h)  # the pooled headline ranges are gone
    assert not any(isinstance(v, str) and "–" in v for v in h.values())


def test_comparison_groups_hold_one_disease_and_one_endpoint(prepared):
    groups = ef.comparison_groups(prepared)
    by_id = prepared.set_index("result_id")
    for _, g in groups.iterrows():
        ids = g["result_ids"].split(", ")
        assert {by_id.loc[i, "disease"] for i in ids} == {g["disease"]}
        assert {by_id.loc[i, "endpoint"] for i in ids} == {by_id.loc[ids[0], "endpoint"]}
    myeloma_orr = groups[(groups["disease"] == "Multiple myeloma") & (groups["endpoint"] == "ORR")].iloc[0]
    assert set(myeloma_orr["result_ids"].split(", ")) == {"R14", "R24", "G11"}
    assert (myeloma_orr["n_china"], myeloma_orr["n_global"]) == (2, 1)
    assert "ide-cel KarMMa: 73 % (n = 128)" in myeloma_orr["global"]
    # R01 (LBCL best ORR) and R05 (FL ORR at month 3) never share a group
    assert not any({"R01", "R05"} <= set(ids.split(", ")) for ids in groups["result_ids"])


RANDOMISED = [
    dict(result_id="H1", disease="gastric/GEJ adenocarcinoma", product_id="satri-cel", trial="CT041-ST-01",
         region="China", population="G/GEJ, satri-cel vs TPC, ITT", endpoint="PFS_HR", n=156, value=0.37,
         ci_low=0.24, ci_high=0.56, unit="ratio", denominator_basis="randomized", enrolled_n=156, infused_n=136,
         source_id="s8"),
    dict(result_id="A1", disease="gastric/GEJ adenocarcinoma", product_id="satri-cel", trial="CT041-ST-01",
         region="China", population="G/GEJ, satri-cel arm", endpoint="PFS_median", n=104, value=3.25, unit="months",
         denominator_basis="randomized", enrolled_n=104, infused_n=88, source_id="s8",
         note="88 of 104 received the study treatment"),
    dict(result_id="A2", disease="gastric/GEJ adenocarcinoma", product_id="satri-cel", trial="CT041-ST-01",
         region="China", population="G/GEJ, physician-choice arm", endpoint="PFS_median", n=52, value=1.77,
         unit="months", denominator_basis="randomized", enrolled_n=52, infused_n=48, source_id="s8",
         note="control arm; 20 of 52 TPC patients later received satri-cel (crossover, per flcube_x)"),
]


def test_randomised_trials_show_both_arms_hr_share_infused_and_crossover():
    p = ef.prepare(frame(RANDOMISED + ROWS[:1]), PRODUCTS)
    assert set(p.loc[p["randomised"], "result_id"]) == {"H1", "A1", "A2"}
    assert "R14" not in set(p.loc[p["randomised"], "result_id"])
    table = ef.randomised(p)
    hr = table[table["result_ids"] == "H1"].iloc[0]
    assert hr["effect"] == "HR 0.37 (95 % CI 0.24–0.56)"
    arms = table[table["result_ids"] == "A1, A2"].iloc[0]
    assert arms["car_t_arm"].startswith("3.25 months, n = 104") and arms["control_arm"].startswith("1.77 months, n = 52")
    treated = ef.randomised_treatment(p, ["flcube_x", "unrelated"]).iloc[0]
    assert treated["car_t_infused"] == "88 of 104 (84.6 %)"  # 88 / 104 = 0.846
    assert "20 of 52 TPC patients later received satri-cel" in treated["treatment_and_crossover"]
    assert treated["source_id"] == "s8; flcube_x"
    # randomised arms stay out of the single-arm forest plot
    assert not set(ef.forest_rows(p)["result_id"]) & {"H1", "A1", "A2"}


def test_claim_checks_show_both_values(prepared):
    checks = ef.claim_checks(prepared).set_index(["claim_id", "record_id"])
    assert set(checks.index) == {("R32", "R14"), ("R32", "R24"), ("R33", "R16"), ("R31", "R21")}
    r14 = checks.loc[("R32", "R14")]
    assert (r14["claim_value"], r14["record_value"]) == ("89.6 %", "96 %")
    assert r14["reading"].startswith("differs by 6.4 percentage points")
    assert "NCT03784192 vs NCT05066646" in r14["reading"]
    r24 = checks.loc[("R32", "R24")]
    assert r24["reading"].startswith("same number") and "different product (cilta-cel)" in r24["reading"]
    assert checks.loc[("R33", "R16"), "reading"].startswith("differs by 14.8 percentage points")
    assert checks.loc[("R31", "R21"), "reading"].startswith("outside the claimed range")
    assert r14["claim_source_id"] == ef.REVIEW_SOURCE and r14["record_source_id"] == "s1"


def test_claim_checks_empty_before_the_review(prepared):
    early = prepared[prepared["published"] < "2024-01-01"]
    checks = ef.claim_checks(early)
    assert checks.empty and "claim_source_id" in checks.columns
    assert ef.value_of(early, "R32") == "not available as of the edition date"
    assert ef.value_of(prepared, "R14") == "96 %"


def test_forest_plot_draws_and_handles_empty(prepared):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = ef.forest_rows(prepared)
    fig = ef.forest_plot(rows)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(lab.startswith("R21 inati-cel") for lab in labels)
    assert fig.get_size_inches()[0] == pytest.approx(7.5)
    plt.close(fig)
    empty = ef.forest_plot(rows.iloc[0:0])
    assert empty.axes[0].texts[0].get_text().startswith("No data")
    plt.close(empty)
