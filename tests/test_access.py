"""Unit tests for review_utils.chapters.access: expected values worked out by hand in each test."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from review_utils.chapters import access as ac

REIMB_COLUMNS = ["reimb_id", "programme", "region", "term_or_outcome", "value", "value_low", "value_high", "qualifier",
                 "unit", "as_of_date", "date_precision", "source_id", "locator", "note"]


def reimb(rows):
    frame = pd.DataFrame(rows, columns=REIMB_COLUMNS)
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"])
    return frame


def r(key, value, qualifier="exact", unit="CNY", when=None, precision=None, source="review2025", locator="para 5"):
    return [key, "Hu Hui Bao", "Shanghai", f"term {key}", value, None, None, qualifier, unit, when, precision, source,
            locator, ""]


def prices_frame(rows):
    columns = ["price_id", "product_id", "product_name", "scope", "value", "value_low", "value_high", "qualifier",
               "currency", "price_date", "date_precision", "source_id", "locator", "note"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["price_date"] = pd.to_datetime(frame["price_date"])
    return frame


FULL = reimb([
    r("RB01", 2023, unit="year", when="2023-12-31", precision="year"),
    r("RB04", 1_200_000), r("RB05", 500_000), r("RB06", 41.7, unit="percent"), r("RB07", 700_000),
    r("RB08", 33_000_000, qualifier="over", when="2024-03-31", precision="month"),
    r("RB09", 60, qualifier="nearly", unit="count", when="2024-03-31", precision="month"),
    r("RB10", 60, qualifier="over", unit="count", when="2024-03-31", precision="month", locator="para 8"),
    r("RB11", 60, qualifier="over", unit="percent"),
    r("RB14", 50, unit="percent", locator="abstract"),
    r("RB02", 50, qualifier="up_to", unit="percent"),
    r("RB18", None, qualifier=None, unit=None, when="2021-04-30", precision="month", source="shine_2022_huhuibao"),
    r("RB19", 500_000, qualifier="up_to", when="2022-05-25", precision="day", source="fosun_2022_huhuibao"),
])
PRICES = prices_frame([
    ["P01", "axi-cel", "axi-cel", "list price", 1_200_000, None, None, "exact", "CNY", "2022-05-01", "month", "pl", "p3", ""],
    ["P03", "relma-cel", "relma-cel", "list price", 1_300_000, None, None, "under", "CNY", "2026-01-09", "day", "cx", "d", ""],
    ["P05", None, "six products", "band", None, 999_000, 1_290_000, "range", "CNY", "2025-09-01", "month", "hh", "p2", ""],
    ["P06", "pcar-19b", "pCAR-19B", "guidance", None, 1_800_000, 2_200_000, "range", "CNY", None, None, "fl", "x",
     "suspect: one secondary, undated source"],
])


def test_worked_example_is_payout_over_price():
    result = ac.worked_example(1_200_000, 500_000)
    assert result["out_of_pocket"] == 700_000
    # 500,000 / 1,200,000 = 5/12 = 0.41666... -> 41.67 %
    assert result["reduction_pct"] == pytest.approx(100 * 5 / 12)
    assert round(result["reduction_pct"], 1) == 41.7


def test_worked_example_refuses_impossible_inputs():
    with pytest.raises(ValueError):
        ac.worked_example(0, 0)
    with pytest.raises(ValueError):
        ac.worked_example(100, 150)


def test_capped_payout():
    assert ac.capped_payout(1_200_000, 500_000) == 500_000  # bill above the cap: the cap is paid
    assert ac.capped_payout(300_000, 500_000) == 300_000    # bill below the cap: paid in full
    assert ac.capped_payout(300_000, 500_000, deductible=20_000) == 280_000


def test_outcome_arithmetic_shows_average_above_the_cap():
    result = ac.outcome_arithmetic(33_000_000, 60, 500_000)
    assert result["average"] == 550_000          # 33,000,000 / 60
    assert result["min_patients_at_cap"] == 66   # 33,000,000 / 500,000 = 66 exactly
    assert ac.outcome_arithmetic(33_000_001, 60, 500_000)["min_patients_at_cap"] == 67
    with pytest.raises(ValueError):
        ac.outcome_arithmetic(1, 0, 1)



def test_outlier_rule():
    # third price's lowest bound (18) exceeds every other highest bound (max 13) -> outlier
    assert ac.flag_outliers([10, 12, 18], [11, 13, 22]) == [False, False, True]
    # overlapping ranges: nobody is an outlier
    assert ac.flag_outliers([10, 12], [13, 14]) == [False, False]
    assert ac.flag_outliers([10], [10]) == [False]


def test_price_table_flags_pcar19b_and_sorts_by_lowest_bound():
    table = ac.price_table(PRICES)
    assert list(table["price_id"]) == ["P05", "P01", "P03", "P06"]  # lows 999,000 < 1.2 M < 1.3 M < 1.8 M
    assert list(table["outlier"]) == [False, False, False, True]
    caveat = table.set_index("price_id").loc["P06", "caveat"]
    assert "OUTLIER" in caveat and "single undated secondary source" in caveat and "undated" in caveat
    assert table.set_index("price_id").loc["P03", "price_shown"] == "under 1,300,000 CNY"
    summary = ac.price_summary(table)
    assert summary["lowest"] == "999,000 CNY" and summary["highest"] == "1,300,000 CNY"
    assert summary["outlier_products"] == "pCAR-19B"
    assert summary["n_prices"] == 4 and summary["n_outliers"] == 1


def test_scenarios_review_and_public_record():
    scen = ac.scenarios(FULL, PRICES).set_index("scenario")
    assert list(scen.index) == ["Review's example", "Public record (2022 edition terms)"]
    assert scen.loc["Review's example", "out_of_pocket"] == 700_000
    public = scen.loc["Public record (2022 edition terms)"]
    assert public["payout"] == 500_000 and public["price_source_id"] == "pl"
    assert public["payout_source_id"] == "fosun_2022_huhuibao"


def test_scenarios_survive_an_empty_edition():
    empty = FULL.iloc[0:0]
    assert ac.scenarios(empty, PRICES.iloc[0:0]).empty
    summary = ac.summary(empty, PRICES.iloc[0:0])
    assert summary["he_reduction"] == ac.MISSING and summary["hhb_average"] == ac.MISSING


def test_summary_computes_rather_than_copies():
    # change the stated reduction row: the computed value must not follow it
    edited = FULL.copy()
    edited.loc[edited["reimb_id"] == "RB06", "value"] = 99.0
    s = ac.summary(edited, PRICES)
    assert s["he_reduction"] == "41.7 %"
    assert s["he_stated_reduction"] == "99 %"
    assert s["he_headline_gap"] == "8.3 percentage points"   # 50 - 41.666... = 8.333...
    assert s["he_headline_payout"] == "600,000 CNY"          # 50 % of 1,200,000
    assert s["hhb_average"] == "550,000 CNY" and s["hhb_min_patients"] == "66"
    assert s["hhb_total_plain"] == "33,000,000 CNY"  # unit kept: a bare "33,000,000" is a tuple to myst-nb
    assert s["hhb_patients_body"] == "nearly 60" and s["hhb_patients_conclusion"] == "over 60"
    assert s["hhb_launch_review"] == "2023" and s["hhb_launch_public"] == "2021-04"
    assert s["hhb_launch_gap"] == "2 years"
    assert s["pub_cap_date"] == "2022-05-25"


def test_cost_claims_gap_and_order():
    claims = ac.cost_claims(FULL, 100 * 5 / 12)
    assert list(claims["reimb_id"]) == ["RB14", "RB02", "RB06", "RB11"]
    gaps = dict(zip(claims["reimb_id"], claims["gap_pp"]))
    assert gaps["RB14"] == "+8.3" and gaps["RB06"] == "+0.0" and gaps["RB11"] == "not comparable"


def test_programme_record_groups_by_topic():
    record = ac.programme_record(FULL)
    assert list(record["topic"].drop_duplicates()) == ["dates", "outcomes", "coverage"]
    assert list(record.loc[record["topic"] == "dates", "reimb_id"]) == ["RB18", "RB19", "RB01"]
    assert record.set_index("reimb_id").loc["RB18", "stated_shown"] == "(no number)"


def test_launch_gap():
    assert ac.launch_gap_years(2023, 2021) == 2
    assert math.isclose(ac.launch_gap_years(2023.0, 2023), 0)


def test_example_figure_and_placeholder():
    import matplotlib

    matplotlib.use("Agg")
    fig = ac.example_figure(ac.scenarios(FULL, PRICES), 50)
    assert len(fig.axes[0].patches) == 4  # two scenarios x (payout, out-of-pocket)
    empty = ac.example_figure(ac.scenarios(FULL.iloc[0:0], PRICES.iloc[0:0]))
    assert not empty.axes[0].axison


def test_example_caption_names_only_what_is_drawn():
    both = ac.example_caption(ac.scenarios(FULL, PRICES), headline_shown=True)
    assert "the review's example and under the published scheme terms" in both and "dashed tick" in both
    public_only = ac.example_caption(ac.scenarios(FULL.iloc[0:0], PRICES), headline_shown=False)
    assert "review's example" not in public_only and "dashed" not in public_only
    assert "no input rows" in ac.example_caption(ac.scenarios(FULL.iloc[0:0], PRICES.iloc[0:0]), False)


def _prices(rows):
    columns = ["price_id", "product_id", "product_name", "scope", "value", "value_low", "value_high", "qualifier",
               "currency", "price_date", "date_precision", "source_id", "locator", "note"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["price_date"] = pd.to_datetime(frame["price_date"])
    return frame


def _market(rows):
    columns = ["figure_id", "metric", "scope", "value", "value_low", "value_high", "qualifier", "unit", "as_of_date",
               "date_precision", "source_id", "locator", "note"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"])
    return frame


def test_us_comparison_converts_the_china_price_at_the_stated_rate_and_leaves_others_unpaired():
    prices = _prices([
        ["P10", "axi-cel", "Yikaida", "list", 1200000, None, None, "exact", "CNY", "2025-08-13", "day", "c1", "", ""],
        ["P11", "axi-cel", "Yescarta, US", "wac", 373000, None, None, "exact", "USD", "2017-10-18", "day", "u1", "", ""],
        ["P12", None, "Breyanzi, US", "wac", 410300, None, None, "exact", "USD", "2021-02-05", "day", "u2", "", ""],
    ])
    market = _market([["MF24", "rate", "CNY/USD", 8.0, None, None, "exact", "CNY per USD", "2025-12-16", "day", "m", "", ""]])
    out = ac.us_comparison(prices, market)
    axi = out[out["price_id"] == "P11"].iloc[0]
    assert axi["china_usd_shown"] == "150,000 USD"          # 1,200,000 / 8
    assert axi["ratio_shown"] == "40 %"                    # 150,000 / 373,000 = 40.2 %
    assert axi["rate_shown"] == "8 CNY per USD (2025-12-16)"
    assert out[out["price_id"] == "P12"].iloc[0]["china_shown"] == "not sold in China"
    assert set(out["china_source_id"].dropna()) == {"c1"}  # the China price is cited with the row


def test_income_years_divides_each_products_newest_exact_price_by_income():
    prices = _prices([
        ["P1", "a", "A", "list", 1000000, None, None, "exact", "CNY", "2023-01-01", "day", "s", "", ""],
        ["P2", "a", "A", "list", 1200000, None, None, "exact", "CNY", "2025-01-01", "day", "s", "", ""],
        ["P3", "b", "B", "list", 1300000, None, None, "under", "CNY", "2025-01-01", "day", "s", "", ""],
        ["P4", None, "band", "band", None, 900000, 1300000, "range", "CNY", "2025-01-01", "day", "s", "", ""],
    ])
    table = ac.price_table(prices)
    market = _market([["MF26", "income", "China", 40000, None, None, "exact", "CNY", "2025-12-31", "day", "m", "", ""]])
    years = ac.income_years(table, market)
    assert years["price_id"].tolist() == ["P2"]            # newest of A; B is 'under', the band has no product
    assert years["years_shown"].tolist() == ["30.0"] and years["income_year"].tolist() == [2025]


def test_huimin_bao_counts_schemes_cities_and_cart_cover():
    schemes = pd.DataFrame({"city": ["Shanghai", "Shanghai", "Beijing", "Suzhou"],
                            "car_t_covered": ["no", "yes", "unknown", "yes"], "cap_cny": [None, 500000, None, None]})
    assert ac.huimin_bao_counts(schemes) == {"n_schemes": 4, "n_cities": 3, "n_with_cart": 2, "n_cities_with_cart": 2,
                                             "n_without_cart": 1, "n_cart_unknown": 1, "n_cap_stated": 1}


def test_china_prices_leave_out_us_dollar_prices():
    prices = _prices([["P1", "a", "A", "l", 1, None, None, "exact", "CNY", None, None, "s", "", ""],
                      ["P2", "a", "A", "l", 1, None, None, "exact", "USD", None, None, "s", "", ""]])
    assert ac.china_prices(prices)["price_id"].tolist() == ["P1"]


# -- interactive charts -------------------------------------------------------------------
def test_income_chart_has_the_figures_rows_and_names_the_dearest_product():
    from chart_helpers import assert_reader_tooltips, values

    prices = _prices([
        ["P1", "a", "Alpha", "list", 1200000, None, None, "exact", "CNY", "2025-01-01", "day", "s1", "", ""],
        ["P2", "b", "Beta", "list", 999000, None, None, "exact", "CNY", "2024-06-01", "day", "s2", "", ""],
        ["P4", None, "band", "band", None, 900000, 1300000, "range", "CNY", "2025-01-01", "day", "s", "", ""],
    ])
    market = _market([["MF26", "income", "China", 40000, None, None, "exact", "CNY", "2025-12-31", "day", "m", "", ""]])
    years = ac.income_years(ac.price_table(prices), market)
    assert len(years) == 2
    chart = ac.income_chart(years)
    data = values(chart)
    assert [(r["product_name"], r["years"]) for r in data] == list(zip(years["product_name"], years["years"]))
    assert data[0]["price_shown"] == "1,200,000 CNY" and data[0]["source_id"] == "s1"
    assert_reader_tooltips(chart)
    # Alpha: 1,200,000 / 40,000 = 30 years; Beta: 999,000 / 40,000 = 24.975 years
    assert chart.summary == "2 products, list price in years of income: Alpha 30.0 years (the most) to Beta 25.0 years (the fewest)."
    assert "2025, national" in chart.spec["encoding"]["x"]["title"]


def test_example_chart_splits_each_scenarios_price_into_payout_and_out_of_pocket():
    from chart_helpers import assert_reader_tooltips, legend_filters, values

    scen = ac.scenarios(FULL, PRICES)
    chart = ac.example_chart(scen)
    data = values(chart)
    # two parts per scenario that add up to its list price (the figure's rows)
    for row in scen.itertuples():
        parts = {r["part"]: r for r in data if r["scenario"] == row.scenario}
        assert set(parts) == {"Hu Hui Bao payout", "Out-of-pocket drug cost"}
        # drawn in million CNY; the tooltip keeps the amount in CNY
        total = parts["Hu Hui Bao payout"]["amount"] + parts["Out-of-pocket drug cost"]["amount"]
        assert math.isclose(total * 1e6, row.price)
        assert parts["Hu Hui Bao payout"]["amount_shown"] == f"{row.payout:,.0f} CNY"
        assert parts["Hu Hui Bao payout"]["source_id"] == row.payout_source_id
        assert parts["Out-of-pocket drug cost"]["source_id"] == row.price_source_id
    assert len(data) == 2 * len(scen)
    assert_reader_tooltips(chart)
    assert legend_filters(chart)
    # review's example: 500,000 of 1,200,000 = 41.7 %
    assert "Review's example: payout 500,000 CNY of a 1,200,000 CNY list price (41.7 %)" in chart.summary
    assert values(ac.example_chart(ac.scenarios(FULL.iloc[0:0], PRICES.iloc[0:0]))) == []
    assert "layer" not in chart.spec  # no headline given: no tick


def test_example_chart_marks_the_headline_claim_on_the_reviews_bar():
    from chart_helpers import tooltip_fields

    chart = ac.example_chart(ac.scenarios(FULL, PRICES), 50, headline_source_id="review2025")
    base, tick = chart.spec["layer"]
    assert base["mark"]["type"] == "bar" and tick["mark"]["type"] == "tick"
    (row,) = tick["data"]["values"]
    # 50 % of the review's 1,200,000 CNY price = 600,000 CNY, drawn at 0.6 million
    assert row["scenario"] == "Review's example" and math.isclose(row["at"], 0.6)
    assert row["implied"] == "600,000 CNY payout" and row["source_id"] == "review2025"
    assert "source_id" in tooltip_fields(chart)
    assert ac.headline_source(FULL) == "review2025"
