"""Property-based: whatever bytes a CSV holds, loading and validating give a table or the
project's own validation error, never an unhandled exception."""

from __future__ import annotations

import shutil

from conftest import SOURCES_SPEC, results_spec, write_package
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_utils.core.errors import DataValidationError
from review_utils.data.package import DataPackage
from review_utils.data.validate import validate_package

HEADER = b"result_id,n,responders,reported,source_id\n"

# Bytes that matter to CSV parsing, mixed with arbitrary ones.
csv_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from([b",", b'"', b"\n", b"\r\n", b"\r", b"\x00", b"\xef\xbb\xbf", b"1", b"-2", b"2024-01-01",
                              b"paper", b"\xd6\xd0", b"\xff", b"=SUM(A1)", b"<script>", b" ", b"r1", b"1e309"]),
             max_size=60).map(b"".join),
).map(lambda body: HEADER + body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(csv_bytes, st.binary(max_size=300)))
def test_any_bytes_load_or_fail_with_our_error(tmp_path_factory, body):
    folder = write_package(tmp_path_factory.mktemp("fuzz") / "data",
                           {"sources": SOURCES_SPEC, "results": results_spec("")})
    (folder / "results.csv").write_bytes(body)
    try:
        frame = DataPackage(folder).load("results", as_of="2024-12-31")
        assert list(frame.columns) == ["result_id", "n", "responders", "reported", "source_id"]
    except DataValidationError as exc:
        assert exc.problems and all(p.file == "data/results.csv" for p in exc.problems)
    problems = validate_package(folder)  # must never raise
    assert all(p.rule and p.message for p in problems)
    shutil.rmtree(folder.parent)


# ----------------------------------------------------------------------------- one type system
# Cells that the two readers of a schema have disagreed on, mixed with random text.
SPECIAL_CELLS = ["1", "1.0", "-2", "+3", "007", "1e3", "1_000", " 1", "1 ", " ", "NaN", "nan", "inf", "-INF",
                 "Infinity", "1e309", "true", "True", "TRUE", "tRuE", "yes", "0", "false", "2024-01-01",
                 "2024-1-5", "2024-13-01", "2024-02-30", "2024-01-01T10:00", "2024-01-01 00:00", "0x1A", "١٢"]
cells = st.one_of(st.sampled_from(SPECIAL_CELLS),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='",\r\n'),
                          max_size=8))


def frictionless_accepts(field_type: str, cell: str) -> bool:
    from frictionless import Field

    value, notes = Field.from_descriptor({"name": "x", "type": field_type}).read_cell(cell)
    return not notes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field_type=st.sampled_from(["integer", "number", "boolean", "date", "string"]), cell=cells)
def test_loader_and_validation_agree_on_every_value(tmp_path_factory, field_type, cell):
    """Whatever the cell, the loader accepts it exactly when ``review validate`` does, and a
    value the loader accepts is one Frictionless accepts too (the loader is never the laxer)."""
    import json

    folder = tmp_path_factory.mktemp("types") / "data"
    folder.mkdir()
    descriptor = {"name": "t", "resources": [{
        "name": "cells", "path": "cells.csv", "profile": "tabular-data-resource",
        "schema": {"fields": [{"name": "id", "type": "string"}, {"name": "x", "type": field_type}]}}]}
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (folder / "cells.csv").write_text("id,x\n" + f"r1,{cell}\n", encoding="utf-8", newline="")
    try:
        DataPackage(folder).load("cells")
        loaded = True
    except DataValidationError:
        loaded = False
    problems = validate_package(folder)
    assert loaded == (not problems), (cell, [str(p) for p in problems])
    if loaded and cell != "":
        assert frictionless_accepts(field_type, cell), cell
    # every problem is reported once, never twice by the two readers
    assert len({(p.row, p.column) for p in problems}) == len(problems)
    shutil.rmtree(folder.parent)
