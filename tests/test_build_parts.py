"""Pieces of the build: fingerprints, notebook post-processing, staging, swapping, locking."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pandas as pd
import pytest

from review_utils.chapter import format_value
from review_utils.chapters import approvals
from review_utils.core.errors import ReviewError
from review_utils.data.bibliography import to_bibtex
from review_utils.data.package import READS_MIME
from review_utils.engine import execute, site
from review_utils.engine.lock import build_lock
from review_utils.engine.state import BuildState, NotebookRecord, notebook_source_digest

# As IPython 9 prints it: a chained library frame first, then the notebook cell's frame.
TRACEBACK = [
    "\x1b[36mFile \x1b[39m/x/pandas/base.py:3816, in get_loc\n\x1b[32m-> \x1b[39m3816     return engine()\n",
    "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
    "\x1b[0;31mKeyError\x1b[0m                                  Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[3], line 2\x1b[0m\n\x1b[1;32m      1\x1b[0m x \x1b[38;5;241m=\x1b[39m \x1b[38;5;241m1\x1b[39m\n"
    "\x1b[0;32m---> 2\x1b[0m \x1b[43mload\x1b[49m\x1b[43m(\x1b[49m\x1b[43m)\x1b[49m",
    "File \x1b[0;32m/x/lib.py:9\x1b[0m, in \x1b[0;36mload\x1b[0;34m()\x1b[0m\n\x1b[0;32m-> 9\x1b[0m \x1b[38;5;28;01mraise\x1b[39;00m KeyError('a')",
    "\x1b[0;31mKeyError\x1b[0m: 'a'",
]


def test_key_line_is_the_arrow_inside_the_notebook_cell():
    assert execute.key_line(TRACEBACK) == "---> 2 load()"
    assert execute.key_line(["no arrows here"]) is None


def _notebook(cells):
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}, "papermill": {"duration": 1.2}}}


def test_harvest_reads_collects_and_removes_the_private_outputs():
    nb = _notebook([{"cell_type": "code", "source": "x", "metadata": {}, "outputs": [
        {"output_type": "display_data", "data": {READS_MIME: {"resource": "products", "fingerprint": "abc"}}},
        {"output_type": "stream", "text": "kept"},
    ]}])
    assert execute.harvest_reads(nb) == {"products": "abc"}
    assert nb["cells"][0]["outputs"] == [{"output_type": "stream", "text": "kept"}]


def test_prepare_for_publishing_hides_parameters_and_drops_timings():
    nb = _notebook([
        {"cell_type": "code", "source": "as_of = None", "metadata": {"tags": ["parameters"]}},
        {"cell_type": "code", "source": "as_of = '2024'", "metadata": {"tags": ["injected-parameters"],
                                                                      "papermill": {"duration": 0.1},
                                                                      "execution": {"iopub.status.idle": "t"}}},
        {"cell_type": "markdown", "source": "text", "metadata": {}},
    ])
    execute.prepare_for_publishing(nb)
    assert [c["metadata"].get("tags", []) for c in nb["cells"]] == [
        ["parameters", "remove-cell"], ["injected-parameters", "remove-cell"], []]
    assert "papermill" not in nb["metadata"] and nb["cells"][1]["metadata"] == {"tags": ["injected-parameters", "remove-cell"]}
    assert nb["cells"][1]["id"] == "injected-parameters"


def test_notebook_digest_ignores_outputs_but_not_code(tmp_path):
    path = tmp_path / "n.ipynb"
    cell = {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [], "execution_count": None}
    path.write_text(json.dumps(_notebook([cell])))
    clean = notebook_source_digest(path)
    path.write_text(json.dumps(_notebook([dict(cell, outputs=[{"output_type": "stream", "text": "1"}], execution_count=4)])))
    assert notebook_source_digest(path) == clean
    path.write_text(json.dumps(_notebook([dict(cell, source="x = 2")])))
    assert notebook_source_digest(path) != clean


def test_state_round_trips_and_survives_a_corrupt_file(tmp_path):
    path = tmp_path / "state.json"
    state = BuildState(validated="v", notebooks={"book/a.ipynb": NotebookRecord("k", {"products": "f"}, 1.5)},
                       site={"html": "d"})
    state.save(path)
    assert BuildState.load(path) == state
    path.write_text("{torn")
    assert BuildState.load(path) == BuildState()


def test_sync_stage_writes_changes_only_and_removes_stale_files(tmp_path):
    stage = tmp_path / "stage"
    site.sync_stage(stage, {"a.md": b"one", "sub/b.md": b"two"})
    before = (stage / "a.md").stat().st_mtime_ns
    time.sleep(0.01)
    site.sync_stage(stage, {"a.md": b"one", "c.md": b"three"})
    assert (stage / "a.md").stat().st_mtime_ns == before
    assert sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*")) == ["a.md", "c.md"]


def test_swap_in_replaces_and_an_interrupted_swap_is_restored(tmp_path):
    target, new = tmp_path / "html", tmp_path / "new"
    target.mkdir(); (target / "index.html").write_text("old")
    new.mkdir(); (new / "index.html").write_text("new")
    site.swap_in(new, target)
    assert (target / "index.html").read_text() == "new" and not new.exists()
    # simulate a crash between the two renames: only the renamed-away copy exists
    target.rename(tmp_path / ".html.old-1234abcd")
    site.restore_interrupted([target])
    assert (target / "index.html").read_text() == "new"


def _hold_lock(path, ready, release):
    with build_lock(path):
        ready.set()
        release.wait(10)


def test_a_second_build_is_refused_while_the_first_holds_the_lock(tmp_path):
    path = tmp_path / "build.lock"
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(path, ready, release))
    holder.start()
    try:
        assert ready.wait(20)
        with pytest.raises(ReviewError, match=f"another review build is running in this checkout \\(pid {holder.pid}\\)"):
            with build_lock(path):
                pass
    finally:
        release.set()
        holder.join(10)
    with build_lock(path):  # free again once the holder is gone
        pass


def test_unique_notebook_names_are_enforced(tmp_path):
    from review_utils.core.paths import Layout

    for folder in ("book", "book/sub"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "same.ipynb").write_text("{}")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/same\nchapters:\n- file: book/sub/same.ipynb\n")
    with pytest.raises(ReviewError, match="two notebooks share the name 'same'"):
        site.notebooks(Layout(tmp_path))


def test_summary_counts_products_and_indications():
    products = pd.DataFrame({"product_id": ["a", "b"], "brand_en": ["Alpha", None], "brand_zh": [None, "乙"],
                             "origin": ["domestic", "imported"], "modality": ["CAR-T", "CAR-T"],
                             "source_id": ["s", "s"], "locator": ["x", "x"], "note": [None, None]})
    rows = pd.DataFrame({"approval_id": ["A1", "A2", "A3"], "product_id": ["a", "a", "b"],
                         "approval_date": pd.to_datetime(["2022-01-01", "2020-05-01", "2023-03-01"]),
                         "date_precision": ["day", "month", "not_later_than"],
                         "approval_type": ["full", "conditional", "not_stated"], "source_id": ["s"] * 3})
    table = approvals.approved(products, rows)
    assert table["approval_id"].tolist() == ["A2", "A1", "A3"]
    assert table["product_label"].tolist() == ["a (Alpha)", "a (Alpha)", "b (乙)"]
    assert approvals.summary(table) == {
        "n_products": 2, "n_indications": 3, "n_domestic_products": 1, "n_imported_products": 1,
        "n_conditional": 1, "n_full": 1, "n_type_not_stated": 1, "n_date_bounds": 1,
        "first_approval": "2020-05", "latest_approval": "by 2023-03-01"}
    assert approvals.summary(table.iloc[0:0])["first_approval"] == "none"


@pytest.mark.parametrize("text", ["33,000,000", "1,234 CNY", "2024-01-01", "(1, 2)", "it's \"quoted\"", "[x]", "41.7%"])
def test_glued_text_survives_myst_nb_exactly(text):
    from IPython.lib.pretty import pretty
    from myst_nb.core.variables import format_plain_text

    from review_utils.chapter import PlainText

    assert format_plain_text(pretty(PlainText(text)), "") == text
    assert format_plain_text(pretty(PlainText(text)), "s") == text


def test_glued_values_are_written_for_readers():
    assert [format_value(v) for v in (1234, 41.666, 3.0, True, pd.Timestamp("2024-02-03"))] == [
        "1,234", "41.7", "3", "yes", "2024-02-03"]
    assert format_value(0.41666, "{:.1%}") == "41.7%"


def test_author_convention_becomes_bibtex_names():
    from review_utils.data.bibliography import authors

    names = [str(p) for p in authors("Neelapu SS et al.; Liu, Roxanne; {JW Therapeutics}")]
    assert names == ["Neelapu, SS", "others", "Liu, Roxanne", "{JW Therapeutics}"]


def test_bibliography_uses_corporate_authors_and_keeps_chinese():
    sources = pd.DataFrame({
        "source_id": ["b", "a"], "kind": ["news", "journal_article"], "title": ["中文标题", "A Paper"],
        "authors": [None, "Li, Wei; Smith, Ann"], "container": ["Outlet", "Journal"], "publisher": ["Agency", None],
        "published": pd.to_datetime(["2025-03-01", "2024-01-01"]), "date_precision": ["month", "year"],
        "doi": [None, "10.1/xyz"], "url": ["https://e.x/b", None], "language": ["zh", "en"]})
    bib = to_bibtex(sources)
    assert bib.index("@article{a") < bib.index("@misc{b")
    assert "{Agency}" in bib and "中文标题" in bib and "Li, Wei and Smith, Ann" in bib
    no_issuer = to_bibtex(sources.assign(authors=None, publisher=None, container=[None, "Outlet"]))
    assert "{Outlet}" in no_issuer and "{Anonymous}" in no_issuer
    assert "month" in bib.split("@misc{b")[1] and "month" not in bib.split("@misc{b")[0]


def test_link_check_finds_missing_files_and_anchors_and_lists_external(tmp_path):
    from review_utils.engine.linkcheck import check_site

    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="sub/page.html#sec">ok</a><a href="sub/page.html#nope">bad anchor</a>'
        '<a href="missing.html">gone</a><img src="_static/x.png"><a href="https://e.x/a">ext</a><a href="#top">self</a>'
        '<span id="top"></span><a href="mailto:a@b.c">mail</a>')
    (tmp_path / "sub/page.html").write_text('<h1 id="sec">S</h1><a href="../index.html">up</a>')
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static/macros.html").write_text("<a href=\"{{ pathto('x') }}\">template, not a page</a>")
    report = check_site(tmp_path)
    assert report.broken == ["index.html: sub/page.html#nope (no element with id 'nope')",
                             "index.html: missing.html (no such file)",
                             "index.html: _static/x.png (no such file)"]
    assert report.external == {"https://e.x/a": {"index.html"}}


def test_kernel_parent_is_used_only_when_it_pays_for_itself():
    from review_utils.engine import kernels

    assert not kernels.worth_it(3, 2)  # a rebuild after one edit: ordinary kernels
    assert kernels.worth_it(12, 2)     # a cold build: every worker has several notebooks
    assert kernels.worth_it(3, 1)


@pytest.mark.slow
def test_a_warm_kernel_gives_the_same_notebook_as_a_fresh_one(tmp_path, monkeypatch):
    """Forked from the kernel parent or started the ordinary way, a chapter executes to the
    same notebook, byte for byte (after the build's own clean-up); and a second warm kernel
    carries nothing over from the first."""
    from pathlib import Path

    from conftest import copy_project

    root = copy_project(tmp_path / "book", ["book/approvals"])
    monkeypatch.setenv("REVIEW_ROOT", str(root))
    for key, value in {"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "1767225600", "MPLBACKEND": "Agg"}.items():
        monkeypatch.setenv(key, value)
    outputs = {}
    # in one child process, as a build worker runs them (the kernel log takes over its stderr);
    # both warm kernels are forked from that worker's one kernel parent
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        for name, warm in (("fresh", False), ("warm", True), ("warm_again", True)):
            work = tmp_path / name
            work.mkdir()
            job = {"source": str(root / "book/approvals.ipynb"), "output": str(work / "approvals.ipynb"),
                   "cwd": str(work), "parameters": {"as_of": "2026-11-23"}, "warm": warm}
            result = pool.apply(execute.run, (job,))
            assert result["ok"], result
            notebook = json.loads(Path(job["output"]).read_text(encoding="utf-8"))
            execute.harvest_reads(notebook)
            execute.prepare_for_publishing(notebook)
            files = {p.relative_to(work).as_posix(): p.read_bytes() for p in (work / "_generated").rglob("*")
                     if p.is_file()}
            outputs[name] = (json.dumps(notebook, sort_keys=True), files)
    assert outputs["fresh"][1]  # the chapter wrote its figures and downloads
    assert outputs["warm"] == outputs["fresh"]
    assert outputs["warm_again"] == outputs["fresh"]


def test_a_recorded_file_outside_data_makes_its_reader_stale_when_it_changes(tmp_path):
    from conftest import SMALL_BOOK, copy_project

    from review_utils.core.paths import Layout
    from review_utils.data.package import file_fingerprint
    from review_utils.engine.build import Builder, Options

    root = copy_project(tmp_path / "book", SMALL_BOOK)
    results = root / "bench/results/latest.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text('{"a": 1}', encoding="utf-8")
    builder = Builder(Layout(root), Options(overrides={}))
    stem = "benchmark"
    (builder.cache / stem).mkdir(parents=True)
    (builder.cache / stem / f"{stem}.ipynb").write_text("{}", encoding="utf-8")
    builder.state.notebooks["book/benchmark.ipynb"] = NotebookRecord(
        "key", {"file:bench/results/latest.json": file_fingerprint(results)}, 1.0)
    assert builder._staleness("book/benchmark.ipynb", stem, "key") == (False, "up to date")
    results.write_text('{"a": 2}', encoding="utf-8")
    assert builder._staleness("book/benchmark.ipynb", stem, "key") == (True, "bench/results/latest.json changed")
    results.unlink()
    assert builder._staleness("book/benchmark.ipynb", stem, "key") == (True, "bench/results/latest.json changed")


def test_the_package_source_is_the_whole_package(tmp_path):
    """The site and the validation gate are keyed on every file of the package (a Sphinx
    extension or a validation rule changes them), so package_src must be its top folder."""
    import review_utils
    from review_utils.core.paths import Layout

    top = Layout(tmp_path).package_src
    assert top == Path(review_utils.__file__).resolve().parent
    assert (top / "engine" / "latex_tables.py").is_file() and (top / "data" / "validate.py").is_file()


def test_the_code_digest_covers_the_sites_scripts_and_styles_not_only_python(tmp_path):
    """The site is compiled again when a script, style or template shipped with the package
    changes (it once said 'up to date' after an edit of a CSS file)."""
    from review_utils.engine.state import code_digest

    package = tmp_path / "review_utils"
    (package / "engine/site_assets/static").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    style = package / "engine/site_assets/static/review.css"
    style.write_text("a { color: red; }\n")
    lock = tmp_path / "package-lock.json"
    lock.write_text("{}")
    before = code_digest(package, [lock])
    style.write_text("a { color: blue; }\n")
    assert code_digest(package, [lock]) != before
    style.write_text("a { color: red; }\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__/x.pyc").write_bytes(b"\0")  # compiled files say nothing new
    assert code_digest(package, [lock]) == before
    lock.write_text('{"lockfileVersion": 3}')
    assert code_digest(package, [lock]) != before
