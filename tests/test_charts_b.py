"""The chart builders appended to render/charts.py for the chapters' charts: labels that follow
the page's width, and bars on a log axis."""

from __future__ import annotations

import pandas as pd
import pytest

from chart_helpers import walk
from review_utils.render import charts


def frame():
    return pd.DataFrame({"product": ["A very long product name indeed", "B"], "n": [334, 5],
                         "source_id": ["s1", "s2"]})


def test_fit_labels_lets_row_labels_shrink_with_the_page_but_never_grow():
    chart = charts.bars(frame(), value="n", category="product", value_title="Patients", category_title="Product",
                        tooltip={"product": "Product"})
    fixed = [a["labelLimit"] for a in walk(chart.spec, "axis") if isinstance(a, dict) and "labelLimit" in a]
    assert fixed and all(isinstance(v, int) for v in fixed)
    fitted = charts.fit_labels(chart, share=0.5, minimum=80)
    limits = [a["labelLimit"] for a in walk(fitted.spec, "axis") if isinstance(a, dict) and "labelLimit" in a]
    assert limits == [{"expr": f"clamp(containerSize()[0] * 0.5, 80, {v})"} for v in fixed]
    assert fitted.summary == chart.summary
    # only the axes change: data, encodings and the table stay as they were
    assert fitted.spec["data"] == chart.spec["data"] and fitted.spec["usermeta"] == chart.spec["usermeta"]
    assert fitted.spec["encoding"]["tooltip"] == chart.spec["encoding"]["tooltip"]
    assert chart.spec["encoding"]["y"]["axis"]["labelLimit"] == fixed[0]  # the original is not modified
    # the row axis has no title (it would overlap labels of a varying length); the x axis keeps its own
    assert chart.spec["encoding"]["y"]["title"] == "Product" and fitted.spec["encoding"]["y"]["title"] is None
    assert fitted.spec["encoding"]["x"]["title"] == "Patients"


def test_log_bars_start_at_the_floor_not_at_zero():
    chart = charts.log_bars(frame(), value="n", category="product", value_title="Patients (log scale)",
                            category_title="Product", tooltip={"product": "Product"}, what="design")
    x = chart.spec["encoding"]["x"]
    assert x["scale"]["type"] == "log" and x["scale"]["domainMin"] == 1
    assert chart.spec["encoding"]["x2"] == {"datum": 1}
    assert "LN10" in x["axis"]["labelExpr"]
    # the facade's citation step reads every "values" list as rows: the spec must survive it
    sources = pd.DataFrame([{"source_id": "s1", "authors": "Liu", "year": 2025, "title": "t", "kind": "paper"}])
    cited = chart.cited(sources)
    assert [r["source_id"] for r in cited.spec["data"]["values"]][1] == "s2"
    assert [r["n"] for r in chart.spec["data"]["values"]] == [334, 5]
    assert "A very long product name indeed (334)" in chart.summary and "B (5)" in chart.summary


def test_log_bars_refuse_a_value_below_the_floor_and_name_it():
    bad = frame().assign(n=[334, 0])
    with pytest.raises(ValueError, match=r"column 'n', row 1 is 0, below the axis floor 1"):
        charts.log_bars(bad, value="n", category="product", value_title="Patients", category_title="Product",
                        tooltip={})


def test_restyle_and_fixed_domain_touch_only_the_named_marks_and_channel():
    rows = pd.DataFrame({"item": ["a", "b"], "est": [None, 60.0], "lo": [40.0, None], "hi": [60.0, None],
                         "source_id": ["s", "s"]})
    chart = charts.interval_dots(rows, estimate="est", low="lo", high="hi", row="item", row_title="Item",
                                 x_title="Share (%)", percent=False, tooltip={})
    styled = charts.restyle(chart, "rule", strokeWidth=8, color="#0072B2")
    marks = [layer["mark"] for layer in styled.spec["layer"]]
    assert marks[0]["type"] == "rule" and marks[0]["strokeWidth"] == 8 and marks[0]["color"] == "#0072B2"
    assert "color" not in marks[1]  # the point layer is untouched
    fixed = charts.fixed_domain(chart, "x", (0, 100))
    for layer in fixed.spec["layer"]:
        assert layer["encoding"]["x"]["scale"]["domain"] == [0, 100] and "zero" not in layer["encoding"]["x"]["scale"]
        assert "domain" not in layer["encoding"]["y"].get("scale", {})


def test_with_ticks_adds_a_tick_layer_and_refuses_a_layered_chart():
    chart = charts.bars(frame(), value="n", category="product", value_title="Patients", category_title="Product",
                        tooltip={})
    ticked = charts.with_ticks(chart, [{"product": "B", "at": 3, "claim": "a claim"}], category="product",
                               value="at", tooltip={"claim": "Claim"})
    base, tick = ticked.spec["layer"]
    assert base["mark"] == chart.spec["mark"] and base["encoding"] == chart.spec["encoding"]
    assert ticked.spec["data"] == chart.spec["data"]  # the bars keep their rows
    assert tick["data"]["values"] == [{"product": "B", "at": 3, "claim": "a claim"}]
    assert tick["encoding"]["y"]["field"] == "product" and tick["encoding"]["x"]["field"] == "at"
    with pytest.raises(ValueError, match="single-view"):
        charts.with_ticks(ticked, [], category="product", value="at", tooltip={})
