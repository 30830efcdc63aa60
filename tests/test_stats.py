"""Exact binomial intervals and the rule that a count is never inferred from a rounded percentage."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import beta

from review_utils.chapters.shared import stats


def reference_cp(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Clopper–Pearson from its definition: quantiles of Beta(k, n-k+1) and Beta(k+1, n-k)."""
    low = 0.0 if k == 0 else beta.ppf(alpha / 2, k, n - k + 1)
    high = 1.0 if k == n else beta.ppf(1 - alpha / 2, k + 1, n - k)
    return low, high


@pytest.mark.parametrize("k, n", [(10, 36), (34, 48), (31, 58), (1, 2), (94, 128)])
def test_clopper_pearson_matches_beta_quantiles(k, n):
    low, high = stats.clopper_pearson(k, n)
    ref_low, ref_high = reference_cp(k, n)
    assert low == pytest.approx(ref_low, abs=1e-9)
    assert high == pytest.approx(ref_high, abs=1e-9)


def test_clopper_pearson_10_of_36_published_values():
    # 10/36 = 27.8 %; the exact interval is 14.2 %–45.2 % (tables of the exact binomial interval)
    low, high = stats.clopper_pearson(10, 36)
    assert round(100 * low, 1) == 14.2
    assert round(100 * high, 1) == 45.2
    assert low < 10 / 36 < high


def test_clopper_pearson_edges_closed_form():
    # k = n: lower bound is (alpha/2)^(1/n); k = 0: upper bound is 1 - (alpha/2)^(1/n)
    low, high = stats.clopper_pearson(18, 18)
    assert high == 1.0
    assert low == pytest.approx(0.025 ** (1 / 18), abs=1e-9)  # 0.8147
    low, high = stats.clopper_pearson(0, 14)
    assert low == 0.0
    assert high == pytest.approx(1 - 0.025 ** (1 / 14), abs=1e-9)  # 0.2316


def test_clopper_pearson_rejects_impossible_counts():
    with pytest.raises(ValueError):
        stats.clopper_pearson(5, 0)
    with pytest.raises(ValueError):
        stats.clopper_pearson(7, 6)


def test_exact_count_only_without_rounding():
    assert stats.exact_count(100, 18) == 18
    assert stats.exact_count(70, 10) == 7  # 70 * 10 / 100 has floating error; still whole
    assert stats.exact_count(25, 48) == 12
    assert stats.exact_count(77.6, 58) is None  # 45.008: 45 is implied, not stated
    assert stats.exact_count(81.36, 59) is None  # 48.0024
    assert stats.exact_count(96, 101) is None
    assert stats.exact_count(50, None) is None
    assert stats.exact_count(None, 20) is None


def test_count_basis_rules():
    assert stats.count_basis(58, 31, 53.45) == (31, stats.STATED)
    assert stats.count_basis(18, None, 100) == (18, stats.DERIVED)
    assert stats.count_basis(58, None, 77.6) == (None, stats.PERCENT_ONLY)
    assert stats.count_basis(None, None, 100) == (None, stats.PERCENT_ONLY)  # no n: nothing to derive
    assert stats.count_basis(18, None, 100, qualifier="about") == (None, stats.PERCENT_ONLY)
    assert stats.count_basis(18, None, 100, unit="months") == (None, stats.PERCENT_ONLY)


def test_with_exact_intervals_labels_every_row():
    frame = pd.DataFrame({
        "n": pd.array([36, 58, 18, None, 101], dtype="Int64"),
        "responders": pd.array([10, None, None, None, None], dtype="Int64"),
        "value": pd.array([27.8, 77.6, 100, 100, 78.8], dtype="Float64"),
        "qualifier": ["exact"] * 5,
        "unit": ["percent"] * 5,
    })
    binomial = pd.Series([True, True, True, True, False])
    out = stats.with_exact_intervals(frame, binomial=binomial, not_binomial_label="KM")
    assert list(out["count_basis"]) == [stats.STATED, stats.PERCENT_ONLY, stats.DERIVED, stats.PERCENT_ONLY, "KM"]
    assert out["responders_used"].iloc[0] == 10 and out["responders_used"].iloc[2] == 18
    assert out["responders_used"].isna().tolist() == [False, True, False, True, True]
    ref_low, ref_high = reference_cp(10, 36)
    assert out["cp_low"].iloc[0] == pytest.approx(100 * ref_low)
    assert out["cp_high"].iloc[0] == pytest.approx(100 * ref_high)
    assert out["cp_high"].iloc[2] == pytest.approx(100.0)
    assert out["cp_low"].isna().tolist() == [False, True, False, True, True]
    assert "cp_low" not in frame.columns  # input untouched


def test_with_exact_intervals_empty_frame():
    frame = pd.DataFrame({"n": pd.array([], dtype="Int64"), "responders": pd.array([], dtype="Int64"),
                          "value": pd.array([], dtype="Float64"), "qualifier": [], "unit": []})
    out = stats.with_exact_intervals(frame)
    assert out.empty and {"cp_low", "cp_high", "count_basis", "responders_used"} <= set(out.columns)


def test_format_interval():
    assert stats.format_interval(14.2002, 45.186) == "14.2–45.2 %"
    assert stats.format_interval(None, 3) == ""
