"""Stage the book (sources + executed notebooks) and compile it with Jupyter Book.

The staging copy lives in ``_build/.review/stage``; files are rewritten only when their
content changed. The site is compiled into a temporary folder and swapped into
``_build/html`` only after Sphinx succeeded, so a failed build never replaces a good one.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from review_utils.core.errors import ReviewError
from review_utils.core.paths import Layout

STAGED_ROOT_FILES = ("_config.yml", "_toc.yml")
# The site's own scripts, styles and template overrides (engine/web_assets.py) are staged beside
# the book, so that Sphinx's configuration names them by a path relative to the book: the same
# sources then give the same site wherever the code is installed.
SITE_ASSETS = Path(__file__).resolve().parent / "site_assets"
STAGED_SITE_ASSETS = "_review_site_assets"
_SKIP_DIRS = {"_generated", ".ipynb_checkpoints", "__pycache__"}


def book_sources(layout: Layout) -> list[Path]:
    """Files of ``book/`` that are copied as they are (pages, images, static assets)."""
    out = []
    for path in sorted(layout.book.rglob("*")):
        rel = path.relative_to(layout.book)
        if path.is_file() and path.suffix != ".ipynb" and not (_SKIP_DIRS & set(rel.parts[:-1])):
            out.append(path)
    return out


def toc_files(layout: Layout) -> list[str]:
    """Every ``file`` entry of ``_toc.yml`` (root first, then in reading order), without suffix."""
    import yaml

    toc = yaml.safe_load((layout.root / "_toc.yml").read_text(encoding="utf-8")) or {}
    found: list[str] = [toc["root"]] if "root" in toc else []

    def walk(node) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(str(node["file"]))
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [name[: -len(Path(name).suffix)] if Path(name).suffix in (".md", ".ipynb") else name for name in found]


def notebooks(layout: Layout) -> list[Path]:
    """The notebooks the table of contents includes (others would never be published)."""
    found = [layout.root / f"{name}.ipynb" for name in toc_files(layout) if (layout.root / f"{name}.ipynb").is_file()]
    stems: dict[str, Path] = {}
    for path in found:
        if path.stem in stems:
            raise ReviewError(f"two notebooks share the name {path.stem!r} ({stems[path.stem]} and {path}); "
                              "notebook file names must be unique because their outputs are keyed by name")
        stems[path.stem] = path
    return found


def write_if_changed(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def sync_stage(stage: Path, files: dict[str, bytes]) -> None:
    """Make ``stage`` hold exactly ``files`` (relative path -> bytes)."""
    for rel, data in files.items():
        write_if_changed(stage / rel, data)
    if stage.is_dir():
        for path in sorted(stage.rglob("*"), reverse=True):
            rel = path.relative_to(stage).as_posix()
            if path.is_file() and rel not in files:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def collect_tree(base: Path, prefix: str) -> dict[str, bytes]:
    return {f"{prefix}/{p.relative_to(base).as_posix()}": p.read_bytes()
            for p in sorted(base.rglob("*")) if p.is_file()} if base.is_dir() else {}


def preload() -> None:
    """Import Sphinx and the book's extensions ahead of time: the build calls this while the
    notebooks execute in worker processes, so the imports cost no wall-clock time."""
    import importlib

    for module in ("jupyter_book.sphinx", "sphinx.application", "sphinx.builders.html", "sphinx.search",
                   "myst_nb.sphinx_ext", "sphinx_book_theme", "sphinxcontrib.bibtex", "sphinx_design",
                   "sphinx_togglebutton", "sphinx_copybutton", "sphinx_external_toc", "sphinx_multitoc_numbering",
                   "sphinx_jupyterbook_latex", "pybtex.database"):
        importlib.import_module(module)


PDF_NAME = "cart-china-review.pdf"


def compile_site(layout: Layout, stage: Path, *, strict: bool, pdf: bool, today: str) -> None:
    # ``today`` is the edition date (ISO): Sphinx shows it, and the PDF's dates are set from it.
    """Compile the staged book to HTML (and PDF) in a work folder; swap the results into
    ``_build/html`` (and ``_build/pdf``) only when every requested output succeeded."""
    work = layout.state / f"out-{uuid.uuid4().hex[:8]}"
    try:
        work.mkdir(parents=True)
        run_sphinx(stage, layout.state / "sphinx", "html", strict=strict, today=today, into=work / "html")
        if pdf:
            compile_pdf(layout, stage, strict=strict, today=today, into=work / "latex")
            # published with the site too, so that the landing page's link works when hosted
            shutil.copy2(work / "latex" / PDF_NAME, work / "html" / PDF_NAME)
        swap_in(work / "html", layout.html)
        if pdf:
            new_pdf = work / "pdf"
            new_pdf.mkdir()
            os.replace(work / "latex" / PDF_NAME, new_pdf / PDF_NAME)
            swap_in(new_pdf, layout.pdf_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compile_pdf(layout: Layout, stage: Path, *, strict: bool, today: str, into: Path) -> Path:
    """The PDF step alone: Sphinx's LaTeX writer and xelatex on a staged book, into ``into``
    (the benchmark times this); returns the PDF's path."""
    run_sphinx(stage, layout.state / "sphinx", "latex", strict=strict, today=today, into=into)
    run_latexmk(layout, into, today)
    return into / PDF_NAME


def run_sphinx(stage: Path, sphinx_dir: Path, builder: str, *, strict: bool, today: str, into: Path) -> None:
    """Run one Sphinx builder and move its output to ``into``.

    Sphinx keeps its environment (the parsed pages) in ``sphinx_dir`` between builds, so a
    rebuild parses again only the staged files that changed (the stage rewrites a file only
    when its content changed, and Sphinx compares modification times) or everything when the
    configuration changed. Every page is still *written* each time, into an empty output
    folder: numbered references, glued values from other pages, the navigation and the search
    index are then resolved against the current state of every page, exactly as in a clean
    build (a test compares the two). A failed or interrupted run forgets the environment, so
    warnings seen while parsing are raised again next time.
    """
    from jupyter_book.sphinx import build_sphinx

    from review_utils.engine import sphinx_speed

    sphinx_speed.install()  # same output, fewer repeated lookups (see the module)
    # sphinxcontrib-bibtex parses a citation's key list recursively, one level per key: a table
    # citing about a thousand sources (the benchmark's 100x data package) exceeds Python's
    # default limit. Nested generators also use the C stack: 20,000 keys were tested safe with
    # the default 8 MB stack and 25,000 crash, so the limit keeps a margin below that.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 15_000))
    outdir, doctrees = sphinx_dir / builder, sphinx_dir / f"doctrees-{builder}"
    shutil.rmtree(outdir, ignore_errors=True)
    ok = False
    try:
        result = build_sphinx(
            str(stage), str(outdir), doctreedir=str(doctrees),
            path_config=str(stage / "_config.yml"), use_external_toc=True, noconfig=True,
            freshenv=False, force_all=True,  # parse what changed, write every page
            warningiserror=strict, keep_going=strict, quiet=True,
            confoverrides=sphinx_overrides(stage, strict, today), builder=builder,
            # no parallel read: Jupyter Book adds sphinx_multitoc_numbering on its build path, which
            # does not declare itself parallel-safe, and Sphinx's warning fails a strict build
        )
        if result != 0:
            detail = f" ({result})" if isinstance(result, Exception) else ""
            raise ReviewError(
                f"Sphinx could not build the {builder} output{detail}; see its messages above "
                f"({'warnings count as errors; --no-strict relaxes that' if strict else 'errors'}). "
                "The previous site and PDF in _build are unchanged."
            )
        os.replace(outdir, into)
        ok = True
    finally:
        if not ok:
            shutil.rmtree(doctrees, ignore_errors=True)
            shutil.rmtree(outdir, ignore_errors=True)


def run_latexmk(layout: Layout, latex_dir: Path, today: str) -> None:
    """xelatex via latexmk; on failure keep the log and quote LaTeX's own error lines."""
    import datetime as dt
    import subprocess

    if shutil.which("latexmk") is None or shutil.which("xelatex") is None:
        raise ReviewError("the PDF needs latexmk and xelatex (Debian: texlive-xetex latexmk "
                          "texlive-fonts-recommended fonts-freefont-otf fonts-noto-cjk; `bash run.sh build` "
                          "installs them); or build without it: review build --no-pdf")
    tex = PDF_NAME.replace(".pdf", ".tex")
    # The PDF's creation date is the edition date, so the same inputs give the same bytes.
    epoch = int(dt.datetime.combine(dt.date.fromisoformat(today), dt.time(), dt.timezone.utc).timestamp())
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), FORCE_SOURCE_DATE="1")
    result = subprocess.run(["latexmk", "-xelatex", "-interaction=nonstopmode", "-halt-on-error",
                             "-file-line-error", tex], cwd=latex_dir, capture_output=True, text=True, env=env)
    if result.returncode != 0 or not (latex_dir / PDF_NAME).is_file():
        log = latex_dir / tex.replace(".tex", ".log")
        kept = layout.state / "failed" / "latex.log"
        kept.parent.mkdir(parents=True, exist_ok=True)
        errors = []
        if log.is_file():
            shutil.copy2(log, kept)
            errors = [line for line in log.read_text(errors="replace").splitlines()
                      if line.startswith("!") or ":" in line and line.split(":")[1].isdigit()][:8]
        raise ReviewError("LaTeX could not make the PDF:\n  " + "\n  ".join(errors or [result.stdout[-800:]])
                          + f"\nFull log: {kept.relative_to(layout.root)}. The previous site and PDF are unchanged.")


def sphinx_overrides(stage: Path, strict: bool, today: str) -> dict:
    """What the ``jupyter-book build`` command line adds to the configuration, plus the
    edition date as Sphinx's ``today`` (the PDF title page shows it, not the build date)."""
    overrides = {"external_toc_path": (stage / "_toc.yml").as_posix(), "latex_individualpages": False,
                 "today": today}
    if strict:
        overrides["nitpicky"] = True
    return overrides


def swap_in(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` with two renames; the old copy is removed last."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def restore_interrupted(targets: Iterable[Path]) -> None:
    """If a swap was interrupted between its two renames, put the old output back."""
    for target in targets:
        if not target.exists():
            olds = sorted(target.parent.glob(f".{target.name}.old-*"))
            if olds:
                os.replace(olds[-1], target)
        for leftover in target.parent.glob(f".{target.name}.old-*"):
            shutil.rmtree(leftover, ignore_errors=True)


_CITATION = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def _cited(text: str) -> list[str]:
    return [k.strip() for match in _CITATION.finditer(text) for k in match.group(1).split(",") if k.strip()]


def late_citations(files: dict[str, bytes], sources: Any, edition: Any) -> list[tuple[str, str, str, str]]:
    """(page, source id, publication date, where) for every citation on a staged page of a source
    published after the edition date, in order. ``where`` is "output" for what a notebook computed
    (tables, figures, glued text: it follows the edition's data, so a late source there is a
    defect) and "prose" for text an author wrote (markdown pages and markdown cells)."""
    import json

    import pandas as pd

    published = {s: when for s, when in zip(sources["source_id"], sources["published"]) if not pd.isna(when)}
    cutoff = pd.Timestamp(edition)
    found = set()

    def note(page: str, text: str, where: str) -> None:
        for key in _cited(text):
            when = published.get(key)
            if when is not None and when > cutoff:
                found.add((page, key, when.date().isoformat(), where))

    for name, data in files.items():
        if name.endswith(".md"):
            note(name, data.decode("utf-8", errors="replace"), "prose")
        elif name.endswith(".ipynb"):
            for cell in json.loads(data.decode("utf-8")).get("cells", []):
                source = cell.get("source", "")
                if cell.get("cell_type") == "markdown":
                    note(name, "".join(source) if isinstance(source, list) else source, "prose")
                for output in cell.get("outputs", []):
                    note(name, json.dumps(output.get("data", {}), ensure_ascii=False), "output")
    return sorted(found)
