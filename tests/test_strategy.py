"""Unit tests for review_utils.chapters.strategy."""

from __future__ import annotations

import pandas as pd

from review_utils.chapters import strategy as st

SOURCES = pd.DataFrame({"source_id": ["review2025", "cde2025briefing", "undated"],
                        "published": pd.to_datetime(["2025-08-01", "2025-07-31", None])})


def test_comparison_counts_by_hand():
    frame = pd.DataFrame({"dimension": ["b", "a", "c"],
                          "china": ["fast", st.NOT_DESCRIBED, "cheap"],
                          "west": ["slow", "mature", st.NOT_DESCRIBED],
                          "source_id": ["review2025"] * 3})
    table = st.comparison(frame)
    assert list(table["dimension"]) == ["a", "b", "c"]
    # China described on b, c; West on a, b; both only on b
    assert st.comparison_counts(table) == {"n_dimensions": 3, "n_china_described": 2, "n_west_described": 2,
                                           "n_both_described": 1}
    assert st.comparison_counts(st.comparison(frame.iloc[0:0])) == {
        "n_dimensions": 0, "n_china_described": 0, "n_west_described": 0, "n_both_described": 0}


def test_strategies_and_other_directions():
    recs = pd.DataFrame({"rec_id": ["REC2", "REC1", "REC4", "REC8"],
                         "recommendation": list("wxyz"), "example_or_benchmark": ["e", None, None, None],
                         "source_id": ["review2025", "review2025", "review2025", "cde2025briefing"],
                         "locator": ["para 7", "para 7", "para 8", "outlook"], "note": [""] * 4})
    strategies = st.review_strategies(recs)
    assert list(strategies["rec_id"]) == ["REC1", "REC2"]
    others = st.other_directions(recs, strategies)
    assert list(others["rec_id"]) == ["REC4", "REC8"]
    assert others["by"].iloc[1].startswith("regulator")


def test_stated_strategy_count():
    findings = pd.DataFrame({"finding_id": ["F020"], "value": [3.0]})
    assert st.stated_strategy_count(findings) == 3
    assert st.stated_strategy_count(findings.iloc[0:0]) is None
