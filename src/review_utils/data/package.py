"""Load the curated tables as typed pandas DataFrames, shaped by ``data/datapackage.json``.

``datapackage.json`` (a Frictionless Data Package) is the one definition of every table's shape;
this module reads field types from it rather than repeating them. Full validation (every rule,
every row) is :mod:`review_utils.data.validate`'s job and runs at the start of each build; loading here
still fails loudly, naming file, row and column, if a value cannot take its declared type.

Each load is *recorded* (resource name + fingerprint of its file and schema). Inside a Jupyter
kernel the record is also emitted as a private display output, which the build harvests to know
which data each notebook actually read, and strips before publishing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_utils.core.errors import DataValidationError, Problem, ReviewError
from review_utils.data.values import is_missing

if TYPE_CHECKING:  # pandas is imported lazily: the CLI's no-op path must stay fast
    import pandas as pd

READS_MIME = "application/vnd.review-utils.reads+json"

# Custom descriptor properties: the column an ``as_of`` filter applies to, or (for undated
# statements such as recommendations) that rows are dated by their source's publication.
AS_OF_PROPERTY = "asOfField"
AS_OF_SOURCE_PROPERTY = "asOfSource"

_reads: dict[str, dict[str, str]] = {}


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Resource:
    name: str
    path: Path
    descriptor: dict[str, Any]

    @property
    def fields(self) -> list[dict[str, Any]]:
        return self.descriptor["schema"]["fields"]

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    @property
    def as_of_fields(self) -> list[str]:
        """Date columns saying when a row became known, first present wins (``asOfField``
        is one name or a list, e.g. a result's publication date, else its data cut)."""
        declared = self.descriptor.get(AS_OF_PROPERTY) or []
        return [declared] if isinstance(declared, str) else list(declared)

    @property
    def as_of_field(self) -> str | None:
        return self.as_of_fields[0] if self.as_of_fields else None

    @property
    def display_path(self) -> str:
        return f"data/{self.descriptor['path']}"

    def fingerprint(self) -> str:
        """Changes whenever the file's bytes or the resource's declared shape change."""
        digest = hashlib.sha256(self.path.read_bytes())
        digest.update(canonical_json(self.descriptor).encode())
        return digest.hexdigest()


class DataPackage:
    """The curated data package rooted at ``data_dir`` (holding ``datapackage.json``)."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.descriptor_path = self.data_dir / "datapackage.json"
        try:
            self.descriptor = json.loads(self.descriptor_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReviewError(f"{self.descriptor_path}: data package descriptor is missing") from None
        except json.JSONDecodeError as exc:
            raise DataValidationError(
                [Problem("data/datapackage.json", exc.lineno, None, None, "json-syntax",
                         f"is not valid JSON ({exc.msg}, column {exc.colno}); fix the descriptor")]
            ) from None
        self._resources = {r["name"]: r for r in self.descriptor.get("resources", [])}

    @property
    def resource_names(self) -> list[str]:
        return list(self._resources)

    def resource(self, name: str) -> Resource:
        try:
            desc = self._resources[name]
        except KeyError:
            raise ReviewError(
                f"data/datapackage.json has no resource {name!r}; known: {', '.join(sorted(self._resources))}"
            ) from None
        return Resource(name, self.data_dir / desc["path"], desc)

    def load(self, name: str, as_of: dt.date | str | None = None) -> pd.DataFrame:
        """The table ``name`` with declared types; rows dated after ``as_of`` are left out."""
        resource = self.resource(name)
        frame = read_typed(resource)
        _record_read(resource)
        if as_of is not None and (resource.as_of_field or resource.descriptor.get(AS_OF_SOURCE_PROPERTY)):
            cutoff = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
            import pandas as pd

            known_from = self._known_from(frame, resource)
            frame = frame[known_from.isna() | (known_from <= pd.Timestamp(cutoff))].reset_index(drop=True)
        if as_of is not None and name != "sources" and any(is_source_column(c) for c in frame.columns):
            cutoff = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
            frame = self._citable(frame, cutoff)
        return frame

    def _citable(self, frame: pd.DataFrame, cutoff: dt.date) -> pd.DataFrame:
        """An edition cites only what was published by its date: later sources are taken out of
        every source column; a row whose own source is later is kept only when a corroborating
        source of the edition's time states it (that source becomes the row's source, and the
        locator, which points into the later document, is cleared), else the row is left out."""
        import pandas as pd

        sources = self.load("sources")  # recorded: the edition's rows depend on it
        late = {s for s, when in zip(sources["source_id"], sources["published"])
                if not pd.isna(when) and when > pd.Timestamp(cutoff)}
        if not late:
            return frame
        frame = frame.copy()

        def keep(cell: Any) -> Any:
            if is_missing(cell):
                return cell
            kept = [part.strip() for part in str(cell).split(";") if part.strip() and part.strip() not in late]
            return "; ".join(kept) if kept else pd.NA

        for column in frame.columns:
            if is_source_column(column) and column != "source_id":
                frame[column] = frame[column].map(keep).astype("string")
        if "source_id" in frame.columns:
            own_late = frame["source_id"].isin(late)
            if own_late.any():
                spare = frame.get("corroborating_source_id", pd.Series(pd.NA, index=frame.index, dtype="string"))
                first_spare = spare.map(lambda c: pd.NA if is_missing(c) else str(c).split(";")[0].strip())
                replace = own_late & first_spare.notna()
                frame.loc[replace, "source_id"] = first_spare[replace]
                if "locator" in frame.columns:
                    frame.loc[replace, "locator"] = pd.NA
                if "corroborating_source_id" in frame.columns:
                    frame.loc[replace, "corroborating_source_id"] = spare[replace].map(
                        lambda c: "; ".join(str(c).split("; ")[1:]) or pd.NA)
                frame = frame[~own_late | replace].reset_index(drop=True)
        return frame

    def _known_from(self, frame: pd.DataFrame, resource: Resource) -> pd.Series:
        """When each row's fact became known: its own as-of date, else its source's publication
        date (a fact cannot be known before the document reporting it). Rows with neither stay
        in every edition. Resources declaring ``asOfSource`` are dated by their source alone."""
        import pandas as pd

        dates = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        for column in resource.as_of_fields:
            dates = dates.fillna(frame[column])
        if dates.isna().any() and "source_id" in frame.columns and resource.name != "sources":
            sources = self.load("sources")  # recorded: the filter depends on it
            published = dict(zip(sources["source_id"], sources["published"]))
            dates = dates.fillna(frame["source_id"].map(published))
        return dates


def is_source_column(column: Any) -> bool:
    """A column that cites sources: ``source_id`` or ``*_source_id`` (one id or ``a; b``)."""
    return column == "source_id" or str(column).endswith("_source_id")


def read_text_strict(resource: Resource) -> str:
    """The file as text: UTF-8 (a BOM is allowed); anything else is refused with the reason."""
    raw = resource.path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataValidationError([Problem(
            resource.display_path, line, None, repr(raw[exc.start:exc.start + 4]), "encoding",
            f"is not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}); "
            "re-save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')")]) from None
    if not text.strip():
        raise DataValidationError([Problem(resource.display_path, None, None, None, "empty-file",
                                           "is empty; it needs at least the header row")])
    return text


def read_records(resource: Resource) -> list[list[str]]:
    """Header and records, parsed strictly: a stray quote, a blank line or a row whose cell
    count differs from the header is an error, never a silent shift of columns."""
    import csv
    import io

    text = read_text_strict(resource)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error as exc:
        raise DataValidationError([Problem(
            resource.display_path, len(records) + 1, None, None, "csv-syntax",
            f"cannot be parsed as CSV ({exc}, line {reader.line_num} of the file); check quotes and separators")]) from None
    problems = []
    width = len(records[0])
    for number, record in enumerate(records[1:], start=2):
        if not record:
            problems.append(Problem(resource.display_path, number, None, None, "blank-row",
                                    "is blank; remove the empty line"))
        elif len(record) != width:
            problems.append(Problem(resource.display_path, number, None, f"{len(record)} cells", "cell-count",
                                    f"has {len(record)} cells but the header has {width} (check separators and quotes)"))
    if problems:
        raise DataValidationError(problems)
    return records


def read_typed(resource: Resource, *, lenient: bool = False) -> Any:
    """Read a CSV resource into a DataFrame whose dtypes follow the Table Schema.

    Bad cells raise :class:`DataValidationError` naming each of them; with ``lenient`` the
    frame comes back with those cells empty, beside the list of problems (validation uses this
    to report every problem of a table in one pass, cross-field rules included).
    """
    import pandas as pd

    header, *rows = read_records(resource)
    expected = resource.field_names
    if header != expected:
        raise DataValidationError([Problem(
            resource.display_path, 1, None, ",".join(header), "header",
            f"header does not match the schema: expected {','.join(expected)}")])
    frame = pd.DataFrame(rows, columns=header, dtype="string") if rows else pd.DataFrame(
        {name: pd.Series([], dtype="string") for name in header})
    problems: list[Problem] = []
    typed: dict[str, Any] = {}
    for field in resource.fields:
        typed[field["name"]] = _convert_column(resource, field, frame[field["name"]], problems)
    result = pd.DataFrame(typed)
    if lenient:
        return result, problems
    if problems:
        raise DataValidationError(problems)
    return result


# The project's one type system. Every cell is read by these rules, in the loader and in
# ``review validate`` alike; they are at least as strict as Frictionless's Table Schema types
# (so a value the loader accepts never fails validation), and stricter where Frictionless is lax
# about what is a mistake in curated data:
# - a missing value is an empty cell, exactly (Frictionless's default ``missingValues``); a cell of
#   spaces is a value, and not a number;
# - integer: optional sign and digits ("007" is 7); "1.0", "1e3", "1_000" and " 1" are not integers;
# - number: decimal notation with an optional exponent, and finite: "NaN", "inf" and "1e309"
#   (which overflows) are refused, though Python's float() takes them;
# - boolean: exactly the field's ``trueValues``/``falseValues`` (Table Schema defaults: true, True,
#   TRUE, 1 / false, False, FALSE, 0), so "1" is true and "yes" or "tRuE" are not booleans;
# - date: YYYY-MM-DD with two-digit month and day, a real calendar day; a time ("2024-01-01T10:00")
#   or "2024-1-5" is refused.
_INTEGER = r"[+-]?[0-9]+"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TRUE_VALUES = ["true", "True", "TRUE", "1"]
FALSE_VALUES = ["false", "False", "FALSE", "0"]


def _convert_column(resource: Resource, field: dict[str, Any], column: pd.Series, problems: list[Problem]):
    """Convert one text column to the field's declared type, adding a Problem per bad cell."""
    import pandas as pd

    kind = field.get("type", "string")
    values = column.where(column != "", None)
    present = values.notna()
    if kind == "integer":
        good = values.str.fullmatch(_INTEGER).fillna(False).astype(bool)
        converted = pd.to_numeric(values.where(good), errors="coerce").astype("Int64")
    elif kind == "number":
        number = pd.to_numeric(values.where(values.str.fullmatch(_NUMBER).fillna(False).astype(bool)), errors="coerce")
        good = number.notna() & number.abs().lt(float("inf"))
        converted = number.where(good).astype("Float64")
    elif kind == "date":
        shaped = values.str.fullmatch(_DATE).fillna(False).astype(bool)
        converted = pd.to_datetime(values.where(shaped), format="%Y-%m-%d", errors="coerce")
        good = converted.notna()
    elif kind == "boolean":
        mapping = {v: True for v in field.get("trueValues", TRUE_VALUES)}
        mapping.update({v: False for v in field.get("falseValues", FALSE_VALUES)})
        converted = values.map(mapping).astype("boolean")
        good = converted.notna()
    else:
        return values.astype("string")
    for index in (present & ~good)[lambda s: s].index:
        hint = " (write dates as YYYY-MM-DD)" if kind == "date" else ""
        problems.append(Problem(resource.display_path, int(index) + 2, field["name"], str(values[index]),
                                f"type:{kind}", f"{values[index]!r} is not a valid {kind}{hint}"))
    return converted


def _record_read(resource: Resource) -> None:
    _emit({"resource": resource.name, "fingerprint": resource.fingerprint()})


# A file outside the data package that a notebook reads (e.g. the benchmark's results) is
# recorded under this prefix and its path from the project root; the build fingerprints it by
# its bytes, exactly like a resource, so the notebook runs again when the file changes.
FILE_READ_PREFIX = "file:"


def record_file_read(path: Path, root: Path) -> str:
    """Record that ``path`` (inside the project ``root``) was read; returns the record's name."""
    rel = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    name = FILE_READ_PREFIX + rel
    _emit({"resource": name, "fingerprint": file_fingerprint(Path(path))})
    return name


def file_fingerprint(path: Path) -> str:
    """The bytes' digest; a missing file has a fingerprint too, so its arrival is a change."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


def _emit(record: dict[str, str]) -> None:
    _reads[record["resource"]] = record
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython always present in the venv
        shell = None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        display({READS_MIME: record}, raw=True)


def reads() -> dict[str, dict[str, str]]:
    """What this process has loaded so far (resource name -> record)."""
    return dict(_reads)


# The project modules a notebook's kernel imported are recorded like the files it read, under this
# prefix and the module's dotted name, so that a notebook runs again when code it used changes and
# not when any code changes. Engine modules are left out: the kernel parent imports them whether or
# not a chapter needs them, and a change of theirs that alters outputs bumps the engine's epoch.
MODULE_READ_PREFIX = "module:"
PROJECT_PACKAGE = "review_utils"
NOT_RECORDED = ("review_utils.engine",)


def project_modules() -> dict[str, str]:
    """Dotted name -> source file of every project module this process has imported."""
    import sys

    found = {}
    for name, module in list(sys.modules.items()):
        if name != PROJECT_PACKAGE and not name.startswith(PROJECT_PACKAGE + "."):
            continue
        if name.startswith(NOT_RECORDED):
            continue
        path = getattr(module, "__file__", None)
        if path:
            found[name] = path
    return dict(sorted(found.items()))


def module_fingerprint(name: str) -> str:
    """The digest of a project module's source as this environment would import it now
    ("absent" when it no longer exists)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        return "absent"
    return file_fingerprint(Path(spec.origin))


def record_modules() -> None:
    """Record every project module imported so far that was not recorded yet (called after each
    cell of a chapter notebook; see :func:`review_utils.chapter.start`)."""
    for name, path in project_modules().items():
        key = MODULE_READ_PREFIX + name
        if key not in _reads:
            _emit({"resource": key, "fingerprint": file_fingerprint(Path(path))})
