"""The PDF step alone, timed by bench/build.py as one process: Sphinx's LaTeX writer on the
staged book that ``review build --no-pdf`` left behind, then xelatex (latexmk), exactly the
two calls ``review build`` makes for the PDF. The PDF is written to a temporary folder.

    .venv/bin/python bench/pdf_step.py PROJECT_ROOT
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from review_utils.core.params import resolve, to_json
from review_utils.core.paths import Layout
from review_utils.engine import site


def main(root: Path) -> None:
    layout = Layout(root.resolve())
    stage = layout.state / "stage"
    if not (stage / "_config.yml").is_file():
        raise SystemExit(f"{stage}: no staged book; run `review build --no-pdf` in {root} first")
    today = to_json(resolve(layout.params_file))["as_of"]
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        latex = Path(tmp) / "latex"
        pdf = site.compile_pdf(layout, stage, strict=True, today=today, into=latex)
        if not pdf.is_file():
            raise SystemExit(f"{pdf}: no PDF was made")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
