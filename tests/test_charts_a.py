"""Builders added to review_utils.render.charts for the landscape, registry, audit and targets
charts: grouped bars, columns, fixed colours and end labels. Expected values are worked out by
hand from the small frames below, not taken from the builders."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from chart_helpers import tooltip_entries

from review_utils.render import charts


@pytest.fixture
def units():
    # two classes; class A: 2 products (one imported), 3 indications; class B: 1 product, 1 indication
    return pd.DataFrame({
        "cls": ["A", "A", "A", "A", "A", "B", "B"],
        "bar": ["Products", "Products", "Indications", "Indications", "Indications", "Products", "Indications"],
        "n": [1] * 7,
        "part": ["home", "away", "full", "cond", "full", "home", "cond"],
        "name": ["p1", "p2", "p1 x", "p1 y", "p2 z", "p3", "p3 w"],
        "source_id": ["s1", "s2", "s3", "s4", "s5", "s6", "s7"],
    })


def test_grouped_bars_one_bar_per_group_stacked_in_legend_order(units):
    chart = charts.grouped_bars(
        units, value="n", category="cls", group="bar", value_title="Count", category_title="Class",
        group_title="Counted", colour="part", colour_title="Part", colour_domain=["home", "away", "cond", "full"],
        colour_range=["#111111", "#222222", "#333333", "#444444"], group_domain=["Products", "Indications"],
        tooltip={"name": "Name"}, what="class")
    spec = chart.spec
    rows = spec["data"]["values"]
    assert len(rows) == 7 and sorted(r["name"] for r in rows) == sorted(units["name"])
    assert spec["encoding"]["yOffset"]["field"] == "bar"
    assert spec["encoding"]["yOffset"]["sort"] == ["Products", "Indications"]
    colour = spec["encoding"]["color"]["scale"]
    assert colour["domain"] == ["home", "away", "cond", "full"]  # the given order, only parts present
    assert colour["range"] == ["#111111", "#222222", "#333333", "#444444"]
    order = {r["name"]: r["_stack_order"] for r in rows}
    assert order["p1"] < order["p2"] and order["p1 y"] < order["p1 x"]  # home before away, cond before full
    titles = [t["title"] for t in tooltip_entries(spec)]
    assert "Source" in titles and "Counted" in titles and "_stack_order" not in json.dumps(tooltip_entries(spec))
    assert spec["height"] == charts.ROW_HEIGHT * 2 * 2
    assert chart.summary == ("2 classes, each with bars for products and indications; most products: A (2); "
                             "most indications: A (3).")


def test_grouped_bars_colour_list_must_match_the_legend(units):
    with pytest.raises(ValueError, match="2 colours for 3 legend entries"):
        charts._legend_colour("part", "Part", ["a", "b", "c"], ["#000000", "#111111"])


def test_columns_stack_by_colour_and_name_the_largest_column():
    frame = pd.DataFrame({"year": [2020, 2020, 2021, 2022, 2022], "trials": [3, 4, 2, 1, 9],
                          "where": ["here", "there", "here", "there", "here"], "source_id": ["r"] * 5})
    chart = charts.columns(frame, value="trials", category="year", value_title="Trials", category_title="Start year",
                           colour="where", colour_title="Where", colour_domain=["there", "here"],
                           tooltip={"trials": "Trials"}, what="start year")
    spec = chart.spec
    assert spec["encoding"]["x"]["sort"] == [2020, 2021, 2022]
    assert spec["encoding"]["color"]["scale"]["domain"] == ["there", "here"]
    assert spec["params"][0]["bind"] == "legend"
    # 2022 has 1 + 9 = 10, the largest column
    assert chart.summary == "Trials per start year, 2020 to 2022 (3 start years), split by where; largest 2022 (10)."
    assert "Source" in [t["title"] for t in tooltip_entries(spec)]


def test_counted_plurals():
    assert charts._counted(1, "therapy class") == "1 therapy class"
    assert charts._counted(5, "therapy class") == "5 therapy classes"
    assert charts._counted(3, "city") == "3 cities"
    assert charts._counted(2, "day") == "2 days"
    assert charts._counted(2, "bar") == "2 bars"


def test_with_colours_sets_the_colour_of_each_legend_entry():
    frame = pd.DataFrame({"doc": ["d1", "d1", "d2"], "n": [1, 2, 3], "status": ["ok", "bad", "ok"]})
    chart = charts.bars(frame, value="n", category="doc", value_title="Claims", category_title="Doc",
                        colour="status", colour_domain=["ok", "bad", "unknown"], tooltip={})
    recoloured = charts.with_colours(chart, "status", {"bad": "#D55E00", "ok": "#009E73"})
    scale = recoloured.spec["encoding"]["color"]["scale"]
    assert scale["domain"] == ["ok", "bad", "unknown"]
    assert scale["range"][:2] == ["#009E73", "#D55E00"]
    assert scale["range"][2] == chart.spec["encoding"]["color"]["scale"]["range"][2]  # not given: kept
    assert recoloured.summary == chart.summary


def test_end_labels_sit_at_the_end_of_each_stacked_bar():
    frame = pd.DataFrame({"t": ["CD19", "CD19", "BCMA"], "n": [1, 1, 1], "m": ["x", "y", "x"], "source_id": ["a"] * 3})
    chart = charts.bars(frame, value="n", category="t", value_title="Indications", category_title="Target",
                        colour="m", tooltip={})
    labelled = charts.with_end_labels(chart, {"CD19": "2 products", "BCMA": "1 product"})
    bar, text = labelled.spec["layer"]
    assert labelled.spec["data"]["values"] == chart.spec["data"]["values"]  # the table keeps the chart's rows
    assert {r["t"]: (r["_label_at"], r["_label"]) for r in text["data"]["values"]} == \
        {"CD19": (2, "2 products"), "BCMA": (1, "1 product")}
    assert bar["encoding"]["x"]["scale"]["domainMax"] == pytest.approx(2 * 1.3)
    assert bar["params"] == chart.spec["params"]  # the legend still filters
    percent = charts.with_end_labels(chart, {"CD19": "x"}, top=100, room=1.35, ticks_up_to=100)
    axis_x = percent.spec["layer"][0]["encoding"]["x"]
    assert axis_x["scale"]["domainMax"] == pytest.approx(135)
    assert axis_x["axis"]["gridOpacity"]["condition"] == {"test": "datum.value > 100", "value": 0}
    assert axis_x["axis"]["labelExpr"] == "datum.value > 100 ? '' : datum.label"
    # the facade cites the sources of every data list in the spec: it must still read this one
    cited = percent.cited(pd.DataFrame({"source_id": ["a"], "authors": ["Liu, Xia"], "published": ["2025-01-01"]}))
    assert {r["source_id"] for r in cited.spec["data"]["values"]} == {"Liu (2025)"}
    with pytest.raises(ValueError, match="single-view"):
        charts.with_end_labels(labelled, {"CD19": "x"})
