"""Exact binomial (Clopper–Pearson) intervals for reported trial results, without inventing counts.

A 95 % interval needs a numerator and a denominator. Sources often give only a percentage (and
sometimes the denominator); the count behind a rounded percentage is then *not known*, even if a
unique integer would round to it. So a count is used only when

* the source states it (``responders``), or
* the percentage times the denominator is itself a whole number (e.g. 100 % of 18 is 18):
  no rounding was involved, so the count follows exactly.

Every other row is labelled :data:`PERCENT_ONLY` and gets no interval.

The interval comes from :func:`scipy.stats.binomtest` (``proportion_ci(method="exact")`` is the
Clopper–Pearson interval), the library the project pins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.data.values import is_missing  # noqa: F401 - re-used by the chapters through stats

if TYPE_CHECKING:
    import pandas as pd

STATED = "count stated by the source"
DERIVED = "count exact: value × n is a whole number"
PERCENT_ONLY = "percentage only, no interval"
NOT_A_PROPORTION = "not a binomial proportion, no interval"

CONFIDENCE = 0.95


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact two-sided interval for a binomial proportion k/n, as fractions in [0, 1]."""
    k, n = int(k), int(n)
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be between 0 and n={n}, got {k}")
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def exact_count(percent: Any, n: Any, tolerance: float = 1e-9) -> int | None:
    """The count ``percent`` % of ``n`` when that is a whole number, else None.

    ``tolerance`` absorbs only floating-point error (e.g. 70 % of 10), never rounding in the
    source: 77.6 % of 58 is 45.008, so the count is not known (45 is implied, not stated).
    """
    if is_missing(percent) or is_missing(n) or int(n) <= 0:
        return None
    count = float(percent) * int(n) / 100.0
    nearest = round(count)
    if abs(count - nearest) <= tolerance * max(1.0, abs(count)) and 0 <= nearest <= int(n):
        return int(nearest)
    return None


def count_basis(n: Any, responders: Any, value: Any, qualifier: Any = "exact", unit: Any = "percent") -> tuple[int | None, str]:
    """(count to use, why) for one reported result; the count is None when it is not known."""
    if is_missing(n) or int(n) <= 0:
        return None, PERCENT_ONLY
    if not is_missing(responders):
        return int(responders), STATED
    if unit == "percent" and qualifier == "exact":
        derived = exact_count(value, n)
        if derived is not None:
            return derived, DERIVED
    return None, PERCENT_ONLY


def with_exact_intervals(frame: pd.DataFrame, binomial: pd.Series | None = None,
                         not_binomial_label: str = NOT_A_PROPORTION) -> pd.DataFrame:
    """A copy of an efficacy-shaped frame (n, responders, value, qualifier, unit) with:

    - ``responders_used``: the count behind the interval (stated or exact), else <NA>;
    - ``count_basis``: :data:`STATED`, :data:`DERIVED`, :data:`PERCENT_ONLY`, or
      ``not_binomial_label`` for rows where ``binomial`` is False (e.g. Kaplan–Meier rates);
    - ``cp_low`` / ``cp_high``: the exact 95 % interval in percent (empty without a count).
    """
    import pandas as pd

    if binomial is None:
        binomial = pd.Series(True, index=frame.index)

    def count_of(index: Any, row: Any) -> tuple[int | None, str]:
        if not bool(binomial.loc[index]):
            return None, not_binomial_label
        return count_basis(row.get("n"), row.get("responders"), row.get("value"),
                           row.get("qualifier", "exact"), row.get("unit", "percent"))

    return intervals_from(frame, count_of, "responders_used")


def intervals_from(frame: pd.DataFrame, count_of: Any, used_column: str) -> pd.DataFrame:
    """A copy of ``frame`` with the exact interval of each row whose count is known:
    ``count_of(index, row)`` gives (count or None, why); the count goes to ``used_column``, the
    reason to ``count_basis``, the interval in percent of ``n`` to ``cp_low``/``cp_high``."""
    import pandas as pd

    out = frame.copy()
    counts, bases, lows, highs = [], [], [], []
    for index, row in out.iterrows():
        count, basis = count_of(index, row)
        counts.append(count)
        bases.append(basis)
        low, high = (None, None) if count is None else clopper_pearson(count, int(row["n"]))
        lows.append(None if low is None else 100 * low)
        highs.append(None if high is None else 100 * high)
    out[used_column] = pd.array(counts, dtype="Int64")
    out["count_basis"] = pd.Series(bases, index=out.index, dtype="string")
    out["cp_low"] = pd.array(lows, dtype="Float64")
    out["cp_high"] = pd.array(highs, dtype="Float64")
    return out


def format_interval(low: Any, high: Any, digits: int = 1) -> str:
    """'62.7–88.0 %' or '' when either end is missing."""
    if is_missing(low) or is_missing(high):
        return ""
    return f"{float(low):.{digits}f}–{float(high):.{digits}f} %"
