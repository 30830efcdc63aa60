"""End to end: `review build` on a throw-away copy of the project.

Expected values are computed here from the CSVs with the standard library, independently of
review_utils, so the test checks the book against the data rather than against itself.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from review_utils.core.paths import web_modules
from conftest import (
    REPO,
    SMALL_BOOK,
    copy_built,
    copy_project,
    edit_csv,
    first_row,
    run_review,
    set_cell,
    tree_digest,
)

pytestmark = pytest.mark.slow


def read_rows(root: Path, name: str) -> list[dict[str, str]]:
    with open(root / "data" / f"{name}.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def citable(row: dict[str, str], published: dict[str, str], as_of: str) -> bool:
    """An edition can cite the row: its source, or one of its corroborating sources, was published
    by the edition date (an undated source always counts)."""
    ids = [row["source_id"]] + [s.strip() for s in row.get("corroborating_source_id", "").split(";") if s.strip()]
    return any(published.get(s, "") <= as_of for s in ids)


def expected_car_t(root: Path, as_of: str) -> list[dict[str, str]]:
    published = {r["source_id"]: r["published"] for r in read_rows(root, "sources")}
    modality = {r["product_id"]: r["modality"] for r in read_rows(root, "products") if citable(r, published, as_of)}
    return [r for r in read_rows(root, "approvals") if modality.get(r["product_id"]) == "CAR-T"
            and r["approval_date"] <= as_of and citable(r, published, as_of)]


def page_text(root: Path, page: str) -> str:
    raw = (root / "_build" / "html" / page).read_text(encoding="utf-8")
    main = raw[raw.index("<main"):raw.index("</main>")]
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))
    return re.sub(r" ([,.;:)])", r"\1", text)


def statuses(stderr: str) -> dict[str, str]:
    """Notebook -> last status from the progress lines ('  ✓ done   1.0 s  book/x.ipynb')."""
    found = {}
    for match in re.finditer(r"^\s+\S\s+(running|cached|done|failed)\s.*?(book/\S+\.ipynb)", stderr, re.M):
        found[match.group(2)] = match.group(1)
    return found


def default_as_of(root: Path) -> str:
    import yaml

    return str(yaml.safe_load((root / "params.yml").read_text())["as_of"]["default"])


def test_chapter_table_figure_and_glued_numbers(built):
    as_of = default_as_of(built)
    rows = expected_car_t(built, as_of)
    text = page_text(built, "book/approvals.html")
    products = {r["product_id"] for r in rows}
    # glued numbers, as the prose states them
    assert f"it had approved {len(products)} CAR-T products for {len(rows)} indications" in text
    assert f"By the edition date of this book, {as_of}," in text
    # the table: caption and one body row per approval, in the HTML
    raw = (built / "_build/html/book/approvals.html").read_text(encoding="utf-8")
    table = raw[raw.index('id="tbl-cart-approvals"'):]
    table = table[:table.index("</table>")]
    assert "CAR-T products approved in China, by indication" in html.unescape(table)
    assert table.count("<tr") == len(rows) + 1
    for row in rows:
        assert html.escape(row["indication"], quote=False) in table
    # the figure: an SVG file with content, referenced with alt text
    img = re.search(r'<img alt="([^"]+)" src="\.\./(_images/fig-cart-timeline\.svg)"', raw)
    assert img and "CAR-T" in img.group(1) and "\\" not in img.group(1)
    svg = (built / "_build/html" / img.group(2)).read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and len(svg) > 5000
    # the figure's data download holds exactly the plotted rows
    download = next((built / "_build/html/_downloads").rglob("fig-cart-timeline.csv"))
    with open(download, encoding="utf-8") as handle:
        assert sorted(r["approval_id"] for r in csv.DictReader(handle)) == sorted(r["approval_id"] for r in rows)
    # and its data bundle beside it: the same CSV bytes, a README and the data dictionary
    import zipfile

    bundle = next((built / "_build/html/_downloads").rglob("fig-cart-timeline.zip"))
    with zipfile.ZipFile(bundle) as archive:
        assert archive.namelist() == ["fig-cart-timeline.csv", "datapackage.json", "README.md"]
        assert archive.read("fig-cart-timeline.csv") == download.read_bytes()
        assert f"edition of {as_of}" in archive.read("README.md").decode("utf-8")
    assert "Data bundle with sources and dictionary (ZIP)" in text
    # readers never see papermill's parameter cells
    assert "as_of = " not in text and "injected" not in raw


def test_landing_page_and_bibliography(built):
    assert "This edition describes the record as of " + default_as_of(built) in page_text(built, "book/index.html")
    refs = page_text(built, "book/references.html")
    assert "CAR-T cell therapy in China: innovations, challenges, and strategic pathways" in refs


def test_data_appendix_describes_every_table_and_field(built):
    descriptor = json.loads((built / "data/datapackage.json").read_text(encoding="utf-8"))
    fields = sum(len(r["schema"]["fields"]) for r in descriptor["resources"])
    text = page_text(built, "book/data_appendix.html")
    assert f"the package holds {len(descriptor['resources'])} tables" in text
    assert f"described by {fields} fields" in text
    raw = (built / "_build/html/book/data_appendix.html").read_text(encoding="utf-8")
    dictionary = raw[raw.index('id="tbl-data-dictionary"'):].split("</table>")[0]
    assert dictionary.count("<tr") == fields + 1
    assert "Table data (CSV)" in text and "\\(" not in text


def test_pdf_has_chapters_figures_glued_numbers_and_chinese(built):
    import subprocess

    pdf = built / "_build/pdf/cart-china-review.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    rows = expected_car_t(built, default_as_of(built))
    assert f"approved {len({r['product_id'] for r in rows})} CAR-T products for {len(rows)} indications" in flat
    assert "CAR-T PRODUCTS APPROVED IN CHINA" in flat and "THE DATA BEHIND THE BOOK" in flat
    brands = {r["brand_zh"] for r in read_rows(built, "products") if r["brand_zh"]}
    assert any(brand in text for brand in brands)
    # one "Fig. N.M" caption per figure in the HTML site
    html_figures = sum(p.read_text(encoding="utf-8").count('<figure class="align-default" id="fig-')
                       for p in (built / "_build/html/book").glob("*.html"))
    assert html_figures >= 1 and len(re.findall(r"Fig\. \d+\.\d+:", flat)) == html_figures
    assert "as_of = " not in text and default_as_of(built) in text
    # the site's features stay on the site: no bundle link, no chart specification in the PDF
    html_text = (built / "_build/html/book/approvals.html").read_text(encoding="utf-8")
    assert re.search(r'href="[^"]*\.zip"', html_text) and "review-chart" in html_text
    assert "Data bundle" not in flat and "vega-lite" not in flat and "(CSV) ·" not in flat


def test_two_clean_builds_are_byte_identical(built, tmp_path):
    """Same inputs, same bytes: site, PDF, figures, downloads and executed notebooks."""
    other = copy_project(tmp_path / "book")
    run_review(other, "build", check=True)
    for part in ("_build/html", "_build/pdf", "_build/.review/cache"):
        ours = {p.relative_to(built / part): p.read_bytes() for p in (built / part).rglob("*") if p.is_file()}
        theirs = {p.relative_to(other / part): p.read_bytes() for p in (other / part).rglob("*") if p.is_file()}
        assert ours.keys() == theirs.keys(), part
        if part == "_build/html":  # the downloads are compared too: CSVs and their zip bundles
            assert {k.suffix for k in ours if k.parts[0] == "_downloads"} >= {".csv", ".zip"}
        assert [str(k) for k in ours if ours[k] != theirs[k]] == [], part


@pytest.mark.parametrize("as_of", ["2021-12-31", "2023-12-31"])
def test_earlier_editions_change_tables_figures_numbers_and_cite_only_their_past(built, tmp_path, as_of):
    root = copy_project(tmp_path / "book")  # the whole book: every chapter must handle early editions
    result = run_review(root, "build", "--no-pdf", "-p", f"as_of={as_of}", check=True)
    pages = {p.stem for p in (root / "_build/html/book").glob("*.html")}
    assert pages == {p.stem for p in (built / "_build/html/book").glob("*.html")}
    rows = expected_car_t(root, as_of)
    assert 0 < len(rows) < len(expected_car_t(root, default_as_of(root)))
    text = page_text(root, "book/approvals.html")
    assert f"it had approved {len({r['product_id'] for r in rows})} CAR-T products for {len(rows)} indications" in text
    raw = (root / "_build/html/book/approvals.html").read_text(encoding="utf-8")
    assert raw[raw.index('id="tbl-cart-approvals"'):].split("</table>")[0].count("<tr") == len(rows) + 1
    old_svg = (built / "_build/html/_images/fig-cart-timeline.svg").read_bytes()
    assert (root / "_build/html/_images/fig-cart-timeline.svg").read_bytes() != old_svg
    # the bibliography holds only sources published by the edition date, and every page built
    published = {r["source_id"]: r["published"] for r in read_rows(root, "sources")}
    bib = (root / "_build/.review/stage/_generated/references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    # computed tables and figures cite only in-time sources (a late one would stop the build);
    # hand-written prose that still cites a later document is listed as a warning, page by page
    in_prose = set(re.findall(r"^  - book/\S+ cites '([^']+)', published", result.stderr, re.M))
    assert keys and [k for k in keys if published[k] > as_of and k not in in_prose] == []
    later = [s for s, when in published.items() if when and when > as_of]
    assert later and set(later) - set(keys)
    # the what-changed page compares with one year earlier, computed from the data
    changes = page_text(root, "book/changes.html")
    year_before = f"{int(as_of[:4]) - 1}{as_of[4:]}"
    assert f"as they stood on {year_before}" in changes
    assert f"Between {year_before} and {as_of}" in changes or f"Nothing in the data changed between {year_before}" in changes


def test_a_computed_citation_of_a_later_source_stops_the_build_and_prose_is_listed(tmp_path):
    root = copy_project(tmp_path / "book", SMALL_BOOK)
    methods = root / "book/methods.md"
    methods.write_text(methods.read_text(encoding="utf-8") + "\nAs the review says {cite:p}`review2025`.\n", encoding="utf-8")
    prose_only = run_review(root, "build", "--no-pdf", "-p", "as_of=2021-12-31", check=True)
    assert "book/methods.md cites 'review2025', published 2025-08-01" in prose_only.stderr
    assert "review: warning: the 2021-12-31 edition's prose cites" in prose_only.stderr
    add_notebook(root, "latecite", "from IPython.display import Markdown, display\n"
                                   "from review_utils import chapter\nch = chapter.start('latecite', as_of=as_of)\n"
                                   "ch.glue('latecite_count', 1)\ndisplay(Markdown('Computed: {cite:p}`review2025`'))")
    before = tree_digest(root / "_build/html")
    computed = run_review(root, "build", "--no-pdf", "-p", "as_of=2021-12-31")
    assert computed.returncode != 0
    assert "the 2021-12-31 edition would cite sources published after its date" in computed.stderr
    assert "book/latecite.ipynb cites 'review2025', published 2025-08-01" in computed.stderr
    assert tree_digest(root / "_build/html") == before  # the previous site stays as it was


def add_notebook(root: Path, name: str, code: str) -> None:
    """A probe chapter that reads only what ``code`` loads, appended to the table of contents."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}\n\nCount: {{glue:text}}`{name}_count`"),
                nbformat.v4.new_code_cell("as_of = None"), nbformat.v4.new_code_cell(code)]
    nb.cells[1].metadata["tags"] = ["parameters"]
    nbformat.write(nb, str(root / "book" / f"{name}.ipynb"))
    toc = (root / "_toc.yml").read_text()
    (root / "_toc.yml").write_text(toc + f"      - file: book/{name}\n")


def recorded_reads(root: Path, modules: bool = False) -> dict[str, set[str]]:
    """What each notebook read (data resources and files), or with ``modules`` the project
    modules its kernel imported."""
    state = json.loads((root / "_build/.review/state.json").read_text())
    return {nb: {name for name in record["reads"] if name.startswith("module:") == modules}
            for nb, record in state["notebooks"].items()}


def test_incremental_rebuilds_run_only_what_changed(tmp_path):
    root = copy_project(tmp_path / "book", SMALL_BOOK)
    # the probe reads exactly one table, so its recorded reads are known independently
    add_notebook(root, "sourcecount", 'from review_utils import chapter\nch = chapter.start("sourcecount", as_of=as_of)\n'
                                      'ch.glue("sourcecount_count", len(ch.load("sources")))')
    first = run_review(root, "build", "--no-pdf", check=True)
    assert set(statuses(first.stderr).values()) == {"done"}
    reads = recorded_reads(root)
    assert reads["book/sourcecount.ipynb"] == {"sources"}
    assert {"products", "approvals"} <= reads["book/approvals.ipynb"]

    site_before = tree_digest(root / "_build/html")
    again = run_review(root, "build", "--no-pdf", check=True)
    assert set(statuses(again.stderr).values()) == {"cached"}
    assert "up to date: _build/html" in again.stderr and "compiling" not in again.stderr
    assert tree_digest(root / "_build/html") == site_before
    # and the build knows it before paying for Sphinx's imports (a regression once cost 1.4 s)
    from review_utils.core.params import resolve
    from review_utils.core.paths import Layout
    from review_utils.engine.build import Builder, Options

    layout = Layout(root)
    builder = Builder(layout, Options(overrides={}, pdf=False))
    assert builder.site_is_current(resolve(layout.params_file))
    assert not builder.site_is_current(resolve(layout.params_file, {"as_of": "2022-12-31"}))

    for table, edit in (("products", ("first CAR-T approved in China", "first CAR-T approved in China (edited)")),
                        ("sources", None)):
        path = root / "data" / f"{table}.csv"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(*edit) if edit else text + "extra_src,web_page,Extra page,,,,,,,,en,,secondary,,\n",
                        encoding="utf-8")
        edited = run_review(root, "build", "--no-pdf", check=True)
        ran = {nb for nb, status in statuses(edited.stderr).items() if status == "done"}
        assert ran == {nb for nb, names in reads.items() if table in names}, table  # exactly the readers
        assert f"data/{table}.csv changed" in edited.stderr
    assert "book/sourcecount.ipynb" not in {nb for nb, names in reads.items() if "products" in names}
    assert f"Count: {len(read_rows(root, 'sources'))}" in page_text(root, "book/sourcecount.html")


def test_failing_notebook_names_cell_and_line_and_publishes_nothing(small_built, tmp_path):
    root = copy_built(small_built, tmp_path / "book")  # a published site and PDF, and a cached approvals
    before = tree_digest(root / "_build/html"), tree_digest(root / "_build/pdf")
    notebook = root / "book/approvals.ipynb"
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    target = nb["cells"][code[1]]
    target["source"] = "".join(target["source"]) + "\nmissing = car_t['no_such_column']\n"
    notebook.write_text(json.dumps(nb), encoding="utf-8")

    failed = run_review(root, "build")
    assert failed.returncode == 1
    assert f"book/approvals.ipynb failed at cell {code[1] + 1} (code cell 2)" in failed.stderr
    assert re.search(r"---> \d+ missing = car_t\['no_such_column'\]", failed.stderr)
    assert "KeyError: 'no_such_column'" in failed.stderr
    assert "previous site in _build/html is unchanged" in failed.stderr
    assert (tree_digest(root / "_build/html"), tree_digest(root / "_build/pdf")) == before
    state = json.loads((root / "_build/.review/state.json").read_text())
    assert "book/approvals.ipynb" not in state["notebooks"]


def test_bad_data_stops_the_build_before_any_notebook_runs(tmp_path):
    root = copy_project(tmp_path / "book", SMALL_BOOK)
    approvals = root / "data/approvals.csv"
    lines = approvals.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",axi-cel,", ",no-such-product,", 1)
    approvals.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_review(root, "build", "--no-pdf")
    assert result.returncode == 1
    assert ("data/approvals.csv row 2, column product_id: 'no-such-product' is not a product_id in "
            "data/products.csv") in result.stderr
    # notebooks may have started speculatively, but none is accepted and nothing is published
    assert "done" not in result.stderr and not (root / "_build/html").exists()
    state = root / "_build/.review/state.json"
    assert not state.exists() or json.loads(state.read_text())["notebooks"] == {}


def test_rebuild_after_edits_equals_a_clean_build(tmp_path):
    """Sphinx keeps its parsed pages between builds and parses only what changed; every page is
    still written, so an edited book must come out exactly as a clean build of the same sources."""
    root = copy_project(tmp_path / "book", SMALL_BOOK)
    run_review(root, "build", check=True)
    n, row = first_row(root / "data/products.csv", lambda r: r["product_id"] == "axi-cel")
    edit_csv(root / "data/products.csv", set_cell(n, "company", row["company"] + " (edited)"))
    methods = root / "book/methods.md"  # a title every page's navigation shows
    methods.write_text(methods.read_text(encoding="utf-8").replace("# Methods:", "# Methods (edited):", 1),
                       encoding="utf-8")
    run_review(root, "build", check=True)
    assert "(edited)" in page_text(root, "book/approvals.html")

    clean = tmp_path / "clean"
    clean.mkdir()
    for name in ("_config.yml", "_toc.yml", "params.yml", "requirements.lock", "book", "data"):
        (shutil.copytree if (root / name).is_dir() else shutil.copy2)(root / name, clean / name)
    run_review(clean, "build", check=True)
    for part in ("_build/html", "_build/pdf"):
        ours = {p.relative_to(root / part): p.read_bytes() for p in (root / part).rglob("*") if p.is_file()}
        theirs = {p.relative_to(clean / part): p.read_bytes() for p in (clean / part).rglob("*") if p.is_file()}
        assert ours.keys() == theirs.keys(), part
        if part == "_build/html":  # the downloads are compared too: CSVs and their zip bundles
            assert {k.suffix for k in ours if k.parts[0] == "_downloads"} >= {".csv", ".zip"}
        assert [str(k) for k in ours if ours[k] != theirs[k]] == [], part


def run_with_code(root: Path, *args: str) -> subprocess.CompletedProcess:
    """``review`` with the copy's own ``src/`` first on the path (kernels inherit it), so that
    editing the copy's code is what the build sees."""
    env = {k: v for k, v in os.environ.items() if k not in ("REVIEW_ROOT", "CI")}
    env["PYTHONPATH"] = str(root / "src")
    # the copy's code has no web/ beside it: the site's JavaScript comes from the repository's
    env["REVIEW_WEB_MODULES"] = str(web_modules())
    result = subprocess.run([sys.executable, "-m", "review_utils.cli", "--root", str(root), *args],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"review {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def add_comment(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# an edit that changes no behaviour\n", encoding="utf-8")


def test_a_notebook_reruns_when_code_it_imported_changed_not_when_any_code_changed(tmp_path):
    root = copy_project(tmp_path / "book", [*SMALL_BOOK, "book/efficacy"])
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    package = root / "src" / "review_utils"
    run_with_code(root, "build", "--no-pdf")
    reads = recorded_reads(root, modules=True)
    # what each kernel imported is recorded: the facade for all, the efficacy module for one
    assert all("module:review_utils.chapter" in names for names in reads.values())
    importers = {nb for nb, names in reads.items() if "module:review_utils.chapters.efficacy" in names}
    assert importers == {"book/efficacy.ipynb"}
    assert not any(name.startswith("module:review_utils.engine") for names in reads.values() for name in names)

    # code no chapter imports: the LaTeX table extension, the warm-kernel code
    add_comment(package / "engine" / "latex_tables.py")
    add_comment(package / "engine" / "kernels.py")
    engine_edit = run_with_code(root, "build", "--no-pdf")
    assert set(statuses(engine_edit.stderr).values()) == {"cached"}

    # a chapter module: only the notebooks that imported it run again
    add_comment(package / "chapters" / "efficacy.py")
    chapter_edit = run_with_code(root, "build", "--no-pdf")
    ran = {nb for nb, status in statuses(chapter_edit.stderr).items() if status == "done"}
    assert ran == importers
    assert "module review_utils.chapters.efficacy changed" in chapter_edit.stderr

    # and the edited rebuild is what a clean build of the same sources gives
    clean = tmp_path / "clean"
    clean.mkdir()
    for name in ("_config.yml", "_toc.yml", "params.yml", "requirements.lock", "book", "data", "src"):
        (shutil.copytree if (root / name).is_dir() else shutil.copy2)(root / name, clean / name)
    run_with_code(clean, "build", "--no-pdf")
    assert tree_digest(root / "_build/html") == tree_digest(clean / "_build/html")
