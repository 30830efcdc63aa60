"""Every wording of a number, a stated value, a date or an absence that the book prints.

One home, so that a quarter, a range or a missing row reads the same in every chapter:

- :func:`format_value` writes a number for prose (thousands separators, at most one decimal) and
  a date as ISO; :func:`as_given` writes a number exactly as a source gives it (77.59 stays
  77.59, 96 stays 96); :func:`money` writes large currency amounts ("US$1.2 billion");
  :func:`amount` writes the audit's numbers (at most two decimals, with their unit).
- :func:`stated` writes a value with its qualifier and unit as its source words it ("over 50 %",
  "79–89 %", "about 2,000").
- :func:`dated` writes a date as exact as its source allows: "2021-09" for a month, "2024 Q3" for
  a quarter (never a made-up day), "by 2025-06-30" for an upper bound, "undated" when absent.
- :data:`NOT_IN_EDITION` is the one phrase for a row that the edition's data does not hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from review_utils.data.values import is_missing

NOT_IN_EDITION = "not available as of the edition date"

# Qualifier codes of data/datapackage.json -> the words written before the number.
QUALIFIER_WORDS = {
    "exact": "", "range": "", "about": "about", "over": "over", "under": "under",
    "at_least": "at least", "nearly": "nearly", "up_to": "up to",
}

# Unit codes -> what follows the number ("" = nothing); a unit not listed is written after a space.
UNIT_SUFFIX = {
    "percent": " %", "count": "", "rank": "", "year": "", "": "",
    "CNY": " CNY", "USD": " USD", "months": " months", "years": " years", "days": " days",
    "ratio": "", "table number": "",
}

DATE_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def format_value(value: Any, fmt: str | None = None) -> str:
    """How a number or date is written in the prose: thousands separators, ISO dates."""
    if fmt is not None:
        return fmt.format(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime().date().isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return format_value(value.item(), fmt)
    return str(value)


def cell_text(value: Any) -> str:
    """A table cell: empty for a missing value, else :func:`format_value`."""
    return "" if is_missing(value) else format_value(value)


def with_unit(number: str, unit: Any) -> str:
    """``number`` followed by its unit's suffix ('50 %', '1,200,000 CNY', '2,000' for a count)."""
    unit = unit if isinstance(unit, str) else ""
    return number + UNIT_SUFFIX.get(unit, f" {unit}")


# Number styles: each writes one number *with its unit*; :func:`stated` builds ranges and
# qualifiers around any of them.
def grouped(value: Any, unit: Any = "") -> str:
    """Thousands separators and at most one decimal: '33,000,000 CNY', '41.7 %'; a year as is."""
    return with_unit(str(int(float(value))) if unit == "year" else format_value(float(value)), unit)


def as_given(value: Any, unit: Any = "") -> str:
    """Exactly the source's digits: 96 stays '96 %', 77.59 stays '77.59 %'; '' if missing."""
    return "" if is_missing(value) else with_unit(f"{float(value):g}", unit)


def money(value: Any, unit: Any = "") -> str:
    """Large amounts in words, currency first: 'US$1.2 billion', 'CNY 1.0 million', '50 %',
    '30 days' (one of a plural unit is singular: '1 year'); other units as :func:`grouped`."""
    value = float(value)
    if unit == "percent":
        return f"{value:g} %"
    if unit in ("USD", "CNY"):
        prefix = "US$" if unit == "USD" else "CNY "
        for size, word in ((1e9, "billion"), (1e6, "million")):
            if abs(value) >= size:
                return f"{prefix}{value / size:.1f} {word}"
        return f"{prefix}{value:,.0f}"
    if unit in ("year", "rank"):
        return f"{value:.0f}"
    number = format_value(value)
    if unit in ("count", "", None):
        return number
    if value == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{number} {unit}"


def amount(value: Any, unit: Any = "") -> str:
    """The audit's numbers, at most two decimals: '41.67 %', '1,200,000 CNY', 'Table 2'."""
    value = float(value)
    if unit == "year":
        return str(int(round(value)))
    if unit == "table number":
        return f"Table {int(round(value))}"
    rounded = round(value, 2)
    text = f"{rounded:,.0f}" if float(rounded).is_integer() else f"{rounded:,.2f}".rstrip("0").rstrip(".")
    return with_unit(text, unit)


def stated(value: Any, low: Any = None, high: Any = None, qualifier: Any = None, unit: Any = "",
           number: Callable[[Any, Any], str] = grouped) -> str:
    """A value as its source words it: 'over 33,000,000 CNY', '999,000–1,290,000 CNY', 'up to 50 %'.

    Both bounds given make a range, written low–high with the unit once (qualifier "range", or any
    row with bounds and no single value; a range missing a bound is an error); a missing qualifier
    means exact; no value gives ''.
    ``number`` is the style of each number (:func:`grouped`, :func:`as_given`, :func:`money`,
    :func:`amount`). An unknown qualifier is an error, never silently dropped.
    """
    unit = unit if isinstance(unit, str) else ""
    qualifier = "exact" if is_missing(qualifier) else str(qualifier)
    if qualifier not in QUALIFIER_WORDS:
        raise ValueError(f"unknown qualifier {qualifier!r}; known: {', '.join(QUALIFIER_WORDS)}")
    if qualifier == "range" and (is_missing(low) or is_missing(high)):
        raise ValueError("a range needs value_low and value_high")
    if not is_missing(low) and not is_missing(high) and (qualifier == "range" or is_missing(value)):
        left, right = number(low, unit), number(high, unit)
        suffix = UNIT_SUFFIX.get(unit, f" {unit}")
        return f"{left.removesuffix(suffix) if suffix else left}–{right}"
    if is_missing(value):
        return ""
    words = QUALIFIER_WORDS[qualifier]
    text = number(value, unit)
    return f"{words} {text}" if words else text


def dated(when: Any, precision: Any = "day", undated: str = "undated") -> str:
    """A date as exact as its source allows: '2024-07-31', '2021-04' (month), '2024 Q3'
    (quarter), '2017' (year), 'by 2025-06-30' (an upper bound), ``undated`` when missing."""
    if is_missing(when):
        return undated
    if precision == "not_later_than":
        return "by " + when.strftime("%Y-%m-%d")
    if precision == "quarter":
        return f"{when.year} Q{(when.month - 1) // 3 + 1}"
    return when.strftime(DATE_FORMATS.get(str(precision), "%Y-%m-%d"))


def short_citation(source: Any) -> str:
    """A source named for a reader in a few words: 'Liu et al. (2025)', 'NMPA (2024)'; the book's
    numbered bibliography has the full reference. ``source`` is a row of sources.csv."""
    authors = source.get("authors") if hasattr(source, "get") else None
    who = ""
    if not is_missing(authors) and str(authors).strip():
        # BibTeX-style braces keep a corporate author whole ("{ClinicalTrials.gov (U.S. ...)}")
        corporate = str(authors).strip().startswith("{")
        names = [a.strip().strip("{}") for a in str(authors).replace(" and ", ";").split(";") if a.strip()]
        if corporate:
            names = names[:1]
        first = (names[0] if corporate else names[0].split(",")[0].strip()) if names else ""
        who = first + (" et al." if len(names) > 1 else "")
    for column in ("container", "publisher"):
        if not who and not is_missing(source.get(column)) and str(source.get(column)).strip():
            who = str(source.get(column)).strip()
    who = who or str(source.get("source_id"))
    published = source.get("published")
    year = "" if is_missing(published) else f" ({published.year})" if hasattr(published, "year") else f" ({str(published)[:4]})"
    return who + year
