"""No number typed into prose: every digit a reader sees in the book's text comes from data.

Scans the markdown pages and the markdown cells of the notebooks in book/. Digits are allowed
only inside glue roles, citations, cross-references, labels, directive lines, inline code, links
and the fixed terms below (names that contain digits but are not quantities).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"

# Names that contain digits but state no quantity. Add a term only if it is a name.
ALLOWED_TERMS = [
    "1 + 3 + N",  # the name of China's multi-tiered payment scheme
    "CD19", "CD20", "CD22", "CD7", "CD30", "CD38", "BCMA", "GPRC5D", "Claudin18.2", "CLDN18.2", "GPC3", "B7-H3",
    "IL-10", "IL-12", "IL-15", "IL-18", "IL-7", "IL-6", "TGF-β1", "PD-1", "PD-L1", "TIM-3", "LAG-3", "CTLA-4",
    "CT041", "CT053", "CT103A", "JWCAR029", "CNCT19", "pCAR-19B", "BBM-H901", "H101", "CAR-T19",
    "COVID-19", "HER2", "ZUMA-1", "ZUMA-7", "ZUMA-3", "FUMANBA-1", "CARTIFAN-1", "CARTITUDE-1", "LUMMICAR-1",
    "CARTITUDE-4", "CT041-ST-01",
    "TRANSCEND", "AAV2", "AAV9", "F9", "TP53", "p53", "E1B", "VEGF", "SMN2", "APOC3", "PCSK9", "Ad5",
    "NS7CAR", "CTD402", "ESO-T01", "GC007F", "GC012F",  # code names of new CAR-T designs (innovations chapter)
]

_STRIP = [
    re.compile(r"^(`{3,}|~{3,})(?!\{).*?^\1\s*$", re.M | re.S),  # code blocks (not directives: captions are prose)
    re.compile(r"^\s*\d+\.\s", re.M),                                # ordered-list markers
    re.compile(r"\{(glue:[a-z]+|glue|cite:[a-z]+|cite|numref|ref|doc|download|eq|term|abbr)\}`[^`]*`"),  # roles
    re.compile(r"^(`{3,}|:{3,}).*$", re.M),     # directive fences (before inline code: ``` is not code)
    re.compile(r"`[^`\n]+`"),                    # inline code and file names, within one line
    re.compile(r"(?<=\])\([^)]*\)"),              # link targets (the link text stays and is scanned)
    re.compile(r"https?://\S+"),
    re.compile(r"^\([\w:-]+\)=\s*$", re.M),      # labels
    re.compile(r"^:[\w-]+:.*$", re.M),          # directive options
]


def markdown_sources() -> list[tuple[str, str]]:
    found = []
    for path in sorted(BOOK.rglob("*.md")):
        if "_generated" not in path.parts:
            found.append((str(path.relative_to(BOOK.parent)), path.read_text(encoding="utf-8")))
    for path in sorted(BOOK.rglob("*.ipynb")):
        if "_generated" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells, start=1):
            if cell["cell_type"] == "markdown":
                source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                found.append((f"{path.relative_to(BOOK.parent)} cell {index}", source))
    return found


def typed_numbers(text: str) -> list[str]:
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    for term in sorted(ALLOWED_TERMS, key=len, reverse=True):
        text = re.sub(r"(?<![\w.])" + re.escape(term) + r"(?![\w])", " ", text)
    lines = [line for line in text.splitlines() if re.search(r"\d", line)]
    return [line.strip() for line in lines]


def test_scanner_catches_typed_numbers_and_passes_glued_ones():
    assert typed_numbers("approved {glue:text}`n_products` products {cite:p}`review2025`") == []
    assert typed_numbers("CD19 and IL-12 armoured cells; the 1 + 3 + N scheme") == []
    assert typed_numbers("approved 6 products") == ["approved 6 products"]
    assert typed_numbers("a rate of 41.7% (see `data/x.csv`)") == ["a rate of 41.7% (see  )"]
    assert typed_numbers("CD190 cells") == ["CD190 cells"]
    assert typed_numbers("[the spec](https://x.org/v1/spec2)") == []
    assert typed_numbers("[Table 2](https://x.org)") == ["[Table 2]"]
    assert typed_numbers("1. First step\n2. Second\n```bash\nreview build -p as_of=2020-01-01\n```\n") == []
    assert typed_numbers("```{figure} x.*\n:name: fig-x\n\nA caption with 12 typed\n```") == ["A caption with 12 typed"]


@pytest.mark.parametrize("where, text", markdown_sources(), ids=lambda v: v if isinstance(v, str) and len(v) < 80 else "")
def test_no_typed_numbers_in_prose(where, text):
    offending = typed_numbers(text)
    assert not offending, f"{where}: digits typed into prose (glue them from data): {offending}"
