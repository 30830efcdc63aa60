"""The package's layers, as import contracts (pyproject.toml, [tool.importlinter]) and as a rule
for notebooks: each imports only the facade and its own chapter module."""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_import_contracts_hold():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("module", "line", "broken"), [
    # upward: data must not know the facade
    ("data/values.py", "from review_utils import chapter", "Layers point down"),
    # the engine must not use a chapter
    ("engine/state.py", "from review_utils.chapters import efficacy", "The engine uses data and core only"),
    # sideways: a chapter borrowing from another chapter
    ("chapters/targets.py", "from review_utils.chapters.market import shown", "Chapters stand apart"),
    # shared must not reach up into a chapter, even inside a function
    ("chapters/shared/stats.py", "def f():\n    from review_utils.chapters import access", "Chapters stand apart"),
])
def test_a_new_upward_or_sideways_import_breaks_a_contract(copy, module, line, broken):
    path = copy / "src" / "review_utils" / module
    path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    result = lint(copy)
    assert result.returncode != 0
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout


def test_a_chapter_module_missing_from_the_contract_is_reported(copy):
    (copy / "src" / "review_utils" / "chapters" / "newchapter.py").write_text('"""A new chapter."""\n')
    result = lint(copy)
    assert result.returncode != 0 and "newchapter" in result.stdout


def project_imports(notebook: Path) -> list[str]:
    """The review_utils modules a notebook's code cells import (``from review_utils import x``
    names the module review_utils.x)."""
    names = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names if a.name.split(".")[0] == "review_utils"]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "review_utils":
                names += [f"{node.module}.{a.name}" if node.module == "review_utils" or node.module.endswith(".chapters")
                          else node.module for a in node.names]
    return names


NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_imports_only_the_facade_and_its_own_chapter(notebook):
    allowed = {"review_utils.chapter", f"review_utils.chapters.{notebook.stem}"}
    imported = project_imports(notebook)
    assert "review_utils.chapter" in imported
    assert set(imported) <= allowed, sorted(set(imported) - allowed)


def test_the_notebook_rule_sees_a_forbidden_import(tmp_path):
    notebook = tmp_path / "targets.ipynb"
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": "from review_utils import chapter\nfrom review_utils.chapters.market import MISSING\n"}]
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert set(project_imports(notebook)) == {"review_utils.chapter", "review_utils.chapters.market"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_name_a_notebook_takes_from_its_modules_exists(notebook):
    """A name used only in an early edition's branch (``else mod.MISSING``) is not reached by a
    default run; read the notebook's attribute uses and look each one up."""
    import importlib

    modules = {}
    source = "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                       if c["cell_type"] == "code")
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("review_utils"):
            for alias in node.names:
                try:
                    modules[alias.asname or alias.name] = importlib.import_module(f"{node.module}.{alias.name}")
                except ModuleNotFoundError:
                    pass
    missing = [f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
               and not hasattr(modules[node.value.id], node.attr)]
    assert missing == []
