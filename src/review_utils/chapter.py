"""What a chapter notebook uses: parameters, data, glued numbers, tables and figures.

A notebook stays thin::

    as_of = None                                   # parameters cell (papermill fills it)
    from review_utils import chapter
    ch = chapter.start("approvals", as_of=as_of)   # the notebook's own stem
    approvals = ch.load("approvals")               # filtered by as_of, read recorded
    ch.glue("n_approvals", len(approvals))         # {glue:text}`n_approvals` in the prose
    ch.table(shown, label="tbl-approvals", caption="...")

Files a chapter writes (figures, CSV downloads and their bundles) go to ``_generated/<stem>/`` beside the
executed notebook; the build publishes them with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_utils.core.params import resolve
from review_utils.core.paths import Layout, find_root
from review_utils.data import package
from review_utils.data.package import DataPackage
from review_utils.render import markup
from review_utils.render.text import (  # noqa: F401 - what notebooks write with: chapter.dated(...), ...
    NOT_IN_EDITION,
    cell_text,
    dated,
    format_value,
    stated,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from review_utils.render.charts import Chart

GENERATED = "_generated"
EMPTY_NOTE = "(none as of the edition date)"


class PlainText:
    """A glued value shown exactly as this text.

    myst-nb passes glued text/plain through ``ast.literal_eval`` before showing it, so the text
    is written as a Python string literal: "33,000,000" would otherwise come back as the tuple
    (33, 0, 0), and "2024-01-01" would fail to parse. The literal evaluates to the text itself.
    """

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return repr(self.text)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self.text))


class Chapter:
    def __init__(self, stem: str, params: dict[str, Any], layout: Layout, out_dir: Path):
        self.stem = stem
        self.params = params
        self.layout = layout
        self.out_dir = out_dir
        self.package = DataPackage(layout.data)
        self._all_sources: pd.DataFrame | None = None

    @property
    def as_of(self) -> dt.date:
        return self.params["as_of"]

    # data -----------------------------------------------------------------------------
    def load(self, resource: str, as_of: dt.date | None = None) -> pd.DataFrame:
        """A table as of the edition date, or as of an earlier ``as_of`` (an edition never looks
        past its own date)."""
        return self.package.load(resource, as_of=self._earlier(as_of))

    def citable_sources(self) -> pd.DataFrame:
        """The sources an edition can cite: published by its date (or undated)."""
        import pandas as pd

        sources = self.load("sources")
        return sources[sources["published"].isna() | (sources["published"] <= pd.Timestamp(self.as_of))]

    def _earlier(self, as_of: dt.date | None) -> dt.date:
        if as_of is None:
            return self.as_of
        if as_of > self.as_of:
            raise ValueError(f"{as_of} is after the edition date {self.as_of}; an edition cannot look past its date")
        return as_of

    def approved(self, modality: str | None = None, as_of: dt.date | None = None) -> pd.DataFrame:
        """Approvals joined with their products as of the edition or an earlier ``as_of``
        (optionally one modality)."""
        from review_utils.chapters.shared.approved import approved

        return approved(self.load("products", as_of), self.load("approvals", as_of), modality=modality)

    def verdicts(self, as_of: dt.date | None = None) -> pd.DataFrame:
        """The claims audit as of the edition (or an earlier ``as_of``): one place decides each
        claim's status, and every chapter that discusses a claim shows that status."""
        from review_utils.chapters.shared.audit import for_chapter

        return for_chapter(self, self._earlier(as_of))

    def glue_verdicts(self, claim_ids: Any, verdicts: pd.DataFrame | None = None) -> dict[str, str]:
        """Glue the audit's status of each claim the chapter discusses as ``verdict_<claim id>``
        (``{glue:text}`verdict_C065```): the chapter shows the audit's verdict, never its own."""
        from review_utils.chapters.shared.audit import glue_verdicts

        return glue_verdicts(self.glue, self.verdicts() if verdicts is None else verdicts, claim_ids)

    # numbers in prose ----------------------------------------------------------------
    def glue(self, name: str, value: Any, fmt: str | None = None) -> str:
        """Bind ``value`` to ``name`` for ``{glue:text}`name``` in the book's prose."""
        text = format_value(value, fmt)
        try:
            from myst_nb import glue
        except ImportError:  # pragma: no cover - myst-nb is a dependency
            return text
        glue(name, PlainText(text), display=False)
        return text

    # tables and figures ----------------------------------------------------------------
    def _relative(self, filename: str) -> str:
        return f"{GENERATED}/{self.stem}/{filename}"

    def _write_download(self, frame: pd.DataFrame, name: str, *, caption: str, what: str,
                        describe: Mapping[str, str] | None = None, shown: pd.DataFrame | None = None) -> tuple[str, str]:
        """Write ``<name>.csv`` and its bundle ``<name>.zip`` (the same CSV with a README and a
        data dictionary, see :mod:`review_utils.render.downloads`); their paths for the links."""
        from review_utils.render.downloads import Bundle, write_bundle, write_csv

        folder = self.out_dir / GENERATED / self.stem
        write_csv(frame, folder / f"{name}.csv")
        info = Bundle(label=name, caption=caption, what=what, as_of=self.as_of, chapter=self.stem,
                      **self._publication())
        loaded = [read for read in package.reads() if ":" not in read]  # resources, not files or modules
        # the bundle reads sources.csv (every source, to name an unknown id) and the descriptor's
        # licence and field descriptions: both recorded, so the notebook runs again when they change
        if self._all_sources is None:
            self._all_sources = self.package.load("sources")
        package.record_file_read(self.layout.descriptor, self.layout.root)
        sources = self._all_sources
        write_bundle(frame, folder / f"{name}.zip", info, sources=sources, package=self.package.descriptor,
                     loaded=loaded, describe=describe, cites=[] if shown is None else [shown])
        return self._relative(f"{name}.csv"), self._relative(f"{name}.zip")

    def _publication(self) -> dict[str, str]:
        """The book's title and authors (``_config.yml``), as the bundles' README cites them."""
        import yaml

        config = yaml.safe_load((self.layout.root / "_config.yml").read_text(encoding="utf-8")) or {}
        return {"publication": str(config.get("title", "")), "publisher": str(config.get("author", ""))}

    def _provenance(self, frame: pd.DataFrame, download_paths: tuple[str, str], what: str) -> str:
        parts = []
        citation = markup.cite(markup.sources_in([frame]))
        if citation:
            parts.append(f"Sources: {citation}.")
        csv_path, zip_path = download_paths
        parts.append(markup.download(f"{what} data (CSV)", csv_path) + " ·")
        parts.append(markup.download("Data bundle with sources and dictionary (ZIP)", zip_path))
        # the executed notebook that made it, beside the page (Our World in Data style)
        parts.append(markup.download("the computation behind it (Jupyter file)", f"{self.stem}.ipynb"))
        return " ".join(parts)

    def table(self, frame: pd.DataFrame, *, label: str, caption: str,
              columns: Mapping[str, str] | None = None, download: pd.DataFrame | None = None,
              filters: Sequence[str] = (), describe: Mapping[str, str] | None = None) -> None:
        """Show ``frame`` as a numbered table; ``columns`` maps column -> header to show.

        A long table (see :func:`review_utils.render.markup.table_classes`) can be sorted and
        filtered on the site; each column of ``filters`` (keys of ``columns``) also gets a select
        menu of its values there.

        The CSV download holds exactly the rows shown, with every column of ``download``
        (default: ``frame``), so sources and locators travel with the numbers; the data bundle
        beside it adds a README (sources in full, licence, how to cite) and a data dictionary,
        where ``describe`` (column -> text) describes columns computed in the chapter. Rows that carry
        their corroboration (``corroborating_source_id``) get a *Support* column: the tier of
        their source and whether another source states the same, so that a fact resting on a
        single news or secondary source says so where it is shown.
        """
        from IPython.display import Markdown, display

        columns = dict(columns or {c: c for c in frame.columns})
        if {"source_id", "corroborating_source_id"} <= set(frame.columns) and not {"support", "source_shown"} & set(frame.columns):
            from review_utils.data.support import support_of

            frame = frame.assign(support=support_of(frame, self.load("sources")))
            columns.setdefault("support", "Support")
        rows = [[cell_text(v) for v in record] for record in frame[list(columns)].itertuples(index=False)]
        if not rows:  # keep the numbered table (prose refers to it) and say why it is empty
            rows = [[EMPTY_NOTE] + [""] * (len(columns) - 1)]
        unknown = [f for f in filters if f not in columns]
        if unknown:
            raise ValueError(f"table {label}: filter column {unknown[0]!r} is not one of its columns "
                             f"{list(columns)}: name a column of `columns`")
        classes = markup.table_classes(len(frame), [list(columns).index(f) for f in filters]) if len(frame) else []
        body = markup.list_table(list(columns.values()), rows, caption=caption, label=label, classes=classes)
        paths = self._write_download(download if download is not None else frame, label, caption=caption,
                                     what="Table", describe=describe, shown=frame)
        display(Markdown(body + "\n\n" + self._provenance(frame, paths, "Table")))

    def figure(self, fig: Figure, *, label: str, caption: str, alt: str, data: pd.DataFrame,
               chart: Chart | None = None, describe: Mapping[str, str] | None = None) -> None:
        """Save ``fig`` as SVG + PDF and show it numbered, with sources and its data as CSV and
        as a data bundle (``describe``: descriptions of computed columns, as for :meth:`table`).

        ``alt`` says what kind of chart it is (no numbers); with ``chart`` (an interactive
        version drawn from the same ``data``, see :mod:`review_utils.render.charts`) the alt text
        gains the chart's sentence generated from its data, and the site shows the interactive
        chart in place of the image (the image stays for the PDF and readers without JavaScript).
        """
        from IPython.display import Markdown, display

        from review_utils.render.figures import save

        save(fig, self.out_dir / GENERATED / self.stem / label)
        paths = self._write_download(data, label, caption=caption, what="Figure", describe=describe)
        caption_markup = markup.escape(caption) + " " + self._provenance(data, paths, "Figure")
        full_alt = alt if chart is None else f"{alt.rstrip('. ')}. {chart.summary}"
        body = markup.figure(self._relative(label), label=label, alt=full_alt, caption_markup=caption_markup)
        if chart is not None:
            chart = chart.cited(self.load("sources"))
            body += "\n\n" + markup.interactive_chart(chart.to_json(), label=label, summary=full_alt)
        display(Markdown(body))


def start(stem: str, out_dir: Path | str | None = None, **given: Any) -> Chapter:
    """Resolve the book parameters (``None`` = default from params.yml) and set up plotting."""
    from review_utils.render.figures import apply_style

    layout = Layout(find_root())
    params = resolve(layout.params_file, given, origin=f"notebook {stem}")
    apply_style()
    _record_modules_after_each_cell()
    return Chapter(stem, params, layout, Path(out_dir) if out_dir else Path.cwd())


def _record_modules_after_each_cell() -> None:
    """In a kernel, record after every cell which project modules are imported (the build keys
    the notebook on them, see :func:`review_utils.data.package.record_modules`); once per kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython always present in the venv
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return
    if _after_cell not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _after_cell)
    package.record_modules()


def _after_cell(result: Any = None) -> None:
    package.record_modules()
