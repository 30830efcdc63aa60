"""LaTeX-only layout for the book's data tables (the HTML build is untouched).

Sphinx sets a table without ``:widths:`` with tabulary, which cannot break across pages and
squeezes wide tables into unreadable slivers. For the LaTeX builder only, this post-transform
turns every table with at least ``review_latex_longtable_min_cols`` columns into a
``longtable`` (breaks across pages, repeats the header) with column widths estimated from
the text (see ``_column_weights``).
Tables that already have ``:widths:`` keep them (they only become longtables).
"""
from __future__ import annotations

import re
import unicodedata

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

_PADDING = 2.0  # \tabcolsep on both sides of a cell (2 x 3pt), in the same units
_BREAKS = re.compile(r" |(?<=/)|(?<=-)(?=[^\W\d_])")


def _char_width(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in "WF":
        return 2.0  # CJK: a full em
    if ch.isupper() or ch.isdigit():
        return 1.3  # capitals and digits are wider than the average lower-case letter
    return 1.0


def _text_width(text: str) -> float:
    """Width in 'average lower-case Latin letter' units."""
    return sum(_char_width(ch) for ch in text)


def _column_weights(tgroup: nodes.tgroup, ncols: int, units: float, max_word: float) -> list[int]:
    """Column widths in the manner of tabulary: every column first gets its longest word
    (words of letters only are capped at ``max_word``, hyphenation breaks them; words with
    digits, like trial ids, are not), then the space left is shared in proportion to how
    much longer a column's average cell is than that minimum."""
    minimum = [1.0] * ncols
    total = [0.0] * ncols
    count = [0] * ncols
    for section in tgroup.children:
        if not isinstance(section, (nodes.thead, nodes.tbody)):
            continue
        head = isinstance(section, nodes.thead)
        for row in section.findall(nodes.row):
            entries = [e for e in row.children if isinstance(e, nodes.entry)]
            if len(entries) != ncols:  # spanning cells: leave the table alone
                return []
            for j, entry in enumerate(entries):
                text = " ".join(entry.astext().split())
                # LaTeX may break after "/" and after the hyphen in "B-cell"; keep "2021-06-22" whole
                for word in _BREAKS.split(text):
                    width = _text_width(word) * (1.3 if head else 1.0)  # header: sans, wider
                    if not any(ch.isdigit() for ch in word):
                        width = min(width, max_word)
                    minimum[j] = max(minimum[j], width)
                if not head:
                    total[j] += _text_width(text)
                    count[j] += 1
    excess = [max(0.0, (total[j] / count[j] if count[j] else 0.0) - minimum[j]) for j in range(ncols)]
    minimum = [m + _PADDING for m in minimum]
    spare = max(0.0, units - sum(minimum))
    share = sum(excess) or 1.0
    return [round(10 * (minimum[j] + spare * excess[j] / share)) for j in range(ncols)]


class WideTablesForLatex(SphinxPostTransform):
    default_priority = 400
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        cfg = self.app.config
        for table in list(self.document.findall(nodes.table)):
            tgroup = next(iter(table.findall(nodes.tgroup)), None)
            if tgroup is None:
                continue
            colspecs = [c for c in tgroup.children if isinstance(c, nodes.colspec)]
            if len(colspecs) < cfg.review_latex_longtable_min_cols:
                continue
            classes = table["classes"]
            if "colwidths-given" not in classes:
                weights = _column_weights(tgroup, len(colspecs), cfg.review_latex_table_units,
                                          cfg.review_latex_max_word)
                if not weights:
                    continue
                for colspec, weight in zip(colspecs, weights):
                    colspec["colwidth"] = weight
                if "colwidths-auto" in classes:
                    classes.remove("colwidths-auto")
                classes.append("colwidths-given")
            if "longtable" not in classes:
                classes.append("longtable")


class WebOnlyDownloadsForLatex(SphinxPostTransform):
    """The data bundles (zip) are a site feature: their link is left out of the PDF, which keeps
    the text it had before bundles existed (the CSV link and the computation link stay)."""

    default_priority = 400
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        from sphinx import addnodes

        for ref in list(self.document.findall(addnodes.download_reference)):
            if not str(ref.get("reftarget", "")).endswith(".zip"):
                continue
            parent = ref.parent
            index = parent.index(ref)
            before = parent[index - 1] if index > 0 else None
            # the separator written after the CSV link (" ·") goes with the bundle's link
            if isinstance(before, nodes.Text) and before.astext().rstrip().endswith("·"):
                text = before.astext()
                parent.replace(before, nodes.Text(text.rstrip()[:-1].rstrip() + (" " if text.endswith(" ") else "")))
            parent.remove(ref)


def setup(app: Sphinx) -> dict:
    app.add_config_value("review_latex_longtable_min_cols", 5, "env")
    # \linewidth in average lower-case letters at the table's font size: 453pt (A4, Sphinx's
    # default 1in margins) / 3.13pt (\footnotesize FreeSerif) = 145
    app.add_config_value("review_latex_table_units", 145, "env")
    app.add_config_value("review_latex_max_word", 12, "env")
    app.add_post_transform(WideTablesForLatex)
    app.add_post_transform(WebOnlyDownloadsForLatex)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
