"""The benchmark's scenarios: fresh copies of the project, the edits, and the timed commands.

Everything runs in throw-away copies (``tests/conftest.copy_project``, the same copy the tests
build); the working tree is never touched. Commands run quietly (``CI=1``), each timed from
outside as a whole process, start-up included: that is what an author or CI waits for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))
from conftest import copy_project, edit_csv, first_row, set_cell  # noqa: E402

# The CSV edit: a note cell of data/policy_events.csv. Three of the book's twelve notebooks read
# that table (policy, strategy and the data appendix), which is the median number of readers
# over the package's tables; products.csv (six readers) is measured as "csv_edit_wide".
CSV_EDIT = ("data/policy_events.csv", "note")
CSV_EDIT_WIDE = ("data/products.csv", "note")
MD_EDIT = "book/intro.md"
NB_EDIT = "book/market.ipynb"


class BenchError(SystemExit):
    pass


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_ROOT"}
    env["CI"] = "1"  # quiet progress output
    return env


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def fresh_copy(parent: Path, name: str) -> Path:
    return copy_project(parent / name)


# -- our pipeline ----------------------------------------------------------------------------
def review_build(root: Path, *, pdf: bool = False) -> float:
    """``review build`` (HTML only unless ``pdf``; the PDF step is measured on its own)."""
    return timed([str(BIN / "review"), "--root", str(root), "build"] + ([] if pdf else ["--no-pdf"]), root)


def pdf_step(root: Path) -> float:
    """The PDF alone, from a staged book whose HTML was built: Sphinx's LaTeX writer, then
    xelatex, in a fresh process (imports included), as ``review build`` runs them."""
    return timed([sys.executable, str(REPO / "bench" / "pdf_step.py"), str(root)], root)


def readers(root: Path, csv_path: str) -> list[str]:
    """The notebooks that read a data file, from the build's own record."""
    state = json.loads((root / "_build/.review/state.json").read_text(encoding="utf-8"))
    descriptor = json.loads((root / "data/datapackage.json").read_text(encoding="utf-8"))
    name = next(r["name"] for r in descriptor["resources"] if f"data/{r['path']}" == csv_path)
    return sorted(nb for nb, record in state["notebooks"].items() if name in record["reads"])


def edit_csv_note(root: Path, csv_path: str, column: str, tag: str) -> None:
    path = root / csv_path
    number, row = first_row(path, lambda r: True)
    edit_csv(path, set_cell(number, column, f"{row[column]} (benchmark edit {tag})".strip()))


def edit_markdown(root: Path, tag: str) -> None:
    path = root / MD_EDIT
    path.write_text(path.read_text(encoding="utf-8") + f"\nA sentence added by the benchmark ({tag}).\n",
                    encoding="utf-8")


def edit_notebook(root: Path, tag: str) -> None:
    """Append a sentence to the first markdown cell: the notebook's source changed, so it runs again."""
    path = root / NB_EDIT
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = source + f"\n\nA sentence added by the benchmark ({tag})."
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# -- plain Jupyter Book ----------------------------------------------------------------------
def prepare_jupyter_book(root: Path, mode: str) -> None:
    """The same book and configuration, with Jupyter Book executing the notebooks itself
    (``execute_notebooks: force`` or ``cache``). Untimed: the bibliography our build generates
    from data/sources.csv is written once, as an author using plain Jupyter Book would keep it."""
    import yaml

    from review_utils.data.bibliography import to_bibtex
    from review_utils.data.package import DataPackage

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config["execute"] = {"execute_notebooks": mode, "timeout": 600}
    (root / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (root / "_generated").mkdir(exist_ok=True)
    (root / "_generated/references.bib").write_text(to_bibtex(DataPackage(root / "data").load("sources")),
                                                     encoding="utf-8")


def jupyter_book(root: Path, *, all_pages: bool = True) -> float:
    """``jupyter-book build [--all]``; a notebook that fails to execute fails the scenario
    (Jupyter Book itself only warns and publishes the page with the traceback)."""
    cmd = [str(BIN / "jupyter-book"), "build"] + (["--all"] if all_pages else []) + [str(root)]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=root, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    output = result.stdout + result.stderr
    if result.returncode != 0 or "Executing notebook failed" in output or "Traceback" in output:
        raise BenchError(f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed
