"""Turn data into MyST markup safely.

Text from the CSVs is never trusted as markup: every ASCII punctuation character is
backslash-escaped (CommonMark guarantees such escapes render literally), so a cell holding
``<script>`` or ``{cite}`` shows as that text in HTML and PDF instead of acting.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from review_utils.data.package import is_source_column

if TYPE_CHECKING:
    import pandas as pd

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_SPACE = re.compile(r"\s+")


def escape(text: object) -> str:
    """Literal text for a MyST inline context (one line, no markup)."""
    if text is None:
        return ""
    return _PUNCT.sub(r"\\\1", _SPACE.sub(" ", str(text)).strip())


def plain_line(text: object) -> str:
    """Text for a directive option: not parsed as markup (Sphinx escapes it on output), so only
    line breaks matter; they would start a new option or the directive body."""
    return _SPACE.sub(" ", str(text)).strip()


def cite(source_ids: Iterable[str]) -> str:
    """A parenthetical citation of the distinct ids, in sorted order (deterministic)."""
    keys = sorted({str(s) for s in source_ids if s is not None and s == s and str(s)})
    if not keys:
        return ""
    for key in keys:
        if not re.fullmatch(r"[A-Za-z0-9_:\-]+", key):
            raise ValueError(f"source id {key!r} cannot be cited: use letters, digits, _ : - only")
    return "{cite:p}`" + ",".join(keys) + "`"


def download(label: str, path: str) -> str:
    """A download link. Role text is not parsed as markup, so the label is plain text with the
    role's own delimiters (backtick, angle brackets) removed."""
    clean = re.sub(r"[`<>]", "", plain_line(label))
    return "{download}`" + clean + " <" + path + ">`"


# A table with at least this many rows is "long": the site lets readers sort and filter it.
SORTABLE_MIN_ROWS = 15


def table_classes(n_rows: int, filter_columns: Sequence[int] = ()) -> list[str]:
    """The HTML classes of a table of ``n_rows`` body rows (the one place that decides which are
    sortable): ``review-sortable`` for a long table, and ``review-filter-col-N`` for each column
    (0-based) that gets a select menu of its values (a table with filters is always sortable)."""
    columns = sorted(set(filter_columns))
    if any(not isinstance(c, int) or c < 0 for c in columns):
        raise ValueError(f"filter columns {list(filter_columns)!r}: give column positions (0, 1, ...)")
    if n_rows < SORTABLE_MIN_ROWS and not columns:
        return []
    return ["review-sortable", *(f"review-filter-col-{c}" for c in columns)]


def list_table(header: Sequence[str], rows: Iterable[Sequence[object]], *, caption: str, label: str,
               classes: Sequence[str] = ()) -> str:
    """A numbered, captioned MyST ``list-table`` with every cell escaped; ``classes`` go on the
    HTML table (the site's script enhances ``review-sortable`` ones; LaTeX ignores them)."""
    for name in classes:
        if not re.fullmatch(r"[a-z0-9-]+", name):
            raise ValueError(f"table {label}: class {name!r}: use lower-case letters, digits and - only")
    lines = [f"````{{list-table}} {escape(caption)}", ":header-rows: 1", f":name: {label}"]
    if classes:
        lines.append(":class: " + " ".join(classes))
    lines.append("")
    for record in [list(header), *map(list, rows)]:
        lines.append(f"* - {escape(record[0])}")
        lines += [f"  - {escape(cell)}" for cell in record[1:]]
    lines.append("````")
    return "\n".join(lines)


def figure(image_stem: str, *, label: str, alt: str, caption_markup: str) -> str:
    """A numbered figure; ``image_stem.*`` lets each builder pick SVG (HTML) or PDF (LaTeX).

    ``caption_markup`` is trusted MyST (built by the caller from escaped pieces).
    """
    return "\n".join([
        f"````{{figure}} {image_stem}.*",
        f":name: {label}",
        f":alt: {plain_line(alt)}",
        "",
        caption_markup,
        "````",
    ])


def sources_in(frames: Sequence[pd.DataFrame]) -> list[str]:
    """Every id in columns named ``source_id`` or ``*_source_id`` (a row may cite several, in
    several such columns or as ``a; b`` in one cell)."""
    ids: set[str] = set()
    for frame in frames:
        for column in frame.columns:
            if is_source_column(column):
                for cell in frame[column].dropna().astype(str):
                    ids.update(part.strip() for part in cell.split(";") if part.strip())
    return sorted(ids)


def interactive_chart(spec_json: str, *, label: str, summary: str) -> str:
    """The HTML-only companion of figure ``label``: the site's script draws the chart from the
    inline specification inside the figure and hides the static image; LaTeX skips it.

    ``spec_json`` must already be safe inside a ``<script>`` element (see ``Chart.to_json``).
    """
    import html

    if not re.fullmatch(r"[A-Za-z0-9_-]+", label):
        raise ValueError(f"figure label {label!r}: use letters, digits, _ and - only")
    return "\n".join([
        "```{raw} html",
        f'<div class="review-chart" data-figure="{label}" data-summary="{html.escape(plain_line(summary))}">'
        f'<script type="application/json">{spec_json}</script></div>',
        "```",
    ])
