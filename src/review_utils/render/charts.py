"""Interactive versions of the book's figures (Vega-Lite specifications built with Altair).

The static figure (matplotlib SVG for the site, PDF for the book) stays what readers without
JavaScript, the PDF and search engines see. On pages with JavaScript, the site draws the chart
below from the *same rows* that the figure's CSV download holds: a tooltip with the row's values
and its source, the legend filters the marks, and the x axis zooms where that helps.

A :class:`Chart` also carries a sentence generated from its data (count of marks, extremes), which
becomes part of the figure's alt text: the alt text's numbers are never typed by hand.

Specifications are deterministic: data are inlined with sorted keys, dates as ISO text, and no
random names (Altair's dataset names are hashes of the data).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from review_utils.data.values import is_missing
from review_utils.render.figures import OKABE_ITO
from review_utils.render.text import format_value

if TYPE_CHECKING:
    import pandas as pd

SOURCE_COLUMNS = ("source_id",)
ROW_HEIGHT = 22  # pixels per row of a row-per-item chart
WIDTH = "container"  # charts take the page's text width


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite specification and the data sentence for the figure's alt text."""

    spec: dict[str, Any]
    summary: str

    def cited(self, sources: pd.DataFrame) -> Chart:
        """The same chart with each row's ``source_id`` written for readers ('Liu et al. (2025)')
        instead of the data's key; an id missing from ``sources`` stays as it is."""
        from review_utils.render.text import short_citation

        names = {row["source_id"]: short_citation(row) for row in sources.to_dict("records")}

        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                if isinstance(node.get("values"), list):
                    node = {**node, "values": [{**r, **({"source_id": names.get(r["source_id"], r["source_id"])}
                                                        if isinstance(r, dict) and r.get("source_id") else {})}
                                               for r in node["values"]]}
                return {k: walk(v) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v) for v in node]
            return node

        return Chart(walk(self.spec), self.summary)

    def to_json(self) -> str:
        """Deterministic JSON, safe inside an HTML ``<script type="application/json">``."""
        text = json.dumps(self.spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        # no "</script>" or "<!--" can end or break the element; JSON reads \u003c as "<"
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# -- data ----------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON value: dates as ISO text, missing as null, numpy scalars as Python numbers."""
    if is_missing(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The rows as JSON objects, only ``columns``, in the frame's order."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"chart columns {missing} are not in the figure's data (columns: {list(frame.columns)})")
    return [{c: _plain(v) for c, v in zip(columns, row)} for row in frame[list(columns)].itertuples(index=False)]


def _tooltip_columns(frame: pd.DataFrame, tooltip: Mapping[str, str]) -> dict[str, str]:
    """The tooltip's columns and titles; the row's source is always shown when the data has one."""
    shown = dict(tooltip)
    for column in SOURCE_COLUMNS:
        if column in frame.columns and column not in shown:
            shown[column] = "Source"
    return shown


def _number(value: Any, percent: bool) -> str:
    if value is None:
        return "not stated"
    return f"{value * 100:.0f} %" if percent else format_value(value)


def _extremes(rows: list[dict[str, Any]], value: str, label: str, percent: bool) -> str:
    known = [r for r in rows if isinstance(r.get(value), (int, float))]
    if not known:
        return ""
    high = max(known, key=lambda r: r[value])
    low = min(known, key=lambda r: r[value])
    if high is low:
        return f"{high[label]}: {_number(high[value], percent)}."
    return (f"highest {high[label]} ({_number(high[value], percent)}), "
            f"lowest {low[label]} ({_number(low[value], percent)}).")


# -- chart types ---------------------------------------------------------------------------
def _base(rows: list[dict[str, Any]]):
    import altair as alt

    return alt.Chart(alt.Data(values=rows))


def _colour(field: str | None, title: str | None, domain: Sequence[str] | None):
    """Colour by ``field`` (Okabe–Ito), with a legend that filters the marks when clicked."""
    import altair as alt

    if field is None:
        return None, None
    scale = alt.Scale(range=OKABE_ITO) if domain is None else alt.Scale(domain=list(domain), range=OKABE_ITO[: len(domain)])
    selection = alt.selection_point(fields=[field], bind="legend", name="legend_filter")
    legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=600, titleLimit=600)
    return alt.Color(f"{field}:N", title=title or field, scale=scale, legend=legend), selection


def _finish(chart, selection, *, zoom: bool, title: str, table: Mapping[str, str]) -> dict[str, Any]:
    import altair as alt

    if selection is not None:
        chart = chart.add_params(selection).encode(opacity=alt.condition(selection, alt.value(1.0), alt.value(0.15)))
    if zoom:
        chart = chart.interactive(bind_y=False)
    return _described(chart.properties(width=WIDTH).to_dict(), title, table)


def _described(spec: dict[str, Any], title: str, table: Mapping[str, str]) -> dict[str, Any]:
    """``description`` is the chart's accessible name (Vega writes it as the SVG's aria-label);
    ``usermeta.table`` lists the columns of the data table the site offers beside the chart
    (the keyboard and screen-reader alternative to hovering)."""
    spec["description"] = title
    spec["usermeta"] = {"table": [[column, heading] for column, heading in table.items()]}
    return spec


def _tooltips(frame: pd.DataFrame, tooltip: Mapping[str, str], types: Mapping[str, str]):
    import altair as alt

    return [alt.Tooltip(f"{c}:{types.get(c, 'N')}", title=t) for c, t in _tooltip_columns(frame, tooltip).items()]


def interval_dots(frame: pd.DataFrame, *, estimate: str, low: str, high: str, row: str, row_title: str,
                  x_title: str, tooltip: Mapping[str, str], colour: str | None = None,
                  colour_title: str | None = None, percent: bool = True, what: str = "row") -> Chart:
    """One row per item: a dot at ``estimate`` and a line from ``low`` to ``high`` (forest plot,
    range chart). ``row`` must be unique per item (it labels the row)."""
    import altair as alt

    columns = list(dict.fromkeys([row, estimate, low, high, *( [colour] if colour else []),
                                  *_tooltip_columns(frame, tooltip)]))
    rows = records(frame, columns)
    order = [r[row] for r in rows]
    fmt = ".0%" if percent else ",.4~g"
    axis = alt.Axis(format=fmt, title=x_title)
    y = alt.Y(f"{row}:N", title=row_title, sort=order, axis=alt.Axis(labelLimit=320))
    colour_enc, selection = _colour(colour, colour_title, None)
    tips = _tooltips(frame, tooltip, {estimate: "Q", low: "Q", high: "Q"})
    extra = {} if colour_enc is None else {"color": colour_enc}
    if selection is not None:
        extra["opacity"] = alt.condition(selection, alt.value(1.0), alt.value(0.15))
    rule = alt.Chart().mark_rule(strokeWidth=2).encode(
        y=y, x=alt.X(f"{low}:Q", axis=axis, scale=alt.Scale(zero=False)), x2=f"{high}:Q", tooltip=tips, **extra)
    dots = alt.Chart().mark_point(filled=True, size=70).encode(y=y, x=alt.X(f"{estimate}:Q", axis=axis),
                                                               tooltip=tips, **extra)
    if selection is not None:
        rule = rule.add_params(selection)
    layered = alt.layer(rule, dots, data=alt.Data(values=rows)).properties(height=ROW_HEIGHT * max(len(rows), 1))
    table = {row: row_title, estimate: x_title, low: "Lower limit", high: "Upper limit", **_tooltip_columns(frame, tooltip)}
    spec = _described(layered.interactive(bind_y=False).properties(width=WIDTH).to_dict(), f"{x_title} by {row_title}", table)
    summary = f"{len(rows)} {what}{'' if len(rows) == 1 else 's'} of {x_title.lower()}; " + \
        _extremes(rows, estimate, row, percent)
    return Chart(spec, summary.rstrip("; "))


def bars(frame: pd.DataFrame, *, value: str, category: str, value_title: str, category_title: str,
         tooltip: Mapping[str, str], colour: str | None = None, colour_title: str | None = None,
         colour_domain: Sequence[str] | None = None, log: bool = False, percent: bool = False,
         what: str = "bar") -> Chart:
    """Horizontal bars of ``value`` by ``category`` (stacked by ``colour`` when several rows share
    a category), in the frame's order."""
    import altair as alt

    columns = list(dict.fromkeys([category, value, *([colour] if colour else []), *_tooltip_columns(frame, tooltip)]))
    rows = records(frame, columns)
    order = list(dict.fromkeys(r[category] for r in rows))
    colour_enc, selection = _colour(colour, colour_title, colour_domain)
    x = alt.X(f"{value}:Q", title=value_title, scale=alt.Scale(type="log") if log else alt.Undefined,
              axis=alt.Axis(format=".0%" if percent else ",.4~g"))
    chart = _base(rows).mark_bar().encode(
        y=alt.Y(f"{category}:N", title=category_title, sort=order, axis=alt.Axis(labelLimit=320)),
        x=x, tooltip=_tooltips(frame, tooltip, {value: "Q"}),
        **({"color": colour_enc} if colour_enc is not None else {}),
    ).properties(height=ROW_HEIGHT * max(len(order), 1))
    table = {category: category_title, value: value_title, **({colour: colour_title or colour} if colour else {}),
             **_tooltip_columns(frame, tooltip)}
    spec = _finish(chart, selection, zoom=False, title=f"{value_title} by {category_title}", table=table)
    if colour is None:
        summary = f"{len(rows)} {what}{'' if len(rows) == 1 else 's'} of {value_title.lower()}; " + \
            _extremes(rows, value, category, percent)
    else:
        totals: dict[Any, float] = {}
        for r in rows:
            if isinstance(r.get(value), (int, float)):
                totals[r[category]] = totals.get(r[category], 0) + r[value]
        summed = [{category: k, value: v} for k, v in totals.items()]
        summary = f"{len(order)} {what}{'' if len(order) == 1 else 's'} of {value_title.lower()}, split by " \
                  f"{(colour_title or colour).lower()}; " + _extremes(summed, value, category, percent)
    return Chart(spec, summary.rstrip("; "))


def timeline(frame: pd.DataFrame, *, date: str, row: str, row_title: str, date_title: str,
             tooltip: Mapping[str, str], colour: str | None = None, colour_title: str | None = None,
             hollow: str | None = None, marker_date: Any = None, marker_label: str = "",
             what: str = "event") -> Chart:
    """One row per ``row`` value, a marker per event at its date; the date axis zooms.

    ``hollow`` names a boolean column: those markers are drawn hollow (e.g. a date known only as
    an upper bound). ``marker_date`` draws a dashed vertical line labelled ``marker_label``.
    """
    import altair as alt

    columns = list(dict.fromkeys([row, date, *([colour] if colour else []), *([hollow] if hollow else []),
                                  *_tooltip_columns(frame, tooltip)]))
    rows = records(frame, columns)
    order = list(dict.fromkeys(r[row] for r in rows))
    colour_enc, selection = _colour(colour, colour_title, None)
    x = alt.X(f"{date}:T", title=date_title, scale=alt.Scale(padding=12))
    encoding: dict[str, Any] = {
        "y": alt.Y(f"{row}:N", title=None, sort=order, axis=alt.Axis(labelLimit=320)),
        "x": x,
        "tooltip": _tooltips(frame, tooltip, {}),  # dates as the ISO text of the download
    }
    if colour_enc is not None:
        encoding["stroke"] = colour_enc
        encoding["fill"] = alt.condition(f"datum['{hollow}']", alt.value("white"), colour_enc) if hollow else colour_enc
    if selection is not None:
        encoding["opacity"] = alt.condition(selection, alt.value(1.0), alt.value(0.15))
    points = alt.Chart().mark_point(filled=True, size=90, strokeWidth=1.5).encode(**encoding)
    if selection is not None:
        points = points.add_params(selection)
    layers = [points.interactive(bind_y=False)]
    if marker_date is not None:
        line = {"marker_date": _plain(marker_date), "marker_label": marker_label}
        base = alt.Chart(alt.Data(values=[line]))
        layers.append(base.mark_rule(strokeDash=[4, 4], color="#767676").encode(x=alt.X("marker_date:T")))
        layers.append(base.mark_text(align="right", dx=-4, dy=2, color="#767676", baseline="top").encode(
            x=alt.X("marker_date:T"), y=alt.value(0), text="marker_label:N"))
    chart = alt.layer(*layers, data=alt.Data(values=rows)).properties(
        height=ROW_HEIGHT * max(len(order), 1), width=WIDTH)
    table = {row: row_title, date: date_title, **({colour: colour_title or colour} if colour else {}),
             **_tooltip_columns(frame, tooltip)}
    spec = _described(chart.to_dict(), f"{row_title} by {date_title}", table)
    dated = sorted((r[date], r[row]) for r in rows if r.get(date))
    summary = f"{len(rows)} {what}{'' if len(rows) == 1 else 's'} across {len(order)} rows"
    if dated:
        summary += f", from {dated[0][0]} ({dated[0][1]}) to {dated[-1][0]} ({dated[-1][1]})"
    return Chart(spec, summary + ".")


# -- added for the chapters' charts (appended: the functions above are shared) -----------------
LABEL_SHARE = 0.4  # at most this share of the chart's width for the row labels


def fit_labels(chart: Chart, share: float = LABEL_SHARE, minimum: int = 90) -> Chart:
    """The same chart with every axis' fixed ``labelLimit`` replaced by one that follows the
    page's width (at most ``share`` of the chart's container, never below ``minimum`` pixels,
    never above the fixed limit): on a phone, long row labels are shortened with an ellipsis
    instead of pushing the marks out of view (the tooltip and the data table keep the full text).
    That axis loses its title: Vega places an axis title beside labels of a fixed length only,
    and the row labels name their rows themselves (the data table keeps the heading).
    The other axes' titles end at the axis' right end and may extend left under the row labels
    (a title longer than a phone's plot is not cut); legend labels and titles are limited to the
    width right of the row labels (a bottom legend starts where the plot starts)."""

    def walk(node: Any, parent: str | None = None) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v, k) for k, v in node.items()}
            axis = node.get("axis")
            if isinstance(axis, dict) and isinstance(axis.get("labelLimit"), (int, float)):
                out["title"] = None
            if parent == "axis" and isinstance(out.get("labelLimit"), (int, float)):
                fixed = out["labelLimit"]
                out["labelLimit"] = {"expr": f"clamp(containerSize()[0] * {share}, {minimum}, {fixed})"}
            elif parent == "axis":
                out.setdefault("titleAnchor", "end")
                out.setdefault("titleLimit", {"expr": "max(containerSize()[0] - 8, 60)"})
            if parent == "legend":
                for key in ("labelLimit", "titleLimit"):
                    if isinstance(out.get(key), (int, float)):
                        # a bottom legend starts where the plot starts, right of the row labels
                        out[key] = {"expr": f"clamp(containerSize()[0] * {1 - share:.2f} - 40, 60, {out[key]})"}
            return out
        if isinstance(node, list):
            return [walk(v, parent) for v in node]
        return node

    return Chart(walk(chart.spec), chart.summary)


def log_bars(frame: pd.DataFrame, *, value: str, category: str, value_title: str, category_title: str,
             tooltip: Mapping[str, str], floor: float = 1, what: str = "bar") -> Chart:
    """Horizontal bars of ``value`` on a log axis: each bar runs from ``floor`` (a log axis has no
    zero) to its value; ``value`` must be at least ``floor``."""
    import copy

    low = [(i, v) for i, v in enumerate(frame[value]) if not is_missing(v) and float(v) < floor]
    if low:
        i, v = low[0]
        raise ValueError(f"log bars: column {value!r}, row {i} is {v!r}, below the axis floor {floor}; "
                         "drop that row or lower the floor")
    chart = bars(frame, value=value, category=category, value_title=value_title, category_title=category_title,
                 tooltip=tooltip, log=True, what=what)
    spec = copy.deepcopy(chart.spec)
    x = spec["encoding"]["x"]
    x["scale"] = {**x.get("scale", {}), "type": "log", "domainMin": floor}
    spec["encoding"]["x2"] = {"datum": floor}
    # labels at the powers of ten only (a log axis otherwise crowds 2, 3, 4 ... 20, 30 together);
    # not an axis "values" list: Chart.cited reads every "values" list as data rows
    power = "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6"
    x["axis"] = {**x.get("axis", {}), "labelExpr": f"{power} ? format(datum.value, ',') : ''"}
    return Chart(spec, chart.summary)


def restyle(chart: Chart, mark: str, **style: Any) -> Chart:
    """The same chart with every mark of type ``mark`` ('rule', 'point', 'bar') drawn with
    ``style`` (e.g. ``strokeWidth=8, color="#0072B2"``) added to its mark properties."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            kind = out.get("mark")
            if kind == mark:
                out["mark"] = {"type": mark, **style}
            elif isinstance(kind, dict) and kind.get("type") == mark:
                out["mark"] = {**kind, **style}
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return Chart(walk(chart.spec), chart.summary)


def fixed_domain(chart: Chart, channel: str, domain: Sequence[float]) -> Chart:
    """The same chart with the ``channel`` ('x' or 'y') scale fixed to ``domain`` in every view
    (e.g. a share from 0 to 100 %, as the static figure draws it, whatever the data span)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            enc = out.get("encoding")
            if isinstance(enc, dict) and isinstance(enc.get(channel), dict) and "field" in enc[channel]:
                scale = {k: v for k, v in enc[channel].get("scale", {}).items() if k != "zero"}
                out["encoding"] = {**enc, channel: {**enc[channel], "scale": {**scale, "domain": list(domain)}}}
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return Chart(walk(chart.spec), chart.summary)


def with_ticks(chart: Chart, ticks: Sequence[Mapping[str, Any]], *, category: str, value: str,
               tooltip: Mapping[str, str], colour: str = "#000000") -> Chart:
    """The same one-view chart (e.g. :func:`bars`) with a dashed vertical tick per row of
    ``ticks`` at ``value`` on the bar of ``category`` (a claim beside the computed bars), with its
    own tooltip; the ticks are drawn over the bars and do not take part in the legend."""
    spec = {k: v for k, v in chart.spec.items()}
    if "layer" in spec or "mark" not in spec:
        raise ValueError("with_ticks needs a single-view chart (one mark), e.g. from bars()")
    view_keys = ("mark", "encoding", "params")
    base = {k: spec.pop(k) for k in view_keys if k in spec}
    y = {k: v for k, v in base["encoding"]["y"].items() if k in ("field", "type", "sort", "title", "axis")}
    tick = {
        "data": {"values": [{k: _plain(v) for k, v in row.items()} for row in ticks]},
        "mark": {"type": "tick", "color": colour, "strokeDash": [4, 3], "thickness": 2, "size": ROW_HEIGHT},
        "encoding": {"y": y, "x": {"field": value, "type": "quantitative"},
                     "tooltip": [{"field": c, "type": "nominal", "title": t} for c, t in tooltip.items()]},
    }
    spec["layer"] = [base, tick]
    return Chart(spec, chart.summary)
