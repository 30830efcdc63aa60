"""`review validate` on broken copies of the real data package: one defect each, exact message,
exit status 1; accepted variants (BOM, CRLF) exit 0."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from conftest import REPO, copy_project, edit_csv, first_row, run_review, set_cell


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def project(pristine, tmp_path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(pristine, target)
    return target


def review(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`review --root ROOT ARGS` in this process, through the command line's own ``main`` (the
    parser, the command and the error report that `python -m review_utils.cli` runs; the first
    test below runs it as that process). The package's modules are imported once, not per call."""
    from review_utils import cli

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.pop(k) for k in ("REVIEW_ROOT", "CI") if k in os.environ}  # as run_review
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(["--root", str(root), *args])
    finally:
        os.environ.update(saved)
    return subprocess.CompletedProcess(["review", *args], code, out.getvalue(), err.getvalue())


def validate(root: Path) -> tuple[int, list[str]]:
    result = review(root, "validate")
    return result.returncode, [line.strip()[2:] for line in result.stderr.splitlines() if line.strip().startswith("- ")]


def test_the_real_package_passes(project):
    result = run_review(project, "validate")
    assert result.returncode == 0 and f"data/ is valid ({len(json.loads((project / 'data/datapackage.json').read_text())['resources'])} resources)" in result.stdout


def test_responders_more_than_n(project):
    path = project / "data/efficacy.csv"
    number, row = first_row(path, lambda r: r["n"] and r["responders"])
    edit_csv(path, set_cell(number, "responders", str(int(row["n"]) + 17)))
    assert validate(project) == (1, [
        f"data/efficacy.csv row {number}, column responders: {int(row['n']) + 17} is more than n ({row['n']}) [responders<=n]"])


def test_grade_3_above_any_grade_of_the_same_trial_event_and_scale(project):
    path = project / "data/safety.csv"
    any_number, any_row = first_row(path, lambda r: r["grade_threshold"] == "any" and r["events"] and r["event"] == "CRS")
    number, row = first_row(path, lambda r: r["grade_threshold"] in ("ge3", "g3_4") and r["trial"] == any_row["trial"]
                            and r["event"] == "CRS" and r["grading_system"] == any_row["grading_system"])
    edit_csv(path, set_cell(number, "events", str(int(any_row["events"]) + 1)))
    assert validate(project) == (1, [
        f"data/safety.csv row {number}, column events: {int(any_row['events']) + 1} is more than {any_row['events']} "
        f"in row {any_number}, the grade_threshold 'any' row of the same trial {any_row['trial']!r}, event 'CRS', "
        f"grading_system {any_row['grading_system']!r}; a grade_threshold {row['grade_threshold']!r} figure cannot "
        f"exceed the 'any' one: correct one of the two rows [events: grade_threshold {row['grade_threshold']}<=any]"])


def test_low_above_high(project):
    path = project / "data/findings.csv"
    number, row = first_row(path, lambda r: r["value_low"] and r["value_high"])
    edit_csv(path, set_cell(number, "value_low", str(float(row["value_high"]) + 1)))
    code, messages = validate(project)
    assert code == 1 and messages == [
        f"data/findings.csv row {number}, column value_low: {float(row['value_high']) + 1:g} is more than value_high "
        f"({float(row['value_high']):g}) [value_low<=value_high]"]


def test_date_after_its_source(project):
    path = project / "data/approvals.csv"
    number, row = first_row(path, lambda r: r["approval_id"] == "A02")
    _, source = first_row(project / "data/sources.csv", lambda r: r["source_id"] == row["source_id"])
    later = (dt.date.fromisoformat(source["published"]) + dt.timedelta(days=14)).isoformat()
    edit_csv(path, set_cell(number, "approval_date", later))
    assert validate(project) == (1, [
        f"data/approvals.csv row {number}, column approval_date: {later} is later than its source "
        f"'{row['source_id']}' was published ({source['published']}) [date-after-source]"])


def test_unknown_source_and_dangling_product(project):
    edit_csv(project / "data/approvals.csv", set_cell(2, "source_id", "nobody_2099"))
    edit_csv(project / "data/approvals.csv", set_cell(3, "product_id", "ghost-cel"))
    assert validate(project) == (1, [
        "data/approvals.csv row 2, column source_id: 'nobody_2099' is not a source_id in data/sources.csv; "
        "add it there or fix the id [foreign-key]",
        "data/approvals.csv row 3, column product_id: 'ghost-cel' is not a product_id in data/products.csv; "
        "add it there or fix the id [foreign-key]"])


def test_duplicate_key_and_enum_and_type(project):
    edit_csv(project / "data/approvals.csv", set_cell(3, "approval_id", "A01"))
    edit_csv(project / "data/approvals.csv", set_cell(4, "approval_type", "provisional"))
    edit_csv(project / "data/approvals.csv", set_cell(5, "approval_date", "2023/06/30"))
    code, messages = validate(project)
    assert code == 1
    assert [m.split(": ")[0] for m in messages] == [
        "data/approvals.csv row 3, column approval_id", "data/approvals.csv row 4, column approval_type",
        "data/approvals.csv row 5, column approval_date"]
    assert messages[0].endswith("[primary-key]")
    assert messages[1] == ("data/approvals.csv row 4, column approval_type: 'provisional' is not one of the allowed "
                           "values: ['conditional', 'full', 'not_stated'] [constraint:enum]")
    assert messages[2] == ("data/approvals.csv row 5, column approval_date: '2023/06/30' is not a valid date "
                           "(write dates as YYYY-MM-DD) [type:date]")


@pytest.mark.parametrize("change, column", [
    (lambda h, rows: (h[:-1], [r[:-1] for r in rows]), "missing"),
    (lambda h, rows: (h + ["extra"], [r + ["x"] for r in rows]), "extra"),
    (lambda h, rows: ([c if c != "target" else "antigen" for c in h], rows), "renamed"),
])
def test_missing_extra_or_renamed_column(project, change, column):
    edit_csv(project / "data/products.csv", change)
    code, messages = validate(project)
    assert code == 1 and messages
    assert all(m.startswith("data/products.csv row 1") and m.endswith("[header]") for m in messages)
    expected = ",".join(next(csv.reader(open(REPO / "data/products.csv", encoding="utf-8"))))
    assert f"expected header: {expected}" in messages[0]


def test_empty_file_and_other_encodings(project):
    (project / "data/recommendations.csv").write_text("", encoding="utf-8")
    text = (project / "data/ind_nonclearance_reasons.csv").read_text(encoding="utf-8")
    (project / "data/ind_nonclearance_reasons.csv").write_bytes(text.encode("gb18030"))
    code, messages = validate(project)
    assert code == 1
    assert messages[0].startswith("data/ind_nonclearance_reasons.csv row ")
    assert "is not UTF-8" in messages[0] and "re-save the file as UTF-8" in messages[0] and messages[0].endswith("[encoding]")
    assert messages[1] == "data/recommendations.csv: is empty; it needs at least the header row [empty-file]"


def test_bom_and_crlf_are_accepted(project):
    path = project / "data/approvals.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_text(encoding="utf-8").replace("\n", "\r\n").encode("utf-8"))
    assert review(project, "validate").returncode == 0


def test_a_row_a_chapter_names_by_id_must_exist(project):
    """A renamed row would otherwise read "not available as of the edition date" in the chapter."""
    path = project / "data/reimbursement.csv"
    number, _ = first_row(path, lambda r: r["reimb_id"] == "RB05")
    edit_csv(path, set_cell(number, "reimb_id", "RB05x"))
    code, messages = validate(project)
    assert code == 1
    assert ("data/reimbursement.csv, column reimb_id: chapter access names reimb_id 'RB05', which no row has; restore "
            "the row, or change the chapter (src/review_utils/chapters/access.py: ROWS and the code that uses it) "
            "[chapterRows]") in messages


def test_every_id_a_chapter_types_is_declared_in_its_rows():
    """An id typed in a chapter module or its notebook but missing from the module's ROWS would
    escape the check above."""
    import json
    import re

    from review_utils.chapters import declared_rows

    pattern = re.compile(r"[\"']((?:RB|MF|REC|NR|HB|P|F|E|I|R|G|C|A|S|T)[0-9]{1,3}[a-z]?)[\"']")
    declared = declared_rows()
    for module in sorted((REPO / "src/review_utils/chapters").glob("*.py")):
        if module.stem == "__init__":
            continue
        text = module.read_text(encoding="utf-8")
        notebook = REPO / "book" / f"{module.stem}.ipynb"
        if notebook.is_file():
            cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
            text += "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        typed = set(pattern.findall(text))
        listed = {i for ids in declared[module.stem].values() for i in ids}
        assert typed <= listed, (module.stem, sorted(typed - listed))


def test_rows_not_checked_recently_are_a_warning_naming_each_row(project):
    """Currency is a warning: validation passes, and every stale fact row is listed."""
    path = project / "data/prices.csv"
    number, row = first_row(path, lambda r: r["price_id"] == "P01")
    edit_csv(path, set_cell(number, "checked_on", "2020-01-15"))
    result = review(project, "validate", "-p", "as_of=2026-11-30", "-p", "check_within_days=365")
    assert result.returncode == 0 and "data/ is valid" in result.stdout
    assert "review: warning: 1 fact row(s) not checked against their sources in the 365 days before 2026-11-30" in result.stderr
    assert "  - data/prices.csv row P01: last checked 2020-01-15" in result.stderr
    # a shorter period lists more rows; a bad parameter is an error naming it
    shorter = review(project, "validate", "-p", "as_of=2030-01-01", "-p", "check_within_days=30")
    assert shorter.returncode == 0 and "data/products.csv row axi-cel" in shorter.stderr
    bad = review(project, "validate", "-p", "check_within_days=soon")
    assert bad.returncode != 0 and "check_within_days='soon' is not a valid int" in bad.stderr
