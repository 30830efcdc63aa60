"""Interactive chart specifications (render/charts.py) and the site's web assets (engine/web_assets.py)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from chart_helpers import walk

from review_utils.render import charts, markup
from review_utils.render.text import short_citation

FOREST = pd.DataFrame({
    "result_id": ["A1", "A2", "B1"],
    "trial": ["Alpha", "Beta", "Gamma"],
    "value": [82.0, 40.5, 71.0],
    "low": [70.0, None, 60.0],
    "high": [90.0, None, 80.0],
    "n": [101, 20, 58],
    "disease": ["LBCL: ORR", "LBCL: ORR", "MM: CR"],
    "region": ["China", "Global", "China"],
    "source_id": ["paper_a", "paper_b", "paper_a"],
})


def data_values(spec: dict) -> list[dict]:
    """Every data row anywhere in a spec (lists under "values" that hold rows)."""
    return [row for rows in walk(spec, "values") if isinstance(rows, list) for row in rows if isinstance(row, dict)]


def forest(**extra) -> charts.Chart:
    return charts.interval_dots(FOREST, estimate="value", low="low", high="high", row="trial", row_title="Trial",
                                x_title="Patients with the outcome (%)", percent=False, colour="region",
                                colour_title="Region", tooltip={"result_id": "Result", "n": "n"}, **extra)


def test_a_chart_carries_exactly_the_rows_it_was_given_with_dates_as_iso_text():
    frame = pd.DataFrame({"product": ["p", "q"], "when": pd.to_datetime(["2021-06-22", "2024-01-31"]),
                          "kind": ["full", None], "source_id": ["s1", "s2"]})
    chart = charts.timeline(frame, date="when", row="product", row_title="Product", date_title="Approved",
                            colour="kind", tooltip={"product": "Product"})
    rows = [r for r in data_values(chart.spec) if "product" in r]
    assert rows == [{"product": "p", "when": "2021-06-22", "kind": "full", "source_id": "s1"},
                    {"product": "q", "when": "2024-01-31", "kind": None, "source_id": "s2"}]
    assert "from 2021-06-22 (p) to 2024-01-31 (q)" in chart.summary


def test_tooltips_always_show_the_source_and_the_legend_filters():
    spec = forest().spec
    text = json.dumps(spec)
    assert '"title": "Source"' in text and '"field": "source_id"' in text
    params = spec.get("params", []) + [p for layer in spec["layer"] for p in layer.get("params", [])]
    assert any(p.get("bind") == "legend" and p["select"]["fields"] == ["region"] for p in params)
    assert any(p.get("bind") == "scales" and p["select"]["encodings"] == ["x"] for p in params)  # x zooms
    # the data table offered beside the chart names every tooltip column
    assert ["source_id", "Source"] in spec["usermeta"]["table"]


def test_the_data_sentence_names_the_extremes_computed_from_the_data():
    chart = forest()
    best = FOREST.loc[FOREST["value"].idxmax()]
    worst = FOREST.loc[FOREST["value"].idxmin()]
    assert f"highest {best['trial']} (82)" in chart.summary and f"lowest {worst['trial']} (40.5)" in chart.summary
    assert chart.summary.startswith(f"{len(FOREST)} rows")


def test_grouped_values_are_never_compared_across_groups_in_the_sentence():
    chart = forest(group="disease", group_words="disease and endpoint group", what="result")
    assert "highest" not in chart.summary and "lowest" not in chart.summary
    assert chart.summary == "3 results in 2 disease and endpoint groups: LBCL: ORR (2); MM: CR (1)."


def test_stacked_bars_sum_each_category_before_naming_the_largest():
    frame = pd.DataFrame({"cls": ["CAR-T", "CAR-T", "AAV"], "n": [3, 4, 5], "origin": ["China", "imported", "China"]})
    chart = charts.bars(frame, value="n", category="cls", value_title="Products", category_title="Class",
                        colour="origin", tooltip={"n": "Products"})
    assert "highest CAR-T (7)" in chart.summary and "lowest AAV (5)" in chart.summary


def test_missing_columns_are_named():
    with pytest.raises(KeyError, match=r"\['nope'\]"):
        charts.bars(FOREST, value="nope", category="trial", value_title="x", category_title="y", tooltip={})


def test_json_is_deterministic_and_cannot_break_out_of_its_script_element():
    frame = FOREST.assign(trial=["</script><script>alert(1)</script>", "b & c", "<!--"])
    a, b = forest().to_json(), charts.interval_dots(
        FOREST, estimate="value", low="low", high="high", row="trial", row_title="Trial",
        x_title="Patients with the outcome (%)", percent=False, colour="region", colour_title="Region",
        tooltip={"result_id": "Result", "n": "n"}).to_json()
    assert a == b
    hostile = charts.interval_dots(frame, estimate="value", low="low", high="high", row="trial", row_title="Trial",
                                   x_title="x", tooltip={}).to_json()
    assert "<" not in hostile and ">" not in hostile and "&" not in hostile
    assert "</script><script>alert(1)</script>" in json.dumps(data_values(json.loads(hostile)))


def test_cited_replaces_source_keys_with_short_citations():
    sources = pd.DataFrame({"source_id": ["paper_a", "paper_b"], "authors": ["Liu, Y and Wang, Q", None],
                            "container": ["Blood", "NMPA"], "publisher": [None, None],
                            "published": pd.to_datetime(["2025-07-31", "2024-01-02"])})
    cited = forest().cited(sources)
    shown = {r["trial"]: r["source_id"] for r in data_values(cited.spec) if "trial" in r}
    assert shown == {"Alpha": "Liu et al. (2025)", "Beta": "NMPA (2024)", "Gamma": "Liu et al. (2025)"}
    assert short_citation(sources.iloc[0]) == "Liu et al. (2025)"


def test_the_html_block_is_raw_html_only_for_the_site_and_escapes_its_attributes():
    block = markup.interactive_chart('{"a":1}', label="fig-x", summary='3 rows "quoted" <b>')
    assert block.startswith("```{raw} html\n") and block.endswith("\n```")
    assert 'data-summary="3 rows &quot;quoted&quot; &lt;b&gt;"' in block
    assert '<script type="application/json">{"a":1}</script>' in block
    with pytest.raises(ValueError, match="figure label"):
        markup.interactive_chart("{}", label='x" onload="y', summary="")


def test_the_web_assets_name_the_missing_package_and_what_to_do(tmp_path, monkeypatch):
    from sphinx.errors import ExtensionError

    from review_utils.engine import web_assets

    monkeypatch.setenv("REVIEW_WEB_MODULES", str(tmp_path))
    with pytest.raises(ExtensionError, match=r"vega\.min\.js.*bash run\.sh setup"):
        web_assets.vendor_sources()


def test_the_theme_override_matches_the_installed_theme_version():
    """The Font Awesome override copies the theme's own asset digests: a theme upgrade that
    changes them must be noticed here, not as a page without styles."""
    from pathlib import Path

    import pydata_sphinx_theme

    from review_utils.engine.web_assets import ASSETS

    theirs = (Path(pydata_sphinx_theme.__file__).parent / "theme/pydata_sphinx_theme/static/webpack-macros.html").read_text()
    ours = (ASSETS / "templates/static/webpack-macros.html").read_text()
    assert set(re.findall(r"digest=(\w+)", theirs)) == set(re.findall(r"digest=(\w+)", ours))
    assert set(re.findall(r"macro (\w+)", theirs)) == set(re.findall(r"macro (\w+)", ours))


def test_citations_keep_a_corporate_author_whole_and_leave_axis_values_alone():
    source = pd.Series({"source_id": "ctgov", "authors": "{ClinicalTrials.gov (U.S. National Library of Medicine)}",
                        "container": None, "publisher": None, "published": pd.Timestamp("2026-10-19")})
    assert short_citation(source) == "ClinicalTrials.gov (U.S. National Library of Medicine) (2026)"
    spec = {"layer": [{"data": {"values": [{"source_id": "ctgov", "n": 1}]}},
                      {"encoding": {"x": {"axis": {"values": [0, 50, 100]}}}}]}
    cited = charts.Chart(spec, "").cited(pd.DataFrame([source]))
    assert cited.spec["layer"][0]["data"]["values"] == [{"source_id": short_citation(source), "n": 1}]
    assert cited.spec["layer"][1]["encoding"]["x"]["axis"]["values"] == [0, 50, 100]
