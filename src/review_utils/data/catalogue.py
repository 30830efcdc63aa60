"""What the book stands on: a data dictionary and a provenance table, generated from the package."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.data.package import DataPackage

if TYPE_CHECKING:
    import pandas as pd


def describe_constraints(field: dict[str, Any]) -> str:
    """The field's rules in words: required, allowed values, range, pattern, uniqueness."""
    rules = field.get("constraints", {})
    parts = []
    if rules.get("required"):
        parts.append("required")
    if rules.get("unique"):
        parts.append("unique")
    if "enum" in rules:
        parts.append("one of: " + ", ".join(map(str, rules["enum"])))
    if "minimum" in rules and "maximum" in rules:
        parts.append(f"from {rules['minimum']} to {rules['maximum']}")
    elif "minimum" in rules:
        parts.append(f"at least {rules['minimum']}")
    elif "maximum" in rules:
        parts.append(f"at most {rules['maximum']}")
    if "pattern" in rules:
        parts.append(f"pattern {rules['pattern']}")
    return "; ".join(parts)


def data_dictionary(package: DataPackage) -> pd.DataFrame:
    """One row per field of every resource, in descriptor order."""
    import pandas as pd

    rows = []
    for name in package.resource_names:
        resource = package.resource(name)
        keys = resource.descriptor["schema"].get("primaryKey", [])
        keys = [keys] if isinstance(keys, str) else keys
        for field in resource.fields:
            rows.append({
                "resource": name,
                "file": resource.display_path,
                "field": field["name"],
                "type": field.get("type", "string"),
                "key": "primary key" if field["name"] in keys else "",
                "rules": describe_constraints(field),
                "description": field.get("description", ""),
            })
    return pd.DataFrame(rows)


def resource_summary(package: DataPackage, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per resource: title, file, rows in this edition, and what dates filter it."""
    import pandas as pd

    rows = []
    for name in package.resource_names:
        resource = package.resource(name)
        rows.append({
            "resource": name,
            "title": resource.descriptor.get("title", name),
            "file": resource.display_path,
            "rows": len(tables[name]),
            "filtered_by": resource.as_of_field or "",
            "description": resource.descriptor.get("description", ""),
        })
    return pd.DataFrame(rows)


def provenance(tables: dict[str, pd.DataFrame], sources: pd.DataFrame) -> pd.DataFrame:
    """Rows contributed by each source, per resource, for the sources that any row cites."""
    import pandas as pd

    counts: dict[str, dict[str, int]] = {}
    for name, frame in tables.items():
        if name == "sources" or "source_id" not in frame.columns:
            continue
        for source_id, n in frame["source_id"].dropna().value_counts().items():
            counts.setdefault(str(source_id), {})[name] = int(n)
    meta = sources.set_index("source_id")
    rows = []
    for source_id in sorted(counts, key=lambda s: (-sum(counts[s].values()), s)):
        per = counts[source_id]
        rows.append({
            "source_id": source_id,
            "kind": meta.at[source_id, "kind"] if source_id in meta.index else "",
            "language": meta.at[source_id, "language"] if source_id in meta.index else "",
            "rows": sum(per.values()),
            "resources": ", ".join(f"{k} {v}" for k, v in sorted(per.items())),
        })
    return pd.DataFrame(rows, columns=["source_id", "kind", "language", "rows", "resources"])
