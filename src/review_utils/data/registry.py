"""ClinicalTrials.gov snapshots: read, type, validate, add (``review registry add``) and list.

A *snapshot* is the set of trial records of one collection (e.g. the CAR-T oncology monitor's)
pulled on one day: a folder ``data/registry/<collection>/<date>/`` holding ``trials.csv`` (one
row per trial, key ``NCTId``) and ``sites.csv`` (one row per trial site), listed in the index
``data/registry/snapshots.csv`` (a resource of the data package, typed and validated like every
table). The columns of ``trials.csv`` and ``sites.csv`` are declared in ``datapackage.json`` under
the custom property ``registrySchemas`` (Table Schema fields, plus ``"column": "optional"`` for a
column a snapshot may lack); they are read *by name*, so column order may differ between snapshots
and extra columns are kept but not checked.

Three input formats are accepted by :func:`add`:

``monitor``
    a folder as the CAR-T trial monitors publish it (``trials.csv``, ``sites.csv``,
    ``metadata.json`` with ``snapshot_date``). Copied byte for byte after validation.
``ctgov-json``
    a ClinicalTrials.gov API v2 export: ``{"studies": [...]}`` or a list of study objects. Read
    one study at a time (:func:`iter_json_studies`; the standard library's decoder on a sliding
    buffer, as no streaming JSON parser is installed), so a file of several GB is never held whole.
``aact``
    AACT pipe-delimited flat files (a folder or a ``.zip``): ``studies.txt``, ``countries.txt``
    (rows with ``removed`` true are left out), ``facilities.txt``, ``conditions.txt``,
    ``interventions.txt``, ``sponsors.txt``.

The registry's own fields are taken as they are. The monitors' classification (target antigen,
disease branch), which the registry does not have, is derived for the last two formats by the
rules of :mod:`review_utils.data.registry_rules` (written out there), and marked
``ClassificationSource = rules``.

Adding is atomic: the snapshot is written to a staging folder inside ``data/registry/``, read back
and validated by the same reader the book uses, then moved into place and the index replaced in one
``os.replace``. Any problem leaves ``data/`` as it was and names the file, the record (row and NCT
id), the field and what is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_utils.core.errors import DataValidationError, Problem, ReviewError

if TYPE_CHECKING:
    import pandas as pd

INDEX = "registry_snapshots"
REGISTRY_DIR = "registry"
SCHEMAS_PROPERTY = "registrySchemas"
FORMATS = ("monitor", "ctgov-json", "aact")
# One study larger than this is refused: ClinicalTrials.gov's largest records are a few MB.
MAX_RECORD_BYTES = 16 * 1024 * 1024
NCT = re.compile(r"NCT[0-9]{8}")
_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")

# the columns written for a snapshot converted from the registry's own formats
TRIAL_COLUMNS = ["NCTId", "BriefTitle", "OverallStatus", "Phase", "Conditions", "Interventions", "StartDate",
                 "LastUpdatePostDate", "EnrollmentCount", "Countries", "LeadSponsor", "LeadSponsorClass",
                 "Branch", "TargetCategory", "SponsorType", "StartYear", "SnapshotDate", "ClassificationSource"]
SITE_COLUMNS = ["NCTId", "Facility", "City", "State", "Zip", "Country", "SiteStatus", "Latitude", "Longitude"]

# AACT writes statuses in words; the API (and the monitors) as enums
AACT_STATUS = {
    "recruiting": "RECRUITING", "not yet recruiting": "NOT_YET_RECRUITING", "active, not recruiting": "ACTIVE_NOT_RECRUITING",
    "completed": "COMPLETED", "terminated": "TERMINATED", "withdrawn": "WITHDRAWN", "suspended": "SUSPENDED",
    "enrolling by invitation": "ENROLLING_BY_INVITATION", "unknown status": "UNKNOWN", "unknown": "UNKNOWN",
    "available": "AVAILABLE", "no longer available": "NO_LONGER_AVAILABLE", "temporarily not available": "TEMPORARILY_NOT_AVAILABLE",
    "approved for marketing": "APPROVED_FOR_MARKETING", "withheld": "WITHHELD",
}
AACT_PHASE = {"early phase 1": "EARLY_PHASE1", "phase 1": "PHASE1", "phase 2": "PHASE2", "phase 3": "PHASE3",
              "phase 4": "PHASE4", "not applicable": "NA", "n/a": "NA"}


# ------------------------------------------------------------------------------------- schemas
def schemas(descriptor: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    try:
        declared = descriptor[SCHEMAS_PROPERTY]
        return {"trials": declared["trials"]["fields"], "sites": declared["sites"]["fields"]}
    except (KeyError, TypeError):
        raise ReviewError(f"data/datapackage.json has no {SCHEMAS_PROPERTY} with trials and sites fields") from None


@dataclass(frozen=True)
class _Where:
    """What :func:`review_utils.data.package._convert_column` needs to name a file."""

    display_path: str


# ------------------------------------------------------------------------------------ reading
def _decode(raw: bytes, display: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataValidationError([Problem(display, line, None, repr(raw[exc.start:exc.start + 4]), "encoding",
                                           f"is not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}, line {line} "
                                           "of the file); export it as UTF-8")]) from None


def read_table(path: Path, fields: list[dict[str, Any]], display: str, usecols: list[str] | None = None,
               typed: bool = True) -> pd.DataFrame:
    """One snapshot CSV, read by column name and typed by ``fields``; raises with every problem.
    With ``typed=False`` the cells stay text (empty = missing) and no rule is checked: for a quick
    count of a snapshot that ``review validate`` has checked already."""
    import pandas as pd

    if not path.is_file():
        raise DataValidationError([Problem(display, None, None, None, "missing-file", "does not exist")])
    try:
        wanted = None if usecols is None else (lambda name: name in usecols)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, usecols=wanted, encoding="utf-8-sig")
    except UnicodeDecodeError:
        _check_utf8(path, display)
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataValidationError([Problem(display, None, None, None, "csv-syntax",
                                           f"cannot be parsed as CSV ({str(exc).strip()}); check quotes and separators")]) from None
    problems: list[Problem] = []
    missing = [f["name"] for f in fields if f.get("column") != "optional" and f["name"] not in frame.columns]
    if missing:
        raise DataValidationError([Problem(display, 1, None, ",".join(missing), "header",
                                           f"lacks the column(s) {', '.join(missing)}, which the schema requires")])
    if not typed:
        out = {f["name"]: (frame[f["name"]].astype("string").replace("", pd.NA) if f["name"] in frame.columns
                           else pd.Series(pd.NA, index=frame.index, dtype="string")) for f in fields}
        return pd.DataFrame(out, index=frame.index)
    problems: list[Problem] = []
    result = _typed(frame, fields, display, problems)
    if problems:
        raise DataValidationError(problems)
    return result


def _typed(frame: pd.DataFrame, fields: list[dict[str, Any]], display: str, problems: list[Problem],
           seen: dict[str, dict[str, int]] | None = None) -> pd.DataFrame:
    """``frame`` (text cells; its index counts records from 0 across chunks) typed by ``fields``;
    problems are appended, each naming its row and NCT id. ``seen`` carries the values of unique
    fields across chunks."""
    import pandas as pd

    from review_utils.data.package import _convert_column

    ids = frame["NCTId"] if "NCTId" in frame.columns else pd.Series([""] * len(frame), index=frame.index)
    where = _Where(display)
    out: dict[str, Any] = {}
    found: list[Problem] = []
    for field in fields:
        name = field["name"]
        if name not in frame.columns:
            out[name] = pd.Series(pd.NA, index=frame.index, dtype="string")
            continue
        column = frame[name].astype("string")
        kind = field.get("type", "string")
        if kind == "partialDate":
            out[name] = column.where(column != "", None).astype("string")
            bad = out[name].notna() & ~out[name].map(_valid_partial_date, na_action="ignore").fillna(True).astype(bool)
            for index in bad[bad].index:
                found.append(Problem(display, int(index) + 2, name, str(column[index]), "type:partialDate",
                                     f"{column[index]!r} is not a date (YYYY-MM-DD or YYYY-MM, a real month and day)"))
        else:
            out[name] = _convert_column(where, field, column, found)
        found += _constraints(display, field, out[name], ids, None if seen is None else seen.setdefault(name, {}))
    result = pd.DataFrame(out, index=frame.index)
    # keep columns the schema does not declare (upstream's extras), untyped
    for name in frame.columns:
        if name not in result.columns:
            result[name] = frame[name].astype("string")
    problems += [_with_id(p, ids) for p in found]
    return result


MAX_PROBLEMS = 200  # a file this wrong is reported in part; the first problems say what to fix


def check_table(path: Path, fields: list[dict[str, Any]], display: str, chunk_rows: int = 25_000,
                keep: str | None = None) -> tuple[int, set[str]]:
    """Type and check a snapshot CSV in chunks (memory bounded by a chunk, not the file); returns
    its row count and the set of values of column ``keep``. Raises with the problems found."""
    import pandas as pd

    if not path.is_file():
        raise DataValidationError([Problem(display, None, None, None, "missing-file", "does not exist")])
    _check_utf8(path, display)
    problems: list[Problem] = []
    seen: dict[str, dict[str, int]] = {}
    kept: set[str] = set()
    rows = 0
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig",
                             chunksize=chunk_rows)
        for number, frame in enumerate(reader):
            if number == 0:
                missing = [f["name"] for f in fields if f.get("column") != "optional" and f["name"] not in frame.columns]
                if missing:
                    raise DataValidationError([Problem(display, 1, None, ",".join(missing), "header",
                                                       f"lacks the column(s) {', '.join(missing)}, which the schema requires")])
            _typed(frame, fields, display, problems, seen)
            rows += len(frame)
            if keep is not None and keep in frame.columns:
                kept.update(frame[keep].tolist())
            if len(problems) >= MAX_PROBLEMS:
                break
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataValidationError([Problem(display, None, None, None, "csv-syntax",
                                           f"cannot be parsed as CSV ({str(exc).strip()}); check quotes and separators")]) from None
    if problems:
        raise DataValidationError(problems)
    return rows, kept


def _check_utf8(path: Path, display: str) -> None:
    """Refuse a file that is not UTF-8, naming the line, without holding the file in memory."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                position = exc.start
                line += block[:position].count(b"\n")
                raise DataValidationError([Problem(display, line, None, repr(block[position:position + 4]), "encoding",
                                                   f"is not UTF-8 (byte {block[position]:#04x} at offset {offset + position}, "
                                                   f"line {line} of the file); export it as UTF-8")]) from None
            line += block.count(b"\n")
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DataValidationError([Problem(display, line, None, None, "encoding",
                                               "ends in the middle of a UTF-8 character; export it as UTF-8")]) from None


def _valid_partial_date(value: str) -> bool:
    match = _PARTIAL_DATE.fullmatch(value)
    if not match:
        return False
    year, month, day = match.group(1), match.group(2), match.group(3)
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return False
    return True


def _constraints(display: str, field: dict[str, Any], values: pd.Series, ids: pd.Series,
                 seen: dict[str, int] | None = None) -> list[Problem]:
    rules = field.get("constraints", {})
    name = field["name"]
    out = []
    present = values.notna()
    if rules.get("required"):
        for index in values[~present].index:
            out.append(Problem(display, int(index) + 2, name, "", "required", "is required but empty"))
    if "enum" in rules:
        bad = present & ~values.isin(rules["enum"])
        for index in values[bad].index:
            out.append(Problem(display, int(index) + 2, name, str(values[index]), "enum",
                               f"{values[index]!r} is not one of: {', '.join(rules['enum'])}"))
    if "pattern" in rules:
        ok = values.str.fullmatch(rules["pattern"]).fillna(True).astype(bool)
        for index in values[~ok].index:
            out.append(Problem(display, int(index) + 2, name, str(values[index]), "pattern",
                               f"{values[index]!r} does not match {rules['pattern']}"))
    if rules.get("unique"):
        seen = {} if seen is None else seen
        for index, value in values[present].items():
            if value in seen:
                out.append(Problem(display, int(index) + 2, name, str(value), "unique",
                                   f"{value!r} repeats row {seen[value]}; each trial must appear once"))
            else:
                seen[value] = int(index) + 2
    return out


def _with_id(problem: Problem, ids: Any) -> Problem:
    """Name the record by its NCT id as well as its row."""
    if problem.row is None or problem.row < 2 or problem.row - 2 >= len(ids):
        return problem
    nct = str(ids.iloc[problem.row - 2])
    if not nct:
        return problem
    return Problem(problem.file, problem.row, problem.column, problem.value, problem.rule,
                   f"(NCT id {nct}) {problem.message}")


@dataclass
class Snapshot:
    snapshot_id: str
    collection: str
    date: dt.date
    trials: pd.DataFrame
    sites: pd.DataFrame
    source_id: str
    sites_source_id: str


def check_folder(folder: Path, descriptor: dict[str, Any], display: str) -> tuple[int, int, int]:
    """Check ``trials.csv`` and ``sites.csv`` of a snapshot folder, every record typed, in chunks;
    returns (trials, sites, site rows of trials the trials file does not list). Raises with every
    problem of both files."""
    fields = schemas(descriptor)
    problems: list[Problem] = []
    trials = sites = unknown = 0
    ids: set[str] = set()
    try:
        trials, ids = check_table(folder / "trials.csv", fields["trials"], f"{display}/trials.csv", keep="NCTId")
    except DataValidationError as exc:
        problems += exc.problems
    try:
        sites, site_ids = check_table(folder / "sites.csv", fields["sites"], f"{display}/sites.csv", keep="NCTId")
        del site_ids
    except DataValidationError as exc:
        problems += exc.problems
    if problems:
        raise DataValidationError(problems)
    if ids:
        import pandas as pd

        site_trials = pd.read_csv(folder / "sites.csv", usecols=["NCTId"], dtype=str, keep_default_na=False)["NCTId"]
        unknown = int((~site_trials.isin(ids)).sum())
    return trials, sites, unknown


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def validate_index(data_dir: Path, index: pd.DataFrame, descriptor: dict[str, Any], *, full: bool = True) -> list[Problem]:
    """Problems of the snapshots the index lists: folder present, files' digests as recorded,
    counts as recorded and (``full``) every record typed by ``registrySchemas``."""
    problems: list[Problem] = []
    read: dict[str, Any] = {}
    index_display = f"data/{REGISTRY_DIR}/snapshots.csv"
    for number, row in enumerate(index.itertuples(index=False), start=2):
        if row.folder is None or row.folder is getattr(row, "_missing", None):
            continue
        folder = data_dir / REGISTRY_DIR / str(row.folder)
        display = f"data/{REGISTRY_DIR}/{row.folder}"
        if not folder.is_dir():
            problems.append(Problem(index_display, number, "folder", str(row.folder), "registry-folder",
                                    f"names {display}, which does not exist; restore it or remove the row"))
            continue
        for name, recorded in (("trials", row.trials_sha256), ("sites", row.sites_sha256)):
            path = folder / f"{name}.csv"
            if path.is_file() and str(recorded) != file_sha256(path):
                problems.append(Problem(index_display, number, f"{name}_sha256", str(recorded), "registry-digest",
                                        f"{display}/{name}.csv has changed since it was added (its SHA-256 differs); "
                                        "snapshots are kept as received: restore the file, or add the new one with review registry add"))
        if not full:
            continue
        if display not in read:  # a folder listed twice is read once
            try:
                read[display] = check_folder(folder, descriptor, display)
            except DataValidationError as exc:
                read[display] = None
                problems += exc.problems
        if read[display] is None:
            continue
        for column, count in zip(("trials", "sites"), read[display]):
            if int(getattr(row, column)) != count:
                problems.append(Problem(index_display, number, column, str(getattr(row, column)), "registry-count",
                                        f"says {getattr(row, column)} but {display}/{column}.csv has {count} rows"))
    return problems


def _record(path: Path, root: Path) -> None:
    from review_utils.data.package import record_file_read

    record_file_read(path, root)


def load_snapshot(data_dir: Path, row: Any, *, columns: list[str] | None = None, sites: bool = True,
                  typed: bool = True, site_columns: list[str] | None = None) -> Snapshot:
    """The snapshot an index row names, typed, its file reads recorded for incremental builds.
    Sites of trials that the snapshot's trials file does not list (the monitors keep sites of the
    trials they excluded) are left out. ``columns`` reads only those trial columns and
    ``sites=False`` skips the sites, ``typed=False`` keeps text (quicker reads for a count; every
    column is still checked by ``review validate``)."""
    import pandas as pd

    from review_utils.data.package import DataPackage

    package = DataPackage(data_dir)
    folder = data_dir / REGISTRY_DIR / str(row.folder)
    display = f"data/{REGISTRY_DIR}/{row.folder}"
    fields = schemas(package.descriptor)
    _record(folder / "trials.csv", data_dir.parent)
    trial_fields = fields["trials"] if columns is None else [f for f in fields["trials"] if f["name"] in columns]
    trials = read_table(folder / "trials.csv", trial_fields, f"{display}/trials.csv", usecols=columns, typed=typed)
    if sites:
        _record(folder / "sites.csv", data_dir.parent)
        site_fields = fields["sites"] if site_columns is None else [f for f in fields["sites"] if f["name"] in site_columns]
        site_frame = read_table(folder / "sites.csv", site_fields, f"{display}/sites.csv", usecols=site_columns, typed=typed)
        site_frame = site_frame[site_frame["NCTId"].isin(set(trials["NCTId"]))].reset_index(drop=True)
    else:
        site_frame = pd.DataFrame({f["name"]: pd.Series([], dtype="string") for f in fields["sites"]})
    trials["source_id"] = row.source_id
    site_frame["source_id"] = row.sites_source_id
    return Snapshot(str(row.snapshot_id), str(row.collection), row.snapshot_date.date(), trials, site_frame,
                    str(row.source_id), str(row.sites_source_id))


# ------------------------------------------------------------------------------- API v2 JSON
class _Buffer:
    """A window on a text stream for decoding one JSON value at a time."""

    def __init__(self, handle, display: str, chunk: int = 1 << 20):
        self.handle, self.display, self.chunk = handle, display, chunk
        self.text, self.pos, self.offset, self.eof = "", 0, 0, False

    def fill(self, size: int | None = None) -> bool:
        if self.eof:
            return False
        data = self.handle.read(size or self.chunk)
        if not data:
            self.eof = True
            return False
        self.offset += self.pos
        self.text = self.text[self.pos:] + data
        self.pos = 0
        return True

    def peek(self) -> str:
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""

    def expect(self, char: str, what: str) -> None:
        found = self.peek()
        if found != char:
            raise self.error(f"expected {char!r} {what} but found {found or 'the end of the file'!r}")
        self.pos += 1

    def value(self, decoder: json.JSONDecoder, what: str) -> Any:
        self.peek()
        start = self.offset + self.pos
        while True:
            try:
                obj, end = decoder.raw_decode(self.text, self.pos)
                # a number at the buffer's end may continue in the next chunk
                if end < len(self.text) or self.eof or not isinstance(obj, (int, float)):
                    self.pos = end
                    return obj
            except json.JSONDecodeError as exc:
                if self.eof:
                    cut = exc.msg.startswith("Unterminated") or exc.pos >= len(self.text.rstrip()) - 1
                    problem = "ends in the middle of it (the file is truncated)" if cut \
                        else f"is not valid JSON ({exc.msg} at offset {self.offset + exc.pos})"
                    raise self.error(f"{what}, starting at offset {start}, {problem}") from None
            if len(self.text) - self.pos > MAX_RECORD_BYTES:
                raise self.error(f"{what}, starting at offset {start}, is larger than {MAX_RECORD_BYTES // (1024 * 1024)} MB; "
                                 "no registry record is that large: check the export")
            self.fill(max(self.chunk, len(self.text) - self.pos))

    def error(self, message: str) -> DataValidationError:
        return DataValidationError([Problem(self.display, None, None, None, "json", message)])


def iter_json_studies(path: Path, display: str) -> Iterator[tuple[int, Any]]:
    """Yield (position, study) from an API v2 export without holding the whole file."""
    decoder = json.JSONDecoder()
    try:
        handle = open(path, encoding="utf-8-sig", errors="strict")
    except OSError as exc:
        raise ReviewError(f"{display}: cannot be read ({exc.strerror})") from None
    with handle:
        buffer = _Buffer(handle, display)
        try:
            first = buffer.peek()
            if first == "{":  # {"studies": [...], "nextPageToken": ..., ...}
                buffer.pos += 1
                found = False
                while True:
                    if buffer.peek() == "}":
                        buffer.pos += 1
                        break
                    key = buffer.value(decoder, "a key of the top-level object")
                    buffer.expect(":", f"after the key {key!r}")
                    if key == "studies" and buffer.peek() == "[":
                        found = True
                        yield from _iter_array(buffer, decoder)
                    else:
                        buffer.value(decoder, f"the value of {key!r}")
                    if buffer.peek() == ",":
                        buffer.pos += 1
                if not found:
                    raise buffer.error("has no \"studies\" list; expected {\"studies\": [...]} or a list of studies")
            elif first == "[":
                yield from _iter_array(buffer, decoder)
            else:
                raise buffer.error(f"does not start with '{{' or '[' (found {first or 'nothing'!r}); "
                                   "expected an API v2 export")
            if buffer.peek():
                raise buffer.error("has text after the end of the JSON value")
        except UnicodeDecodeError as exc:
            raise DataValidationError([Problem(display, None, None, None, "encoding",
                                               f"is not UTF-8 ({exc.reason}); the API writes UTF-8")]) from None


def _iter_array(buffer: _Buffer, decoder: json.JSONDecoder) -> Iterator[tuple[int, Any]]:
    buffer.expect("[", "to open the list of studies")
    position = 0
    if buffer.peek() == "]":
        buffer.pos += 1
        return
    while True:
        position += 1
        yield position, buffer.value(decoder, f"study {position}")
        following = buffer.peek()
        if following == ",":
            buffer.pos += 1
        elif following == "]":
            buffer.pos += 1
            return
        else:
            raise buffer.error(f"after study {position}: expected ',' or ']' but found "
                               f"{following or 'the end of the file (the file is truncated)'!r}")


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def study_record(study: Any, position: int, display: str, snapshot_date: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """One API v2 study as a trials row and its sites rows (text cells, typed later)."""
    where = f"study {position}"
    if not isinstance(study, dict):
        raise DataValidationError([Problem(display, None, None, None, "ctgov-study", f"{where} is not a JSON object")])
    protocol = study.get("protocolSection")
    if not isinstance(protocol, dict):
        nct = _get(study, "derivedSection", "miscInfoModule", "nctId") or ""
        raise DataValidationError([Problem(display, None, "protocolSection", None, "ctgov-study",
                                           f"{where}{' (' + nct + ')' if nct else ''} has no protocolSection, where the "
                                           "registry puts every field used here; is this an API v2 export?")])
    nct = _get(protocol, "identificationModule", "nctId")
    if not isinstance(nct, str) or not NCT.fullmatch(nct):
        raise DataValidationError([Problem(display, None, "protocolSection.identificationModule.nctId", str(nct), "ctgov-study",
                                           f"{where} has no valid NCT id ({nct!r}); expected NCT and 8 digits")])

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    phases = _get(protocol, "designModule", "phases") or []
    interventions = [text(_get(i, "name")) for i in (_get(protocol, "armsInterventionsModule", "interventions") or [])]
    locations = _get(protocol, "contactsLocationsModule", "locations") or []
    sites = []
    for location in locations:
        point = _get(location, "geoPoint") or {}
        sites.append({"NCTId": nct, "Facility": text(_get(location, "facility")), "City": text(_get(location, "city")),
                      "State": text(_get(location, "state")), "Zip": text(_get(location, "zip")),
                      "Country": text(_get(location, "country")), "SiteStatus": text(_get(location, "status")),
                      "Latitude": text(point.get("lat") if isinstance(point, dict) else None),
                      "Longitude": text(point.get("lon") if isinstance(point, dict) else None)})
    enrollment = _get(protocol, "designModule", "enrollmentInfo", "count")
    trial = {
        "NCTId": nct,
        "BriefTitle": text(_get(protocol, "identificationModule", "briefTitle")),
        "OverallStatus": text(_get(protocol, "statusModule", "overallStatus")),
        "Phase": "|".join(text(p) for p in phases) if isinstance(phases, list) else text(phases),
        "Conditions": "|".join(text(c) for c in (_get(protocol, "conditionsModule", "conditions") or [])),
        "Interventions": "|".join(interventions),
        "StartDate": text(_get(protocol, "statusModule", "startDateStruct", "date")),
        "LastUpdatePostDate": text(_get(protocol, "statusModule", "lastUpdatePostDateStruct", "date")),
        "EnrollmentCount": text(enrollment),
        "Countries": "|".join(sorted({s["Country"] for s in sites if s["Country"]})),
        "LeadSponsor": text(_get(protocol, "sponsorCollaboratorsModule", "leadSponsor", "name")),
        "LeadSponsorClass": text(_get(protocol, "sponsorCollaboratorsModule", "leadSponsor", "class")),
        "SnapshotDate": snapshot_date,
    }
    return trial, sites


def read_ctgov_json(path: Path, display: str, snapshot_date: str) -> tuple[list[dict], list[dict]]:
    """Every study as trials and sites rows, in memory (small files; :func:`convert` streams)."""
    trials: list[dict] = []
    sites: list[dict] = []
    for position, study in iter_json_studies(path, display):
        trial, rows = study_record(study, position, display, snapshot_date)
        trials.append(trial)
        sites += rows
    return trials, sites


def _convert_ctgov_json(path: Path, display: str, snapshot_date: str, trials_out, sites_out) -> None:
    """Stream the export into the two writers, one study at a time; duplicates are refused."""
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for position, study in iter_json_studies(path, display):
        trial, rows = study_record(study, position, display, snapshot_date)
        nct = trial["NCTId"]
        if nct in seen:
            problems.append(Problem(display, None, "NCTId", nct, "unique",
                                    f"study {position} (NCT id {nct}) repeats study {seen[nct]}; each trial must appear once"))
            if len(problems) >= 100:
                break
            continue
        seen[nct] = position
        _classify([trial])
        trials_out.writerow(trial)
        sites_out.writerows(rows)
    if problems:
        raise DataValidationError(problems)


# ---------------------------------------------------------------------------------------- AACT
AACT_FILES = ("studies", "countries", "facilities", "conditions", "interventions", "sponsors")


class _AactSource:
    def __init__(self, path: Path):
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.is_file() and zipfile.is_zipfile(path) else None
        if self.zip is None and not path.is_dir():
            raise ReviewError(f"{path}: is neither a folder nor a zip of AACT flat files")

    def open(self, name: str):
        if self.zip is not None:
            members = [m for m in self.zip.namelist() if Path(m).name == f"{name}.txt"]
            if not members:
                raise DataValidationError([Problem(f"{self.path.name}:{name}.txt", None, None, None, "missing-file",
                                                   f"the zip has no {name}.txt, which an AACT export needs")])
            return self.zip.open(members[0]), f"{self.path.name}:{members[0]}"
        file = self.path / f"{name}.txt"
        if not file.is_file():
            raise DataValidationError([Problem(str(file), None, None, None, "missing-file",
                                               f"is missing; an AACT export needs {', '.join(n + '.txt' for n in AACT_FILES)}")])
        return open(file, "rb"), str(file)


def _aact_rows(source: _AactSource, name: str, needed: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of one pipe-delimited AACT file as dicts, streamed; UTF-8 enforced, line located."""
    handle, display = source.open(name)
    with handle:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="strict", newline="")
        reader = csv.reader(_bounded_lines(text, display), delimiter="|", quoting=csv.QUOTE_NONE)
        try:
            header = next(reader)
        except StopIteration:
            raise DataValidationError([Problem(display, None, None, None, "empty-file", "is empty")]) from None
        except UnicodeDecodeError:
            raise _aact_encoding(source, name, display) from None
        missing = [c for c in needed if c not in header]
        if missing:
            raise DataValidationError([Problem(display, 1, None, "|".join(header), "header",
                                               f"lacks the column(s) {', '.join(missing)}")])
        positions = {c: header.index(c) for c in needed}
        line = 1
        try:
            for line, record in enumerate(reader, start=2):
                if not record:
                    continue
                if len(record) != len(header):
                    raise DataValidationError([Problem(display, line, None, f"{len(record)} cells", "cell-count",
                                                       f"has {len(record)} fields but the header has {len(header)}")])
                yield line, {c: record[i] for c, i in positions.items()}
        except UnicodeDecodeError:
            raise _aact_encoding(source, name, display) from None


def _aact_encoding(source: _AactSource, name: str, display: str) -> DataValidationError:
    """The decoder reads ahead, so find the first line that is not UTF-8 again, in bytes."""
    handle, _ = source.open(name)
    with handle:
        number = 0
        while True:
            raw = handle.readline(MAX_RECORD_BYTES + 1)
            if not raw:
                break
            number += 1
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return DataValidationError([Problem(
                    display, number, None, repr(raw[exc.start:exc.start + 4]), "encoding",
                    f"is not UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1} of line {number}); "
                    "AACT writes UTF-8: re-download the export")])
    return DataValidationError([Problem(display, None, None, None, "encoding", "is not UTF-8")])


def _bounded_lines(text, display: str) -> Iterator[str]:
    number = 0
    while True:
        line = text.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_RECORD_BYTES and not line.endswith("\n"):
            raise DataValidationError([Problem(display, number, None, None, "line-length",
                                               f"line {number} is longer than {MAX_RECORD_BYTES // (1024 * 1024)} MB; "
                                               "no AACT record is that large: check the export")])
        yield line


def _aact_phase(value: str) -> str:
    if not value:
        return ""
    parts = re.split(r"\s*/\s*|\|", value.strip())
    out = []
    for part in parts:
        key = part.strip().lower()
        out.append(AACT_PHASE.get(key, part.strip().upper().replace(" ", "")))
    return "|".join(out)


def read_aact(path: Path, snapshot_date: str, sites_out=None) -> tuple[list[dict], list[dict]]:
    """Trials and sites of an AACT export; with ``sites_out`` (a csv writer) the sites are
    written there as they are read instead of being returned."""
    source = _AactSource(path)
    trials: dict[str, dict[str, str]] = {}
    order: list[str] = []
    duplicates: list[Problem] = []
    display = f"{path.name}/studies.txt"
    for line, row in _aact_rows(source, "studies", ["nct_id", "brief_title", "overall_status", "phase", "start_date",
                                                     "last_update_posted_date", "enrollment"]):
        nct = row["nct_id"]
        if nct in trials:
            duplicates.append(Problem(display, line, "nct_id", nct, "unique",
                                      f"(NCT id {nct}) repeats line {trials[nct]['_line']}; each trial must appear once"))
            continue
        status = row["overall_status"]
        trials[nct] = {"NCTId": nct, "BriefTitle": row["brief_title"],
                       "OverallStatus": AACT_STATUS.get(status.strip().lower(), status),
                       "Phase": _aact_phase(row["phase"]), "Conditions": "", "Interventions": "",
                       "StartDate": row["start_date"], "LastUpdatePostDate": row["last_update_posted_date"],
                       "EnrollmentCount": row["enrollment"], "Countries": "", "LeadSponsor": "", "LeadSponsorClass": "",
                       "SnapshotDate": snapshot_date, "_line": str(line)}
        order.append(nct)
    lists: dict[str, dict[str, list[str]]] = {"Conditions": {}, "Interventions": {}, "Countries": {}}
    for _, row in _aact_rows(source, "conditions", ["nct_id", "name"]):
        lists["Conditions"].setdefault(row["nct_id"], []).append(row["name"])
    for _, row in _aact_rows(source, "interventions", ["nct_id", "name"]):
        lists["Interventions"].setdefault(row["nct_id"], []).append(row["name"])
    for _, row in _aact_rows(source, "countries", ["nct_id", "name", "removed"]):
        if row["removed"].strip().lower() not in ("t", "true", "1"):
            lists["Countries"].setdefault(row["nct_id"], []).append(row["name"])
    for _, row in _aact_rows(source, "sponsors", ["nct_id", "agency_class", "lead_or_collaborator", "name"]):
        if row["lead_or_collaborator"].strip().lower() == "lead" and row["nct_id"] in trials:
            trials[row["nct_id"]]["LeadSponsor"] = row["name"]
            trials[row["nct_id"]]["LeadSponsorClass"] = row["agency_class"].upper()
    for column, values in lists.items():
        for nct, items in values.items():
            if nct in trials:
                trials[nct][column] = "|".join(sorted(set(items)) if column == "Countries" else items)
    sites = []
    for _, row in _aact_rows(source, "facilities", ["nct_id", "status", "name", "city", "state", "zip", "country"]):
        site = {"NCTId": row["nct_id"], "Facility": row["name"], "City": row["city"], "State": row["state"],
                "Zip": row["zip"], "Country": row["country"],
                "SiteStatus": AACT_STATUS.get(row["status"].strip().lower(), row["status"]),
                "Latitude": "", "Longitude": ""}
        if sites_out is None:
            sites.append(site)
        else:
            sites_out.writerow(site)
    if duplicates:
        raise DataValidationError(duplicates)
    rows = [trials[n] for n in order]
    for row in rows:
        row.pop("_line")
    return rows, sites


# --------------------------------------------------------------------------------- converting
def _classify(trials: list[dict]) -> None:
    from review_utils.data import registry_rules as rules

    for trial in trials:
        trial["Branch"] = rules.branch(trial["Conditions"], trial["BriefTitle"])
        trial["TargetCategory"] = rules.target(trial["Interventions"], trial["BriefTitle"])
        trial["SponsorType"] = rules.sponsor_type(trial["LeadSponsorClass"])
        match = _PARTIAL_DATE.fullmatch(trial["StartDate"] or "")
        trial["StartYear"] = match.group(1) if match else ""
        trial["ClassificationSource"] = "rules"


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "trials.csv").is_file():
            return "monitor"
        if (path / "studies.txt").is_file():
            return "aact"
        raise ReviewError(f"{path}: a folder with neither trials.csv (a monitor snapshot) nor studies.txt (AACT)")
    if zipfile.is_zipfile(path):
        return "aact"
    if path.suffix.lower() == ".json":
        return "ctgov-json"
    raise ReviewError(f"{path}: not a snapshot folder, an AACT folder or zip, or a .json API v2 export")


class SnapshotRefused(DataValidationError):
    """``review registry add`` found problems in its input; nothing was added."""

    def render(self, limit: int | None = None) -> str:
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [f"The snapshot was not added ({len(self.problems)} problem(s)); data/ is unchanged:"]
        lines += [f"  - {p}" for p in shown]
        if limit is not None and len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        lines.append("Fix the input (or export it again), then run review registry add again.")
        return "\n".join(lines)


@dataclass
class Added:
    snapshot_id: str
    folder: str
    trials: int
    sites: int
    input_format: str


def add(data_dir: Path, path: Path, *, source: str | None = None, date: str | None = None,
        source_id: str = "ctgov_cart_trials", sites_source_id: str = "ctgov_cart_sites") -> Added:
    """Validate the snapshot at ``path`` and add it to the package, or change nothing."""
    try:
        return _add(data_dir, path, source=source, date=date, source_id=source_id, sites_source_id=sites_source_id)
    except SnapshotRefused:
        raise
    except DataValidationError as exc:
        raise SnapshotRefused(exc.problems) from None


def _add(data_dir: Path, path: Path, *, source: str | None, date: str | None, source_id: str,
         sites_source_id: str) -> Added:

    from review_utils.data.package import DataPackage, read_typed

    path = Path(path)
    if not path.exists():
        raise ReviewError(f"{path}: does not exist")
    package = DataPackage(data_dir)
    index_resource = package.resource(INDEX)
    index = read_typed(index_resource)
    fmt = detect_format(path)
    display = path.name
    if date is not None:
        try:
            dt.date.fromisoformat(date)
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", date):
                raise ValueError
        except ValueError:
            raise ReviewError(f"--date {date!r} is not a day written YYYY-MM-DD") from None
    if fmt == "monitor":
        meta_path = path / "metadata.json"
        stated = None
        if meta_path.is_file():
            try:
                stated = json.loads(_decode(meta_path.read_bytes(), f"{display}/metadata.json")).get("snapshot_date")
            except json.JSONDecodeError as exc:
                raise DataValidationError([Problem(f"{display}/metadata.json", exc.lineno, None, None, "json",
                                                   f"is not valid JSON ({exc.msg})")]) from None
        if stated and date and stated != date:
            raise ReviewError(f"{display}/metadata.json says snapshot_date {stated}, but --date says {date}; "
                              "give the day the records were pulled")
        date = date or stated
        source = source or path.parent.name
    if not date:
        raise ReviewError(f"{display}: the input does not state the day its records were pulled; give it with --date YYYY-MM-DD")
    if not source or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", source):
        raise ReviewError(f"--source {source!r}: give the collection's name in lower case, e.g. ctgov-car-t-oncology")
    snapshot_id = f"{source}/{date}"
    if snapshot_id in set(index["snapshot_id"].dropna()):
        raise ReviewError(f"snapshot {snapshot_id} is already in data/{REGISTRY_DIR}/snapshots.csv; nothing added")
    registry = data_dir / REGISTRY_DIR
    final = registry / source / date
    if final.exists():
        raise ReviewError(f"data/{REGISTRY_DIR}/{snapshot_id} exists already; nothing added")
    registry.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=registry))
    try:
        if fmt == "monitor":
            for name in os.listdir(path):
                if (path / name).is_file():
                    shutil.copyfile(path / name, staging / name)
            classification = "upstream"
        else:
            with open(staging / "trials.csv", "w", encoding="utf-8", newline="") as t_handle, \
                    open(staging / "sites.csv", "w", encoding="utf-8", newline="") as s_handle:
                trials_out = csv.DictWriter(t_handle, fieldnames=TRIAL_COLUMNS, extrasaction="ignore", lineterminator="\n")
                sites_out = csv.DictWriter(s_handle, fieldnames=SITE_COLUMNS, extrasaction="ignore", lineterminator="\n")
                trials_out.writeheader()
                sites_out.writeheader()
                if fmt == "ctgov-json":
                    _convert_ctgov_json(path, display, date, trials_out, sites_out)
                else:
                    trials, _ = read_aact(path, date, sites_out=sites_out)
                    _classify(trials)
                    trials_out.writerows(trials)
                    del trials
            classification = "rules"
        n_trials, n_sites, n_unknown = _read_staged(staging, package.descriptor, display, fmt)
        row = {
            "snapshot_id": snapshot_id, "collection": source, "snapshot_date": date, "folder": f"{source}/{date}",
            "input_format": fmt, "trials": str(n_trials), "sites": str(n_sites),
            "trials_sha256": file_sha256(staging / "trials.csv"), "sites_sha256": file_sha256(staging / "sites.csv"),
            "source_id": source_id, "sites_source_id": sites_source_id, "classification": classification,
            "note": (f"{n_unknown} site rows belong to trials not in trials.csv (left out when read)"
                     if n_unknown else ""),
        }
        new_index = _index_text(index_resource.path, index_resource.field_names, row)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, final)
        try:
            tmp = index_resource.path.with_suffix(".csv.tmp")
            tmp.write_text(new_index, encoding="utf-8", newline="")
            os.replace(tmp, index_resource.path)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Added(snapshot_id, row["folder"], int(row["trials"]), int(row["sites"]), fmt)


def _read_staged(staging: Path, descriptor: dict, display: str, fmt: str):
    if fmt == "monitor":
        return check_folder(staging, descriptor, display)
    try:
        return check_folder(staging, descriptor, "converted")
    except DataValidationError as exc:
        # converted files: name the input, and the record by its position and NCT id
        raise DataValidationError([Problem(display, None, p.column, p.value, p.rule,
                                           (f"record {p.row - 1} ({p.file.split('/')[-1][:-4]}) " if p.row else "") + p.message)
                                   for p in exc.problems]) from None


def _index_text(path: Path, columns: list[str], row: dict[str, str]) -> str:
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    if not existing.strip():
        existing = ",".join(columns) + "\n"
    if not existing.endswith("\n"):
        existing += "\n"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([row.get(c, "") for c in columns])
    return existing + out.getvalue()


def listing(data_dir: Path) -> list[str]:
    """One line per snapshot: id, format, date, trials, sites."""
    from review_utils.data.package import DataPackage, read_typed

    index = read_typed(DataPackage(data_dir).resource(INDEX))
    lines = []
    for row in index.sort_values(["collection", "snapshot_date"]).itertuples(index=False):
        lines.append(f"{row.collection}  {row.snapshot_date.date().isoformat()}  {row.trials} trials  "
                     f"{row.sites} sites  ({row.input_format}, classification: {row.classification})")
    return lines
