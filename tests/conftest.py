"""Shared fixtures: small data packages and throw-away copies of the real project."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("_config.yml", "_toc.yml", "params.yml", "requirements.lock")
PROJECT_DIRS = ("book", "data")
# The benchmark's committed results: the Methods appendix shows them (book/benchmark.ipynb).
OPTIONAL_FILES = ("bench/results/latest.json", "bench/results/pages.json")


# A small book for tests about the machinery rather than the content: a chapter with a table
# and a figure, the audit (the Methods page glues its tolerances), the appendix that reads every
# table, and pages that glue across documents.
SMALL_BOOK = ["book/approvals", "book/audit", "book/data_appendix", "book/methods", "book/references"]


def copy_project(target: Path, chapters: list[str] | None = None) -> Path:
    """A copy of the book's sources (no _build, no venv) to build or break freely; with
    ``chapters``, its table of contents lists only those files (numbered, one part)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, target / name)
    for name in PROJECT_DIRS:
        shutil.copytree(REPO / name, target / name, ignore=shutil.ignore_patterns("_generated", ".ipynb_checkpoints"))
    for name in OPTIONAL_FILES:
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    if chapters is not None:
        toc = ["format: jb-book", "root: book/index", "parts:", "  - caption: Chapters", "    numbered: true",
               "    chapters:"] + [f"      - file: {name}" for name in chapters]
        (target / "_toc.yml").write_text("\n".join(toc) + "\n", encoding="utf-8")
    return target


def run_review(root: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("REVIEW_ROOT", "CI")}
    result = subprocess.run([sys.executable, "-m", "review_utils.cli", "--root", str(root), *args],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"review {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def tree_digest(folder: Path) -> str:
    """One digest over every file's name and bytes below ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def edit_csv(path: Path, change: Callable[[list[str], list[list[str]]], tuple[list[str], list[list[str]]]]) -> None:
    """Rewrite a CSV through ``change(header, rows) -> (header, rows)``."""
    with open(path, encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    header, rows = change(header, rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")


def set_cell(row_number: int, column: str, value: str):
    """A change for :func:`edit_csv`; spreadsheet numbering: the header is row 1."""
    def change(header, rows):
        rows[row_number - 2][header.index(column)] = value
        return header, rows
    return change


def first_row(path: Path, predicate: Callable[[dict[str, str]], bool]) -> tuple[int, dict[str, str]]:
    """The first row (spreadsheet number, values) that fits ``predicate``."""
    with open(path, encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            if predicate(row):
                return number, row
    raise AssertionError(f"no row in {path} fits the test")


def write_package(folder: Path, resources: dict[str, dict]) -> Path:
    """A tiny data package: ``resources`` maps name -> {"fields": [...], "rows": "csv text", ...extra}."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = {"name": "test", "resources": []}
    for name, spec in resources.items():
        (folder / f"{name}.csv").write_text(spec["rows"], encoding="utf-8")
        schema = {"fields": spec["fields"], **{k: spec[k] for k in ("primaryKey", "foreignKeys", "rules") if k in spec}}
        entry = {"name": name, "path": f"{name}.csv", "profile": "tabular-data-resource", "schema": schema}
        if "asOfField" in spec:
            entry["asOfField"] = spec["asOfField"]
        descriptor["resources"].append(entry)
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return folder


SOURCES_SPEC = {
    "fields": [{"name": "source_id", "type": "string", "constraints": {"required": True}},
               {"name": "published", "type": "date"}],
    "primaryKey": ["source_id"],
    "rows": "source_id,published\npaper,2024-06-01\nlater,2025-01-01\n",
}

RESULTS_FIELDS = [
    {"name": "result_id", "type": "string", "constraints": {"required": True}},
    {"name": "n", "type": "integer", "constraints": {"minimum": 0}},
    {"name": "responders", "type": "integer", "constraints": {"minimum": 0}},
    {"name": "reported", "type": "date"},
    {"name": "source_id", "type": "string"},
]


def results_spec(rows: str) -> dict:
    return {
        "fields": RESULTS_FIELDS, "rows": rows, "primaryKey": ["result_id"], "asOfField": "reported",
        "foreignKeys": [{"fields": "source_id", "reference": {"resource": "sources", "fields": "source_id"}}],
        "rules": [{"type": "lessOrEqual", "fields": ["responders", "n"]},
                  {"type": "notAfterSource", "field": "reported"}],
    }


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The whole book, HTML and PDF, built once per test session in a throw-away copy."""
    root = copy_project(tmp_path_factory.mktemp("book"))
    run_review(root, "build", check=True)
    return root


@pytest.fixture(scope="session")
def small_built(tmp_path_factory) -> Path:
    """The small book, HTML and PDF, built once per test session: tests that break or edit a
    published project start from a copy of it (:func:`copy_built`) instead of building their own."""
    root = copy_project(tmp_path_factory.mktemp("small_built"), SMALL_BOOK)
    run_review(root, "build", check=True)
    return root


def copy_built(source: Path, target: Path) -> Path:
    """A copy of a built project: sources, notebook cache, build state and published site (the
    state's fingerprints are over relative names, so the copy's next build starts from what
    ``source``'s last build left; Sphinx's own cache is tied to its folder and starts afresh)."""
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.fixture
def small_package(tmp_path: Path) -> Path:
    return write_package(tmp_path / "data", {
        "sources": SOURCES_SPEC,
        "results": results_spec("result_id,n,responders,reported,source_id\n"
                                "r1,100,80,2023-01-15,paper\nr2,50,10,2024-05-01,paper\nr3,20,5,2024-12-01,later\n"),
    })
