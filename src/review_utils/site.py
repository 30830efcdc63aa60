"""Stage the book (sources + executed notebooks) and compile it with Jupyter Book.

The staging copy lives in ``_build/.review/stage``; files are rewritten only when their
content changed. The site is compiled into a temporary folder and swapped into
``_build/html`` only after Sphinx succeeded, so a failed build never replaces a good one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

from .errors import ReviewError
from .paths import Layout

STAGED_ROOT_FILES = ("_config.yml", "_toc.yml")
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


def compile_html(layout: Layout, stage: Path, *, strict: bool, quiet: bool) -> None:
    """Run Sphinx (through Jupyter Book) on ``stage``; swap the result into ``_build/html``."""
    from jupyter_book.sphinx import build_sphinx

    work = layout.state / f"out-{uuid.uuid4().hex[:8]}"
    try:
        result = build_sphinx(
            str(stage), str(work / "html"), doctreedir=str(work / "doctrees"),
            path_config=str(stage / "_config.yml"), use_external_toc=True, noconfig=True, freshenv=True,
            warningiserror=strict, keep_going=strict, quiet=True,
            confoverrides=sphinx_overrides(stage, strict), builder="html",
        )
        if result != 0:
            detail = f" ({result})" if isinstance(result, Exception) else ""
            raise ReviewError(
                f"Sphinx could not build the site{detail}; see its messages above "
                f"({'warnings count as errors; --no-strict relaxes that' if strict else 'errors'}). "
                "The previous site in _build/html is unchanged."
            )
        swap_in(work / "html", layout.html)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sphinx_overrides(stage: Path, strict: bool) -> dict:
    """What the ``jupyter-book build`` command line adds to the configuration."""
    overrides = {"external_toc_path": (stage / "_toc.yml").as_posix(), "latex_individualpages": False}
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
