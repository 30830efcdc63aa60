"""Loading typed tables, as_of filtering, read recording, and validation messages."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from conftest import RESULTS_FIELDS, SOURCES_SPEC, results_spec, write_package

from review_utils.core.errors import DataValidationError
from review_utils.data import package as data
from review_utils.data.package import DataPackage
from review_utils.data.validate import validate_package


def test_load_types_follow_the_schema(small_package):
    frame = DataPackage(small_package).load("results")
    assert str(frame["n"].dtype) == "Int64"
    assert frame["reported"].dt.year.tolist() == [2023, 2024, 2024]
    assert frame["result_id"].tolist() == ["r1", "r2", "r3"]


def test_as_of_drops_rows_dated_later(small_package):
    package = DataPackage(small_package)
    assert package.load("results", as_of=dt.date(2024, 6, 30))["result_id"].tolist() == ["r1", "r2"]
    assert package.load("results", as_of="2022-12-31").empty
    # a resource without asOfField is never filtered
    assert len(package.load("sources", as_of="1990-01-01")) == 2


def test_rows_without_a_date_are_known_from_their_source(tmp_path):
    folder = write_package(tmp_path / "data", {
        "sources": SOURCES_SPEC,
        "results": results_spec("result_id,n,responders,reported,source_id\n"
                                "r1,10,5,,paper\nr2,10,5,,later\nr3,10,5,,\n"),
    })
    package = DataPackage(folder)
    # paper: 2024-06-01, later: 2025-01-01, r3 has no source date at all: kept in every edition
    assert package.load("results", as_of="2024-12-31")["result_id"].tolist() == ["r1", "r3"]
    assert package.load("results", as_of="2020-01-01")["result_id"].tolist() == ["r3"]
    assert "sources" in data.reads()  # the filter read the sources table, so it is a dependency


def test_undated_statements_can_be_dated_by_their_source(tmp_path):
    spec = dict(results_spec("result_id,n,responders,reported,source_id\nr1,1,1,,paper\nr2,1,1,,later\n"))
    spec.pop("asOfField")
    folder = write_package(tmp_path / "data", {"sources": SOURCES_SPEC, "results": spec})
    descriptor = json.loads((folder / "datapackage.json").read_text())
    # undated rows stay in every edition, but never with a source the edition could not cite yet
    assert DataPackage(folder).load("results", as_of="2024-12-31")["result_id"].tolist() == ["r1"]
    assert DataPackage(folder).load("results", as_of="2025-06-30")["result_id"].tolist() == ["r1", "r2"]
    descriptor["resources"][1]["asOfSource"] = True
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    assert DataPackage(folder).load("results", as_of="2024-12-31")["result_id"].tolist() == ["r1"]


def test_as_of_falls_back_through_declared_date_columns(tmp_path):
    fields = RESULTS_FIELDS + [{"name": "data_cut", "type": "date"}]
    spec = dict(results_spec("result_id,n,responders,reported,source_id,data_cut\n"
                             "r1,1,1,,paper,2024-08-09\nr2,1,1,2023-01-01,paper,2022-06-30\n"), fields=fields)
    spec["asOfField"] = ["reported", "data_cut"]
    folder = write_package(tmp_path / "data", {"sources": SOURCES_SPEC, "results": spec})
    package = DataPackage(folder)
    # r1 has no report date: its data cut dates it (a result is not known before its cut)
    assert package.load("results", as_of="2024-06-30")["result_id"].tolist() == ["r2"]
    assert package.load("results", as_of="2024-12-31")["result_id"].tolist() == ["r1", "r2"]


def test_loads_are_recorded_with_a_fingerprint_that_tracks_the_file(small_package):
    package = DataPackage(small_package)
    package.load("results")
    first = data.reads()["results"]["fingerprint"]
    (small_package / "results.csv").write_text("result_id,n,responders,reported,source_id\nr1,1,1,2020-01-01,paper\n")
    package.load("results")
    assert data.reads()["results"]["fingerprint"] != first


def test_valid_package_has_no_problems(small_package):
    assert validate_package(small_package) == []


def test_the_real_data_package_validates():
    from conftest import REPO

    assert [str(p) for p in validate_package(REPO / "data")] == []


@pytest.mark.parametrize("rows, expected", [
    ("r1,100,120,2023-01-15,paper\n",
     "data/results.csv row 2, column responders: 120 is more than n (100) [responders<=n]"),
    ("r1,100,80,2024-07-01,paper\n",
     "data/results.csv row 2, column reported: 2024-07-01 is later than its source 'paper' was published (2024-06-01) [date-after-source]"),
    ("r1,100,80,2023-01-15,nobody\n",
     "data/results.csv row 2, column source_id: 'nobody' is not a source_id in data/sources.csv; add it there or fix the id [foreign-key]"),
    ("r1,-3,,2023-01-15,paper\n",
     "data/results.csv row 2, column n: -3 is below the minimum 0 [constraint:minimum]"),
    ("r1,ten,0,2023-01-15,paper\n",
     "data/results.csv row 2, column n: 'ten' is not a valid integer [type:integer]"),
    ("r1,10,0,15/01/2023,paper\n",
     "data/results.csv row 2, column reported: '15/01/2023' is not a valid date (write dates as YYYY-MM-DD) [type:date]"),
])
def test_each_defect_gets_a_message_naming_file_row_column_and_rule(tmp_path, rows, expected):
    folder = write_package(tmp_path / "data", {
        "sources": SOURCES_SPEC,
        "results": results_spec("result_id,n,responders,reported,source_id\n" + rows),
    })
    assert [str(p) for p in validate_package(folder)] == [expected]


def test_all_problems_are_reported_at_once(tmp_path):
    folder = write_package(tmp_path / "data", {
        "sources": SOURCES_SPEC,
        "results": results_spec("result_id,n,responders,reported,source_id\n"
                                "r1,10,20,2023-01-15,paper\nr1,5,1,2023-01-15,ghost\n"),
    })
    rules = sorted(p.rule for p in validate_package(folder))
    assert rules == ["foreign-key", "primary-key", "responders<=n"]


def test_header_mismatch_and_encoding_and_empty_file(tmp_path):
    folder = write_package(tmp_path / "data", {
        "sources": SOURCES_SPEC,
        "results": results_spec("result_id,N,responders,reported,source_id\nr1,1,1,2023-01-01,paper\n"),
    })
    problems = validate_package(folder)
    assert {p.rule for p in problems} == {"header"} and all(p.row == 1 for p in problems)

    (folder / "results.csv").write_bytes("result_id,n,responders,reported,source_id\nr1,1,1,2023-01-01,中文\n".encode("gbk"))
    [problem] = validate_package(folder)
    assert problem.rule == "encoding" and "not UTF-8" in problem.message and problem.row == 2

    (folder / "results.csv").write_text("")
    [problem] = validate_package(folder)
    assert problem.rule == "empty-file"


def test_bom_and_crlf_are_accepted(tmp_path):
    folder = write_package(tmp_path / "data", {"sources": SOURCES_SPEC, "results": results_spec("")})
    text = "result_id,n,responders,reported,source_id\r\nr1,10,5,2023-01-15,paper\r\n"
    (folder / "results.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert validate_package(folder) == []
    assert DataPackage(folder).load("results")["n"].tolist() == [10]


def test_loader_refuses_values_the_schema_forbids(small_package):
    (small_package / "results.csv").write_text("result_id,n,responders,reported,source_id\nr1,1.5,1,2023-01-01,paper\n")
    with pytest.raises(DataValidationError) as info:
        DataPackage(small_package).load("results")
    assert "data/results.csv row 2, column n: '1.5' is not a valid integer" in str(info.value)


def test_empty_optional_foreign_key_and_dates_are_not_errors(tmp_path):
    # found by a data curator: a missing cell in a foreign-key column crashed the validator
    folder = write_package(tmp_path / "data", {
        "sources": SOURCES_SPEC,
        "results": results_spec("result_id,n,responders,reported,source_id\nr1,10,5,,\n"),
    })
    assert validate_package(folder) == []


@pytest.mark.parametrize("rows, rule, row", [
    ("r1,10,5,2023-01-15,paper,extra\n", "extra-cell", 2),   # pandas would have shifted the columns
    ("r1,10,5\n", "missing-cell", 2),
    ("r1,10,5,2023-01-15,paper\n\nr2,1,1,2023-01-15,paper\n", "blank-row", 3),
    ('r1,10,5,2023-01-15,"paper\n', "csv-syntax", 2),            # unterminated quote
])
def test_malformed_rows_are_named_not_shifted(small_package, rows, rule, row):
    (small_package / "results.csv").write_text("result_id,n,responders,reported,source_id\n" + rows)
    problems = [(p.rule, p.row) for p in validate_package(small_package) if p.file == "data/results.csv"]
    assert problems[0] == (rule, row)
    with pytest.raises(DataValidationError) as info:  # the loader refuses too, with its own words
        DataPackage(small_package).load("results")
    assert info.value.problems[0].row == row


def test_an_edition_cites_only_sources_published_by_its_date(tmp_path):
    """A row known early but sourced late takes a corroborating source of its time, or is left out;
    later sources disappear from every citing column."""
    fields = RESULTS_FIELDS + [{"name": "locator", "type": "string"}, {"name": "corroborating_source_id", "type": "string"}]
    spec = dict(results_spec("result_id,n,responders,reported,source_id,locator,corroborating_source_id\n"
                             "r1,1,1,2020-01-01,later,p. 3,paper\n"          # late source, earlier corroboration
                             "r2,1,1,2020-01-01,later,p. 4,\n"               # late source, nothing earlier
                             "r3,1,1,2020-01-01,paper,p. 5,later; paper\n",  # a late corroboration is dropped
                             ), fields=fields)
    folder = write_package(tmp_path / "data", {"sources": SOURCES_SPEC, "results": spec})
    frame = DataPackage(folder).load("results", as_of="2024-12-31").set_index("result_id")
    assert frame.index.tolist() == ["r1", "r3"]
    assert frame.at["r1", "source_id"] == "paper" and pd.isna(frame.at["r1", "locator"])
    assert pd.isna(frame.at["r1", "corroborating_source_id"])
    assert frame.at["r3", "source_id"] == "paper" and frame.at["r3", "locator"] == "p. 5"
    assert frame.at["r3", "corroborating_source_id"] == "paper"
    # once the later source is out, everything is cited as curated
    later = DataPackage(folder).load("results", as_of="2025-06-30").set_index("result_id")
    assert later.index.tolist() == ["r1", "r2", "r3"] and later.at["r1", "source_id"] == "later"
    assert later.at["r3", "corroborating_source_id"] == "later; paper"
