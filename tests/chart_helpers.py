"""Reading an interactive chart's specification back in tests: its data rows, tooltip fields,
legend and the table the site offers beside it (never through the builder's own code)."""

from __future__ import annotations

from typing import Any

INTERNAL = ("_id", "safety_id", "price_id", "innovation_id", "figure_id", "event_id", "finding_id")


def values(chart) -> list[dict[str, Any]]:
    """The chart's own data rows (the spec's top-level inline data)."""
    return chart.spec["data"]["values"]


def walk(node: Any, key: str) -> list[Any]:
    """Every value stored under ``key`` anywhere in the spec."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found += walk(v, key)
    elif isinstance(node, list):
        for v in node:
            found += walk(v, key)
    return found


def tooltip_entries(spec: Any) -> list[dict[str, Any]]:
    """Every tooltip entry anywhere in a spec (a tooltip is one entry or a list of them)."""
    return [entry for tip in walk(spec, "tooltip") for entry in (tip if isinstance(tip, list) else [tip])
            if isinstance(entry, dict)]


def tooltip_fields(chart) -> set[str]:
    return {entry["field"] for entry in tooltip_entries(chart.spec) if "field" in entry}


def tooltip_titles(chart) -> set[str]:
    return {entry["title"] for entry in tooltip_entries(chart.spec) if "title" in entry}


def table_columns(chart) -> list[str]:
    return [column for column, _ in chart.spec["usermeta"]["table"]]


def assert_reader_tooltips(chart) -> None:
    """The source is in the tooltip, and no internal key column is (tooltip or data table)."""
    fields = tooltip_fields(chart)
    assert "source_id" in fields and "Source" in tooltip_titles(chart)
    shown = fields | set(table_columns(chart))
    assert not [f for f in shown if f in INTERNAL or f.endswith("_id") and f != "source_id"], shown


def legend_filters(chart) -> bool:
    """True when a selection is bound to the legend (clicking a legend entry filters the marks)."""
    return any(isinstance(param, dict) and param.get("bind") == "legend"
               for params in walk(chart.spec, "params") for param in params)


def zooms(chart) -> bool:
    """True when an interval selection is bound to the scales (drag and wheel zoom)."""
    return any(isinstance(param, dict) and param.get("bind") == "scales"
               for params in walk(chart.spec, "params") for param in params)
