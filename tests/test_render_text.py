"""The one home of the book's wording of numbers, stated values, dates and absences."""

import math

import pandas as pd
import pytest

from review_utils.data.values import is_missing, row_by_key, value_by_key
from review_utils.render import text


@pytest.mark.parametrize("value", [None, float("nan"), pd.NA, pd.NaT, math.nan])
def test_missing_values_are_what_an_empty_cell_becomes(value):
    assert is_missing(value)


@pytest.mark.parametrize("value", ["nan", "NA", "<NA>", "", 0, 0.0, [1, 2], False])
def test_typed_text_and_zeros_are_not_missing(value):
    # "nan" typed into a cell is text the source wrote; the loader turns only empty cells into NA
    assert not is_missing(value)


def test_dates_are_written_as_exactly_as_known():
    when = pd.Timestamp("2024-08-01")
    shown = [text.dated(when, p) for p in ("day", "month", "year", "quarter", "not_later_than")]
    assert shown == ["2024-08-01", "2024-08", "2024", "2024 Q3", "by 2024-08-01"]
    # a quarter is never written as a made-up day, whatever the day stored
    assert text.dated(pd.Timestamp("2024-07-01"), "quarter") == text.dated(pd.Timestamp("2024-09-30"), "quarter") == "2024 Q3"
    assert text.dated(pd.NaT, "day") == "undated"
    assert text.dated(None, "day", undated="") == ""


@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    ((33_000_000, None, None, "over", "CNY"), {}, "over 33,000,000 CNY"),
    ((None, 999_000, 1_290_000, "range", "CNY"), {}, "999,000–1,290,000 CNY"),
    ((50, None, None, "up_to", "percent"), {}, "up to 50 %"),
    ((60, None, None, "nearly", "count"), {}, "nearly 60"),
    ((2023, None, None, "exact", "year"), {}, "2023"),
    ((41.7, None, None, "exact", "percent"), {}, "41.7 %"),
    ((None, None, None, None, None), {}, ""),
    ((77.59, None, None, "exact", "percent"), {"number": text.as_given}, "77.59 %"),
    ((None, 40.0, 60.0, "range", "percent"), {"number": text.as_given}, "40–60 %"),
    ((133.0, None, None, "over", "count"), {"number": text.as_given}, "over 133"),
    ((12.6, None, None, None, "months"), {"number": text.as_given}, "12.6 months"),
    ((2000, None, None, "about", "count"), {"number": text.money}, "about 2,000"),
    ((1_200_000_000, None, None, "exact", "USD"), {"number": text.money}, "US$1.2 billion"),
    ((1_000_000, None, None, "over", "CNY"), {"number": text.money}, "over CNY 1.0 million"),
    ((1, None, None, "exact", "days"), {"number": text.money}, "1 day"),
    ((4, None, None, "up_to", "years"), {"number": text.money}, "up to 4 years"),
    ((float("nan"), 79, 89, "range", "count"), {"number": text.money}, "79–89"),
    ((None, 79, 89, "range", "percent"), {"number": text.amount}, "79–89 %"),
    ((3.3e7, None, None, "over", "CNY"), {"number": text.amount}, "over 33,000,000 CNY"),
    ((2, None, None, "exact", "table number"), {"number": text.amount}, "Table 2"),
    ((100 * 5 / 12, None, None, "exact", "percent"), {"number": text.amount}, "41.67 %"),
])
def test_a_value_is_written_as_its_source_words_it(args, kwargs, expected):
    assert text.stated(*args, **kwargs) == expected


def test_every_qualifier_of_the_schema_has_words_and_unknown_ones_are_errors():
    import json
    from pathlib import Path

    descriptor = json.loads((Path(__file__).parents[1] / "data" / "datapackage.json").read_text(encoding="utf-8"))
    enums = {tuple(f["constraints"]["enum"]) for r in descriptor["resources"] for f in r["schema"]["fields"]
             if f["name"] == "qualifier" and "enum" in f.get("constraints", {})}
    assert enums, "the schema declares qualifier values"
    for enum in enums:
        assert set(enum) <= set(text.QUALIFIER_WORDS), set(enum) - set(text.QUALIFIER_WORDS)
    with pytest.raises(ValueError, match="unknown qualifier 'roughly'"):
        text.stated(5, qualifier="roughly", unit="count")
    with pytest.raises(ValueError, match="a range needs value_low and value_high"):
        text.stated(None, 40, None, "range", "percent")


def test_lookups_by_key():
    frame = pd.DataFrame({"id": ["A", "B", "C"], "value": [4.0, 2.5, None]})
    assert row_by_key(frame, "id", "B")["value"] == 2.5
    assert row_by_key(frame, "id", "Z") is None
    assert value_by_key(frame, "id", "A") == 4 and isinstance(value_by_key(frame, "id", "A"), int)
    assert value_by_key(frame, "id", "B") == 2.5
    assert value_by_key(frame, "id", "C") is None and value_by_key(frame, "id", "Z") is None
