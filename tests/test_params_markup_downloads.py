"""Book parameters, escaping of data text, and the CSV downloads' formula neutralising."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from review_utils.core.errors import ParameterError
from review_utils.core.params import parse_assignments, resolve
from review_utils.render import markup
from review_utils.render.downloads import safe_frame, write_csv


@pytest.fixture
def params_file(tmp_path):
    path = tmp_path / "params.yml"
    path.write_text("as_of:\n  type: date\n  default: 2025-06-30\nlimit:\n  type: int\n  default: 3\n")
    return path


def test_defaults_and_overrides(params_file):
    assert resolve(params_file) == {"as_of": dt.date(2025, 6, 30), "limit": 3}
    assert resolve(params_file, {"as_of": "2022-12-31", "limit": None})["as_of"] == dt.date(2022, 12, 31)


def test_bad_parameters_are_named(params_file):
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) asof; known: as_of, limit"):
        resolve(params_file, {"asof": "2022-01-01"})
    with pytest.raises(ParameterError, match=r"as_of='31/12/2022' is not a valid date \(use YYYY-MM-DD\)"):
        resolve(params_file, {"as_of": "31/12/2022"})
    with pytest.raises(ParameterError, match="expected NAME=VALUE"):
        parse_assignments(["as_of"])


def test_escape_neutralises_markup():
    hostile = '<script>alert(1)</script> {cite}`x` *bold* [link](http://e.x) $x$'
    escaped = markup.escape(hostile)
    # every ASCII punctuation character is backslash-escaped, so none can start markup
    assert "<" not in escaped.replace("\\<", "") and "`" not in escaped.replace("\\`", "")
    assert escaped.replace("\\", "") == hostile


def test_list_table_escapes_every_cell_and_keeps_rows():
    text = markup.list_table(["a", "b"], [["<b>x</b>", "1"], ["y", "2"]], caption="Cap <i>", label="tbl-x")
    assert text.splitlines()[0] == "````{list-table} Cap \\<i\\>"
    assert "* - \\<b\\>x\\<\\/b\\>" in text and text.count("* - ") == 3


def test_long_tables_and_tables_with_filters_are_sortable_short_ones_are_not():
    assert markup.table_classes(14) == []  # the rule: 15 rows or more is long
    assert markup.table_classes(15) == ["review-sortable"]
    assert markup.table_classes(200) == ["review-sortable"]
    # a table with select menus is sortable whatever its length; columns in order, once each
    assert markup.table_classes(3, [4, 1, 4]) == ["review-sortable", "review-filter-col-1", "review-filter-col-4"]
    with pytest.raises(ValueError, match="column positions"):
        markup.table_classes(20, [-1])


def _html_of(myst: str) -> str:
    from docutils.core import publish_string
    from myst_parser.parsers.docutils_ import Parser

    return publish_string(myst, parser=Parser(), writer_name="html5",
                          settings_overrides={"output_encoding": "unicode", "report_level": 2, "halt_level": 2})


def test_table_classes_reach_the_html_table_with_its_caption_and_id():
    rows = [[f"C{i:02}", "contradicted" if i % 3 else "confirmed"] for i in range(16)]
    text = markup.list_table(["Claim", "Status"], rows, caption="The ledger", label="tbl-x",
                             classes=markup.table_classes(len(rows), [1]))
    assert ":class: review-sortable review-filter-col-1" in text.splitlines()
    html = _html_of(text)
    table = re.search(r"<table[^>]*>", html).group(0)
    assert 'id="tbl-x"' in table and "review-sortable" in table and "review-filter-col-1" in table
    assert "<caption>The ledger</caption>" in html and len(re.findall(r"<th[ >]", html)) == 2
    plain = markup.list_table(["a"], [["x"]], caption="Short", label="tbl-y")
    assert ":class:" not in plain and "review-" not in _html_of(plain)
    with pytest.raises(ValueError, match="tbl-y: class 'Bad Class'"):
        markup.list_table(["a"], [["x"]], caption="Short", label="tbl-y", classes=["Bad Class"])


def test_download_labels_are_plain_text_without_role_delimiters():
    assert markup.download("Table data (CSV)", "_generated/x/t.csv") == "{download}`Table data (CSV) <_generated/x/t.csv>`"
    assert markup.download("a`b <c>\nd", "p.csv") == "{download}`ab c d <p.csv>`"


def test_cite_is_sorted_unique_and_refuses_odd_keys():
    assert markup.cite(["b", "a", "b", None]) == "{cite:p}`a,b`"
    assert markup.cite([]) == ""
    with pytest.raises(ValueError):
        markup.cite(["bad key`"])


def test_downloads_neutralise_formulas_but_not_numbers(tmp_path):
    frame = pd.DataFrame({"text": ["=HYPERLINK(\"x\")", "+cmd", "@SUM(A1)", "-2+3", "plain"],
                          "number": [-1.5, 2, 3, 4, 5],
                          "when": pd.to_datetime(["2024-01-02"] * 5)})
    safe = safe_frame(frame)
    assert safe["text"].tolist() == ["'=HYPERLINK(\"x\")", "'+cmd", "'@SUM(A1)", "'-2+3", "plain"]
    assert safe["number"].tolist() == [-1.5, 2, 3, 4, 5]
    path = tmp_path / "out.csv"
    write_csv(frame, path)
    first = path.read_bytes()
    write_csv(frame, path)
    assert path.read_bytes() == first and b"\r\n" not in first and b"2024-01-02" in first
