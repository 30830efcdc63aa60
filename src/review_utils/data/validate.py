"""Check the whole data package and report every problem at once, in plain words.

Three layers, all driven by ``data/datapackage.json``:

1. file level (ours): UTF-8 with or without BOM, not empty, parseable;
2. Table Schema (Frictionless): header, types, required, enums, ranges, patterns, primary keys;
3. cross-field and cross-table rules the Table Schema cannot express, declared per resource
   under the custom ``schema.rules`` property, plus ``foreignKeys`` (checked here so that the
   message can name the referenced file and column).

Rule types understood in ``schema.rules``:

``{"type": "lessOrEqual", "fields": ["responders", "n"]}``
    the first field must not exceed the second where both are present.
``{"type": "notAfterSource", "field": "data_cut"}``
    the date must not be later than the publication date of the row's source.
``{"type": "requireAny", "fields": ["value", "value_low"]}``
    at least one of the fields must be filled in.
``{"type": "claimEvidence"}``
    every ``evidence`` cell of the claims ledger can be evaluated: items parse, the rows, columns
    and claims they name exist, and units match (see :mod:`review_utils.data.evidence`).
Registry snapshots (``data/registry/``, listed in the resource ``registry_snapshots``): each
folder exists, its files' SHA-256 are as recorded, and every record is typed and checked against
the top-level ``registrySchemas`` (see :mod:`review_utils.data.registry`).
Rule ``chapterRows`` (not declared per resource): every row a chapter module names by id in its
``ROWS`` exists, so that a renamed row is an error rather than a quiet "not available".
``{"type": "rangeWhen", "fields": ["value"], "when": {"field": "unit", "equals": "percent"}, "maximum": 100}``
    a bound that applies only to rows meeting a condition (a percentage is at most 100).
``{"type": "lessOrEqualAcrossRows", "key": ["trial", "event", "grading_system"], "field": "grade_threshold", "smaller": ["ge3", "g3_4"], "larger": "any", "compare": ["events", "value"]}``
    across rows: within each group of rows equal on ``key``, a row whose ``field`` is one of
    ``smaller`` must not exceed, in any ``compare`` column filled in on both, the row whose
    ``field`` is ``larger`` (grade >= 3 CRS is at most any-grade CRS of the same trial and scale).

The package may also declare ``"maxBytes"`` (custom property): a larger CSV is refused before it
is parsed, since no table of this project comes near it and a huge file is an export mistake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from review_utils.core.errors import DataValidationError, Problem
from review_utils.data.package import (
    DataPackage,
    Resource,
    read_text_strict,
    read_typed,
)

_CONSTRAINT_WORDS = {
    "required": "is required but empty",
    "unique": "must be unique but repeats an earlier row",
}


def validate_package(data_dir: Path, chapter_rows: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> list[Problem]:
    """Every problem in the package under ``data_dir`` (empty list: valid). ``chapter_rows``
    (chapter -> resource -> ids, see :func:`review_utils.chapters.declared_rows`) adds rule
    ``chapterRows``: every row a chapter names by id exists."""
    try:
        package = DataPackage(data_dir)
    except DataValidationError as exc:
        return exc.problems
    problems: list[Problem] = []
    frames: dict[str, Any] = {}
    for name in package.resource_names:
        resource = package.resource(name)
        file_problems = _file_level(resource, package.descriptor.get("maxBytes"))
        if file_problems:
            problems += file_problems
            continue
        # Types are read once, by the loader's rules (data.package), which are at least as strict
        # as Frictionless's: its type errors for the same cells are dropped, any other it finds
        # is kept. Bad cells are left empty, so the cross-field rules still run on the rest and
        # one run reports every problem.
        schema_problems = _schema_level(resource)
        try:
            frames[name], type_problems = read_typed(resource, lenient=True)
        except DataValidationError as exc:  # header or CSV structure: Frictionless names it already
            problems += schema_problems or exc.problems
            continue
        flagged = {(p.row, p.column) for p in type_problems}
        problems += type_problems
        problems += [p for p in schema_problems if not (p.rule.startswith("type:") and (p.row, p.column) in flagged)]
    for name, frame in frames.items():
        resource = package.resource(name)
        problems += _foreign_keys(resource, frame, package, frames)
        problems += _source_lists(resource, frame, frames)
        problems += _rules(resource, frame, frames, package)
    problems += chapter_row_problems(chapter_rows or {}, frames, package)
    problems += _registry(package, frames)
    return sorted(set(problems), key=lambda p: (p.file, p.row or 0, p.column or "", p.rule))


def check_package(data_dir: Path, chapter_rows: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> None:
    problems = validate_package(data_dir, chapter_rows)
    if problems:
        raise DataValidationError(problems)


def chapter_row_problems(chapter_rows: Mapping[str, Mapping[str, Sequence[str]]], frames: Mapping[str, Any],
                         package: DataPackage) -> list[Problem]:
    """A row that a chapter names by id but the package no longer has (renamed or deleted):
    without this check the chapter would quietly say the edition lacks it."""
    out = []
    for chapter, resources in sorted(chapter_rows.items()):
        for name, ids in sorted(resources.items()):
            where = f"src/review_utils/chapters/{chapter}.py"
            if name not in package.resource_names:
                out.append(Problem(where, None, "ROWS", name, "chapterRows",
                                   f"chapter {chapter} names rows of {name!r}, which is not a resource of the package"))
                continue
            frame = frames.get(name)
            if frame is None:
                continue  # the table has its own problems, reported already
            key = package.resource(name).descriptor["schema"].get("primaryKey")
            key = key[0] if isinstance(key, list) and len(key) == 1 else key
            if not isinstance(key, str):
                continue  # composite keys are not named by a single id
            known = set(frame[key].dropna().astype(str))
            path = package.resource(name).display_path
            for row_id in ids:
                if row_id not in known:
                    out.append(Problem(path, None, key, row_id, "chapterRows",
                                       f"chapter {chapter} names {key} {row_id!r}, which no row has; restore the row, or "
                                       f"change the chapter ({where}: ROWS and the code that uses it)"))
    return out


def _registry(package: DataPackage, frames: dict) -> list[Problem]:
    """The registry snapshots the index lists: files as recorded, records typed by registrySchemas."""
    from review_utils.data import registry

    if registry.INDEX not in frames:
        return []
    try:
        registry.schemas(package.descriptor)
    except Exception as exc:  # noqa: BLE001 - reported as a problem of the descriptor
        return [Problem("data/datapackage.json", None, registry.SCHEMAS_PROPERTY, None, "registrySchemas", str(exc))]
    return registry.validate_index(package.data_dir, frames[registry.INDEX], package.descriptor)


def _file_level(resource: Resource, max_bytes: int | None) -> list[Problem]:
    if not resource.path.is_file():
        return [Problem(resource.display_path, None, None, None, "missing-file",
                        "is listed in datapackage.json but does not exist")]
    size = resource.path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        return [Problem(resource.display_path, None, None, f"{size} bytes", "max-bytes",
                        f"is {size / 1e6:.1f} MB, above the {max_bytes / 1e6:.1f} MB limit set in datapackage.json "
                        "(maxBytes); check the export, or raise the limit if the table really is this large")]
    try:
        read_text_strict(resource)
    except DataValidationError as exc:
        return exc.problems
    return []


def _schema_level(resource: Resource) -> list[Problem]:
    from frictionless import Resource as FResource

    descriptor = {k: v for k, v in resource.descriptor.items() if k != "schema"}
    schema = {k: v for k, v in resource.descriptor["schema"].items() if k not in ("foreignKeys", "rules")}
    descriptor.update(schema=schema, encoding="utf-8-sig", path=resource.path.name)
    try:
        report = FResource(descriptor, basepath=str(resource.path.parent)).validate()
    except Exception as exc:  # frictionless raises its own errors for unreadable sources
        return [Problem(resource.display_path, None, None, None, "unreadable", f"cannot be read ({exc})")]
    fields = {f["name"]: f for f in resource.fields}
    out = []
    for task in report.tasks:
        for error in task.errors:
            out.append(_translate(resource, error, fields))
    return out


def _translate(resource: Resource, error: Any, fields: dict[str, dict]) -> Problem:
    """A Frictionless error in the project's plain words."""
    row = getattr(error, "row_number", None)
    column = getattr(error, "field_name", None) or getattr(error, "label", None)
    cell = getattr(error, "cell", None)
    note = getattr(error, "note", "") or ""
    kind = error.type
    if kind == "type-error":
        ftype = fields.get(column, {}).get("type", "?")
        hint = " (write dates as YYYY-MM-DD)" if ftype == "date" else ""
        return Problem(resource.display_path, row, column, cell, f"type:{ftype}", f"{cell!r} is not a valid {ftype}{hint}")
    if kind == "constraint-error":
        match = re.search(r'constraint "(\w+)" is "(.*)"', note)
        name, limit = (match.group(1), match.group(2)) if match else ("constraint", note)
        if name in ("minimum", "maximum"):
            words = f"{cell} is {'below the minimum' if name == 'minimum' else 'above the maximum'} {limit}"
        elif name == "enum":
            words = f"{cell!r} is not one of the allowed values: {limit}"
        elif name == "pattern":
            words = f"{cell!r} does not match the pattern {limit}"
        elif name in ("minLength", "maxLength"):
            words = f"{cell!r} is {'shorter' if name == 'minLength' else 'longer'} than {limit} characters"
        else:
            words = _CONSTRAINT_WORDS.get(name, f"breaks the constraint {name}={limit}")
        return Problem(resource.display_path, row, column, cell, f"constraint:{name}", words)
    if kind in ("primary-key", "unique-error"):
        keys = resource.descriptor["schema"].get("primaryKey")
        key_name = ",".join(keys) if isinstance(keys, list) else keys
        return Problem(resource.display_path, row, key_name, None, "primary-key",
                       f"duplicates the key of another row ({note}); keys must be unique")
    if kind.endswith("-label"):
        label, field = getattr(error, "label", None), getattr(error, "field_name", None)
        what = {"missing-label": f"the header lacks the column {field!r}",
                "extra-label": f"the header has a column {label!r} that the schema does not declare",
                "incorrect-label": f"the header says {label!r} where the schema expects {field!r}",
                "duplicate-label": f"the header repeats {label!r}",
                "blank-label": "a header name is blank"}.get(kind, error.message)
        expected = ",".join(resource.field_names)
        return Problem(resource.display_path, 1, field or label, label, "header", f"{what}; expected header: {expected}")
    if kind in ("missing-cell", "extra-cell"):
        words = "has fewer cells than the header" if kind == "missing-cell" else "has more cells than the header"
        return Problem(resource.display_path, row, column, cell, kind, words + " (check separators and quotes)")
    return Problem(resource.display_path, row, column, cell, kind, error.message)


def _foreign_keys(resource: Resource, frame, package: DataPackage, frames: dict) -> list[Problem]:
    import pandas as pd

    out = []
    for fk in resource.descriptor["schema"].get("foreignKeys", []):
        field = fk["fields"] if isinstance(fk["fields"], str) else fk["fields"][0]
        ref = fk["reference"]
        target_name = ref.get("resource") or resource.name
        ref_field = ref["fields"] if isinstance(ref["fields"], str) else ref["fields"][0]
        target = frames.get(target_name)
        if target is None:
            continue  # the referenced table has its own problems, reported already
        known = set(target[ref_field].dropna())
        target_path = package.resource(target_name).display_path
        for index, value in frame[field].items():
            if not pd.isna(value) and value not in known:
                out.append(Problem(resource.display_path, int(index) + 2, field, str(value), "foreign-key",
                                   f"{value!r} is not a {ref_field} in {target_path}; add it there or fix the id"))
    return out


def _source_lists(resource: Resource, frame, frames: dict) -> list[Problem]:
    """Columns that cite several sources in one cell (``a; b``, e.g. corroborating_source_id):
    each id must be a source_id of data/sources.csv (one-id columns are foreign keys instead)."""
    from review_utils.data.package import is_source_column
    from review_utils.data.values import is_missing

    sources = frames.get("sources")
    if sources is None or resource.name == "sources":
        return []
    single = {fk["fields"] if isinstance(fk["fields"], str) else fk["fields"][0]
              for fk in resource.descriptor["schema"].get("foreignKeys", [])}
    known = set(sources["source_id"].dropna())
    out = []
    for column in frame.columns:
        if not is_source_column(column) or column in single:
            continue
        for index, cell in frame[column].items():
            if is_missing(cell):
                continue
            for part in (p.strip() for p in str(cell).split(";")):
                if part and part not in known:
                    out.append(Problem(resource.display_path, int(index) + 2, column, part, "source-list",
                                       f"{part!r} is not a source_id in data/sources.csv; add the source there or fix the id"))
    return out


def _rules(resource: Resource, frame, frames: dict, package: DataPackage) -> list[Problem]:
    import pandas as pd

    out = []
    for rule in resource.descriptor["schema"].get("rules", []):
        kind = rule["type"]
        if kind == "lessOrEqual":
            small, big = rule["fields"]
            mask = frame[small].notna() & frame[big].notna() & (frame[small] > frame[big])
            for index in frame.index[mask.fillna(False)]:
                out.append(Problem(resource.display_path, int(index) + 2, small, _fmt(frame.at[index, small]),
                                   f"{small}<={big}",
                                   f"{_fmt(frame.at[index, small])} is more than {big} ({_fmt(frame.at[index, big])})"))
        elif kind == "requireAny":
            names = rule["fields"]
            mask = frame[names].isna().all(axis=1)
            for index in frame.index[mask]:
                out.append(Problem(resource.display_path, int(index) + 2, names[0], None, "require-any",
                                   f"needs a value in at least one of: {', '.join(names)}"))
        elif kind == "rangeWhen":
            condition = rule["when"]
            applies = frame[condition["field"]] == condition["equals"]
            for field in rule["fields"]:
                for bound, above in (("maximum", True), ("minimum", False)):
                    if bound not in rule:
                        continue
                    limit = rule[bound]
                    bad = applies & frame[field].notna() & ((frame[field] > limit) if above else (frame[field] < limit))
                    for index in frame.index[bad.fillna(False)]:
                        value = _fmt(frame.at[index, field])
                        out.append(Problem(resource.display_path, int(index) + 2, field, value,
                                           f"{field}{'<=' if above else '>='}{_fmt(limit)} when {condition['field']}={condition['equals']}",
                                           f"{value} is {'above' if above else 'below'} {_fmt(limit)}, the "
                                           f"{bound} for {condition['field']} {condition['equals']}"))
        elif kind == "lessOrEqualAcrossRows":
            out += _across_rows(resource, frame, rule)
        elif kind == "notAfterSource":
            field = rule["field"]
            sources = frames.get("sources")
            if sources is None:
                continue
            published = dict(zip(sources["source_id"], sources["published"]))
            for index, row in frame.iterrows():
                when, src = row[field], row.get("source_id")
                limit = published.get(src)
                if not pd.isna(when) and limit is not None and not pd.isna(limit) and when > limit:
                    out.append(Problem(resource.display_path, int(index) + 2, field, _fmt(when), "date-after-source",
                                       f"{_fmt(when)} is later than its source {src!r} was published ({_fmt(limit)})"))
        elif kind == "claimEvidence":
            from review_utils.data.evidence import RESOURCES_NEEDED, evidence_problems

            missing = [name for name in RESOURCES_NEEDED if name not in frames]
            if not missing:  # else those tables' own problems are already reported
                keys = {name: package.resource(name).descriptor["schema"]["primaryKey"] for name in RESOURCES_NEEDED}
                out += evidence_problems(frame, frames, keys, resource.display_path)
        else:
            out.append(Problem("data/datapackage.json", None, resource.name, kind, "unknown-rule",
                               f"resource {resource.name!r} declares an unknown rule type {kind!r}"))
    return out


def _across_rows(resource: Resource, frame, rule: Mapping[str, Any]) -> list[Problem]:
    """Rule ``lessOrEqualAcrossRows`` (see the module docstring)."""
    import pandas as pd

    key, field, larger = list(rule["key"]), rule["field"], rule["larger"]
    smaller = set(rule["smaller"])
    out = []
    upper_rows = frame[frame[field] == larger]
    upper_by_key: dict[tuple, Any] = {}
    for index, row in upper_rows.iterrows():
        upper_by_key.setdefault(tuple("" if pd.isna(row[k]) else row[k] for k in key), index)
    for index, row in frame[frame[field].isin(smaller)].iterrows():
        group = tuple("" if pd.isna(row[k]) else row[k] for k in key)
        upper = upper_by_key.get(group)
        if upper is None:
            continue
        for column in rule["compare"]:
            low, high = row[column], frame.at[upper, column]
            if pd.isna(low) or pd.isna(high) or not low > high:
                continue
            where = ", ".join(f"{k} {_fmt(v)!r}" for k, v in zip(key, group))
            out.append(Problem(
                resource.display_path, int(index) + 2, column, _fmt(low),
                f"{column}: {field} {row[field]}<={larger}",
                f"{_fmt(low)} is more than {_fmt(high)} in row {int(upper) + 2}, the {field} {larger!r} row of "
                f"the same {where}; a {field} {row[field]!r} figure cannot exceed the {larger!r} one: correct one of "
                f"the two rows"))
    return out


def _fmt(value: Any) -> str:
    if hasattr(value, "date") and callable(value.date):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
