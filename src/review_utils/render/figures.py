"""Figure style and deterministic figure files.

Okabe–Ito colours (safe for the common colour-vision deficiencies), CJK-capable fonts, and
files whose bytes depend only on the data: SVG ids come from a fixed salt and no creation
dates are written, so the same inputs give byte-identical SVG and PDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*"]

STYLE = {
    "svg.hashsalt": "review-book",  # stable element ids
    "svg.fonttype": "none",  # text stays text: searchable, small, selectable
    # Type 3 keeps CJK glyphs as outlines; Type 42 would subset the 19 MB Noto CJK collection
    # for every figure (about 0.5 s each) for no visible gain.
    "pdf.fonttype": 3,
    # A list in font.family gives per-glyph fallback: Latin from DejaVu, Chinese from Noto CJK.
    "font.family": ["DejaVu Sans", "Noto Sans CJK SC"],
    "font.size": 10,
    "axes.prop_cycle": None,  # filled in by apply_style
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "savefig.bbox": "tight",
}

_METADATA = {
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


def apply_style() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    style = dict(STYLE, **{"axes.prop_cycle": cycler(color=OKABE_ITO)})
    plt.rcParams.update(style)


def save(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem.svg`` (HTML) and ``stem.pdf`` (LaTeX), then close the figure."""
    import matplotlib.pyplot as plt

    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, metadata in _METADATA.items():
        path = stem.with_suffix(f".{fmt}")
        fig.savefig(path, format=fmt, metadata=metadata)
        paths.append(path)
    plt.close(fig)
    return paths


def placeholder(message: str = "No data as of the edition date") -> Figure:
    """A small figure that says why there is nothing to plot, so that numbered references to
    the figure stay valid in early editions."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#555555")
    return fig
