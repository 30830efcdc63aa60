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
