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
                if isinstance(node.get("values"), list):  # data rows (an axis' "values" are not)
                    node = {**node, "values": [
                        {**r, "source_id": names.get(r["source_id"], r["source_id"])}
                        if isinstance(r, dict) and r.get("source_id") else r for r in node["values"]]}
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
                  colour_title: str | None = None, percent: bool = True, what: str = "row",
                  group: str | None = None, group_words: str = "group") -> Chart:
    """One row per item: a dot at ``estimate`` and a line from ``low`` to ``high`` (forest plot,
    range chart). ``row`` must be unique per item (it labels the row).

    With ``group`` (e.g. one disease and one endpoint), values are only comparable within a group:
    the data sentence then counts items per group instead of naming extremes across groups."""
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
    if group is None:
        summary = f"{len(rows)} {what}{'' if len(rows) == 1 else 's'} of {x_title.lower()}; " + \
            _extremes(rows, estimate, row, percent)
    else:
        sizes: dict[Any, int] = {}
        for value in frame[group]:
            sizes[value] = sizes.get(value, 0) + 1
        parts = [f"{name} ({count})" for name, count in sizes.items()]
        summary = (f"{len(rows)} {what}{'' if len(rows) == 1 else 's'} in {len(sizes)} {group_words}"
                   f"{'' if len(sizes) == 1 else 's'}: " + "; ".join(parts) + ".")
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


# -- builders added for the CGT landscape, registry and audit figures ----------------------
def _legend_colour(field: str, title: str, domain: Sequence[str], colours: Sequence[str] | None):
    """Colour by ``field`` in the order ``domain`` (``colours`` matched one to one, Okabe–Ito
    otherwise), with a legend that filters the marks when clicked."""
    import altair as alt

    palette = list(colours) if colours is not None else [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(domain))]
    if len(palette) != len(domain):
        raise ValueError(f"chart colours: {len(palette)} colours for {len(domain)} legend entries {list(domain)}")
    selection = alt.selection_point(fields=[field], bind="legend", name="legend_filter")
    legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=600, titleLimit=600)
    scale = alt.Scale(domain=list(domain), range=palette)
    return alt.Color(f"{field}:N", title=title, scale=scale, legend=legend), selection


def _counted(n: int, what: str) -> str:
    """'1 therapy class', '5 therapy classes', '3 cities'."""
    if n == 1:
        return f"1 {what}"
    if what.endswith(("s", "x", "ch", "sh")):
        return f"{n} {what}es"
    if what.endswith("y") and what[-2:-1] not in "aeiou":
        return f"{n} {what[:-1]}ies"
    return f"{n} {what}s"


def _present(rows: list[dict[str, Any]], field: str, domain: Sequence[str] | None) -> list[str]:
    """The values of ``field`` in ``domain`` order (only those present), then any others in row order."""
    seen = list(dict.fromkeys(r[field] for r in rows if r.get(field) is not None))
    ordered = [v for v in (domain or []) if v in seen]
    return ordered + [v for v in seen if v not in ordered]


def _order_field(rows: list[dict[str, Any]], field: str, domain: Sequence[str]) -> list[dict[str, Any]]:
    """Each row with ``_stack_order``: its colour's place in the legend, so stacks follow the legend."""
    place = {v: i for i, v in enumerate(domain)}
    return [{**r, "_stack_order": place.get(r.get(field), len(place))} for r in rows]


def grouped_bars(frame: pd.DataFrame, *, value: str, category: str, group: str, value_title: str,
                 category_title: str, group_title: str, tooltip: Mapping[str, str], colour: str,
                 colour_title: str, colour_domain: Sequence[str] | None = None,
                 colour_range: Sequence[str] | None = None, group_domain: Sequence[str] | None = None,
                 what: str = "bar") -> Chart:
    """Horizontal bars of ``value`` by ``category``, one bar per ``group`` within each category
    (side by side, e.g. products and indications of each therapy class), each stacked by
    ``colour``; categories in the frame's order. Rows that share category, group and colour
    stack as separate segments (one per row: the tooltip then shows that row).
    """
    import altair as alt

    columns = list(dict.fromkeys([category, group, value, colour, *_tooltip_columns(frame, tooltip)]))
    rows = records(frame, columns)
    order = list(dict.fromkeys(r[category] for r in rows))
    groups = _present(rows, group, group_domain)
    legend = _present(rows, colour, colour_domain)
    palette = None
    if colour_range is not None:
        by_name = dict(zip(colour_domain or [], colour_range))
        palette = [by_name.get(v, "#BBBBBB") for v in legend]
    colour_enc, selection = _legend_colour(colour, colour_title, legend, palette)
    rows = _order_field(rows, colour, legend)
    chart = _base(rows).mark_bar(stroke="white", strokeWidth=1).encode(
        y=alt.Y(f"{category}:N", title=category_title, sort=order, axis=alt.Axis(labelLimit=320)),
        yOffset=alt.YOffset(f"{group}:N", sort=groups, title=group_title),
        x=alt.X(f"{value}:Q", title=value_title, stack="zero", axis=alt.Axis(format=",.4~g", tickMinStep=1)),
        color=colour_enc, order=alt.Order("_stack_order:Q"),
        tooltip=_tooltips(frame, {group: group_title, **tooltip}, {value: "Q"}),
    ).properties(height=ROW_HEIGHT * max(len(groups), 1) * max(len(order), 1))
    table = {category: category_title, group: group_title, colour: colour_title, **_tooltip_columns(frame, tooltip)}
    spec = _finish(chart, selection, zoom=False, title=f"{value_title} by {category_title}", table=table)
    parts = []
    for g in groups:
        totals: dict[Any, float] = {}
        for r in rows:
            if r[group] == g and isinstance(r.get(value), (int, float)):
                totals[r[category]] = totals.get(r[category], 0) + r[value]
        if totals:
            top = max(totals.values())
            leaders = [k for k in order if totals.get(k) == top]
            parts.append(f"most {str(g).lower()}: {' and '.join(map(str, leaders))} ({format_value(top)})")
    summary = f"{_counted(len(order), what)}, each with bars for " + " and ".join(str(g).lower() for g in groups)
    return Chart(spec, summary + ("; " + "; ".join(parts) if parts else "") + ".")


def columns(frame: pd.DataFrame, *, value: str, category: str, value_title: str, category_title: str,
            tooltip: Mapping[str, str], colour: str | None = None, colour_title: str | None = None,
            colour_domain: Sequence[str] | None = None, colour_range: Sequence[str] | None = None,
            what: str = "column") -> Chart:
    """Vertical bars of ``value`` per ``category`` (e.g. a year), in the frame's order, stacked by
    ``colour`` (stacks and legend in ``colour_domain`` order). The summary names the largest
    column (summed over its stack)."""
    import altair as alt

    columns_ = list(dict.fromkeys([category, value, *([colour] if colour else []), *_tooltip_columns(frame, tooltip)]))
    rows = records(frame, columns_)
    order = list(dict.fromkeys(r[category] for r in rows))
    encoding: dict[str, Any] = {
        "x": alt.X(f"{category}:O", title=category_title, sort=order, axis=alt.Axis(labelAngle=0, labelOverlap="parity")),
        "y": alt.Y(f"{value}:Q", title=value_title, stack="zero", axis=alt.Axis(format=",.4~g")),
        "tooltip": _tooltips(frame, tooltip, {value: "Q"}),
    }
    selection = None
    if colour is not None:
        legend = _present(rows, colour, colour_domain)
        palette = None
        if colour_range is not None:
            by_name = dict(zip(colour_domain or [], colour_range))
            palette = [by_name.get(v, "#BBBBBB") for v in legend]
        encoding["color"], selection = _legend_colour(colour, colour_title or colour, legend, palette)
        rows = _order_field(rows, colour, legend)
        encoding["order"] = alt.Order("_stack_order:Q")
    chart = _base(rows).mark_bar().encode(**encoding).properties(height=300)
    table = {category: category_title, **({colour: colour_title or colour} if colour else {}), value: value_title,
             **_tooltip_columns(frame, tooltip)}
    spec = _finish(chart, selection, zoom=False, title=f"{value_title} by {category_title}", table=table)
    totals: dict[Any, float] = {}
    for r in rows:
        if isinstance(r.get(value), (int, float)):
            totals[r[category]] = totals.get(r[category], 0) + r[value]
    summary = f"{value_title} per {category_title.lower()}"
    if len(order) > 1:
        summary += f", {order[0]} to {order[-1]} ({_counted(len(order), what)})"
    elif order:
        summary += f", {order[0]} only"
    if colour is not None:
        summary += f", split by {(colour_title or colour).lower()}"
    if totals:
        top = max(totals.values())
        leaders = [str(k) for k in order if totals[k] == top]
        summary += f"; largest {' and '.join(leaders)} ({format_value(top)})"
    return Chart(spec, summary + ".")


def with_colours(chart: Chart, field: str, colours: Mapping[str, str]) -> Chart:
    """The same chart with the colour scale of ``field`` matched to ``colours`` (legend entry ->
    colour, e.g. a chapter's fixed colour per status); entries not in ``colours`` keep theirs."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: walk(v) for k, v in node.items()}
            colour = node.get("color")
            if isinstance(colour, dict) and colour.get("field") == field and isinstance(colour.get("scale"), dict):
                scale = colour["scale"]
                domain = scale.get("domain")
                if isinstance(domain, list):
                    old = list(scale.get("range") or [])
                    scale = {**scale, "range": [colours.get(v, old[i] if i < len(old) else "#BBBBBB")
                                                for i, v in enumerate(domain)]}
                    node["color"] = {**colour, "scale": scale}
            return node
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return Chart(walk(chart.spec), chart.summary)


def with_end_labels(chart: Chart, labels: Mapping[Any, str], *, room: float = 1.3, narrow_room: float | None = None,
                    top: float | None = None, ticks_up_to: float | None = None) -> Chart:
    """The same horizontal bar chart (from :func:`bars`) with a text at the end of each
    category's bar (e.g. '4 products', '93 % (n=346)'): ``labels`` maps a category to its text;
    the value axis runs to ``room`` times the longest bar (or times ``top``, e.g. 100 for a
    percentage) so the texts fit (``narrow_room`` on a narrow screen, see :data:`NARROW`); with
    ``ticks_up_to`` (e.g. 100 %) no tick, grid line or number is drawn beyond it."""
    spec = chart.spec
    if "mark" not in spec or "encoding" not in spec or "y" not in spec["encoding"]:
        raise ValueError("with_end_labels expects a single-view horizontal bar chart (from bars)")
    y, x = spec["encoding"]["y"], spec["encoding"]["x"]
    totals: dict[Any, float] = {}
    for r in spec["data"]["values"]:
        if isinstance(r.get(x["field"]), (int, float)):
            totals[r[y["field"]]] = totals.get(r[y["field"]], 0) + r[x["field"]]
    rows = [{y["field"]: k, "_label_at": totals.get(k, 0), "_label": text} for k, text in labels.items()]
    top = max(totals.values(), default=0) if top is None else top
    outer = {k: v for k, v in spec.items() if k not in ("mark", "encoding", "params")}
    most: Any = top * room
    if narrow_room is not None:
        most = {"expr": f"containerSize()[0] < {NARROW} ? {top * narrow_room:g} : {top * room:g}"}
    bar_x = {**x, "scale": {**x.get("scale", {}), "domainMax": most}} if top > 0 else x
    if ticks_up_to is not None:
        beyond = {"condition": {"test": f"datum.value > {ticks_up_to}", "value": 0}, "value": 1}
        bar_x = {**bar_x, "axis": {**bar_x.get("axis", {}), "tickOpacity": beyond, "gridOpacity": beyond,
                                   "labelExpr": f"datum.value > {ticks_up_to} ? '' : datum.label"}}
    bar = {"mark": spec["mark"], "encoding": {**spec["encoding"], "x": bar_x},
           **({"params": spec["params"]} if "params" in spec else {})}
    text = {"data": {"values": rows},
            "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4},
            # the same axis as the bars': layers' axes are merged, and a plainer one would win
            "encoding": {"y": y, "x": {"field": "_label_at", "type": "quantitative", "title": x.get("title"),
                                       **({"axis": bar_x["axis"]} if "axis" in bar_x else {})},
                         "text": {"field": "_label", "type": "nominal"}}}
    return Chart({**outer, "layer": [bar, text]}, chart.summary)


NARROW = 560  # pixels: a chart narrower than this (a phone) gets shorter row labels


def compact_rows(chart: Chart, *, narrow_limit: int = 110, wide_limit: int = 320) -> Chart:
    """The same row-per-item chart with row labels cut at ``narrow_limit`` pixels on a narrow
    screen (the full label stays in the tooltip and the data table), so that the bars and the
    legend below them keep room (legend texts longer than the room left end in an ellipsis), and
    without a title on the row axis (the labels say what the
    rows are; the data table keeps the heading)."""
    limit = {"expr": f"containerSize()[0] < {NARROW} ? {narrow_limit} : {wide_limit}"}
    # the legend sits below the bars, from where the row labels end
    legend_limit = {"expr": f"containerSize()[0] < {NARROW} ? containerSize()[0] - {narrow_limit + 60} : 600"}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: walk(v) for k, v in node.items()}
            y = node.get("y")
            if isinstance(y, dict) and y.get("type") == "nominal" and "field" in y:
                node["y"] = {**y, "title": None, "axis": {**(y.get("axis") or {}), "labelLimit": limit}}
            colour = node.get("color")
            if isinstance(colour, dict) and isinstance(colour.get("legend"), dict):
                node["color"] = {**colour, "legend": {**colour["legend"], "labelLimit": legend_limit,
                                                      "titleLimit": legend_limit}}
            return node
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return Chart(walk(chart.spec), chart.summary)


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
