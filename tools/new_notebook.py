"""Write a chapter notebook from a compact cell list (keeps notebooks clean: no outputs, no ids drift).

Usage in a one-off script: ``write(path, [("md", text), ("code", src, ["tag"]), ...])``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def write(path: Path, cells: list[tuple]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, (kind, source, *rest) in enumerate(cells):
        tags = rest[0] if rest else []
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell.id = f"{Path(path).stem}-{index:02d}"
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, str(path))


if __name__ == "__main__":
    sys.exit("import this module from a script; see the docstring")
