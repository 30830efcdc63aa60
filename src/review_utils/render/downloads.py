"""The downloads offered to readers beside each table and figure: the CSV, and a bundle.

The bundle (a .zip, Our World in Data style) holds the same CSV bytes, ``datapackage.json`` (a
Frictionless tabular data resource describing the CSV: its columns with type and description,
its sources and licence) and a ``README.md`` (caption, edition date, the sources as full
citations, the licence and how to cite). Its bytes depend only on its contents: members in a
fixed order, with a fixed timestamp, compression and permissions.

Spreadsheets execute cells that start with ``=``, ``+``, ``-``, ``@``, tab or carriage return
(CSV injection, OWASP). Text cells starting that way get a leading apostrophe, which spreadsheets
show as plain text; numeric columns are left alone so that negative numbers stay numbers.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_utils.core.errors import ReviewError
from review_utils.data.bibliography import full_citation
from review_utils.data.package import is_source_column

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_string_dtype(series) or series.dtype == object:
            out[column] = series.map(neutralise, na_action="ignore")
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """Deterministic bytes: UTF-8, ``\\n`` line ends, fixed column order, no index."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(frame))


# bundles ----------------------------------------------------------------------------------------
NO_DESCRIPTION = "(no description: computed in the chapter)"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold; the same in every build
ZIP_MODE = 0o100644  # a regular file, rw-r--r--
README = "README.md"
DICTIONARY = "datapackage.json"


class UnknownSourceError(ReviewError):
    """A row behind a table or figure cites a source id that data/sources.csv does not hold."""


@dataclass(frozen=True)
class Bundle:
    """What a bundle says about its CSV besides the rows (the facade fills it from the chapter)."""

    label: str                       # tbl-... / fig-...: the CSV's and the zip's name
    caption: str
    what: str                        # "Table" or "Figure"
    as_of: Any                       # the edition date
    publication: str                 # the book's title
    publisher: str                   # the book's authors
    chapter: str                     # the notebook's stem


def field_type(series: pd.Series) -> str:
    """The Frictionless type of a column as :func:`csv_bytes` writes it."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"  # written YYYY-MM-DD by safe_frame
    return "string"


def column_descriptions(columns: Iterable[str], package: Mapping[str, Any], loaded: Iterable[str] = (),
                        describe: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each column's description: the chapter's own (``describe``) first; else the data package's
    description of a field of that name. Where resources describe the name differently, those
    the chapter loaded win; among several, the one sharing most columns with the frame (an
    approvals table's ``date_precision`` is the approvals', not the sources' loaded beside
    them), then the first in the package's order; a column no resource describes gets
    :data:`NO_DESCRIPTION`."""
    describe = dict(describe or {})
    columns = [str(c) for c in columns]
    wanted, loaded = set(columns), set(loaded)
    found: dict[str, list[tuple[tuple[int, int, int], str]]] = {}
    for order, resource in enumerate(package.get("resources", [])):
        fields = resource.get("schema", {}).get("fields", [])
        shared = len(wanted & {f["name"] for f in fields})
        rank = (0 if resource["name"] in loaded else 1, -shared, order)  # lower is better
        for field in fields:
            if field.get("description"):
                found.setdefault(field["name"], []).append((rank, field["description"]))
    out = {}
    for column in columns:
        if describe.get(column):
            out[column] = describe[column]
        elif column in found:
            out[column] = min(found[column])[1]
        else:
            out[column] = NO_DESCRIPTION
    return out


def cited_sources(frames: Iterable[pd.DataFrame], sources: pd.DataFrame, label: str) -> pd.DataFrame:
    """The rows of ``sources`` cited anywhere in the frames' source columns, sorted by id; an id
    missing from ``sources`` stops with an error naming the table or figure, column and value."""
    known = set(sources["source_id"].astype(str))
    ids: set[str] = set()
    for frame in frames:
        for column in frame.columns:
            if not is_source_column(column):
                continue
            for cell in frame[column].dropna().astype(str):
                for part in (p.strip() for p in cell.split(";")):
                    if part and part not in known:
                        raise UnknownSourceError(
                            f"{label}: column {column!r} cites source id {part!r}, which data/sources.csv does not hold. "
                            f"Add a row for {part!r} to data/sources.csv (title, date, DOI or URL), "
                            f"or correct the id in the rows behind {label}; then rebuild.")
                    if part:
                        ids.add(part)
    cited = sources[sources["source_id"].astype(str).isin(ids)]
    return cited.sort_values("source_id").reset_index(drop=True)


def _source_link(row: Any) -> str | None:
    for value, prefix in ((row.doi, "https://doi.org/"), (row.url, "")):
        if isinstance(value, str) and value.strip():
            return prefix + value.strip()
    return None


def dictionary(frame: pd.DataFrame, info: Bundle, cited: pd.DataFrame, licenses: list[dict[str, Any]],
               descriptions: Mapping[str, str]) -> dict[str, Any]:
    """The CSV's Frictionless tabular data resource descriptor, built (and so checked) by the
    ``frictionless`` library."""
    from frictionless import Resource, Schema

    schema = Schema.from_descriptor({"fields": [
        {"name": str(c), "type": field_type(frame[c]), "description": descriptions[str(c)]} for c in frame.columns]})
    sources = []
    for row in cited.itertuples(index=False):
        source = {"title": full_citation(row)}
        link = _source_link(row)
        if link:
            source["path"] = link
        sources.append(source)
    resource = Resource(
        name=info.label, path=f"{info.label}.csv", title=info.caption,
        description=f"{info.what} {info.label} of {info.publication!r}, edition of {info.as_of}.",
        format="csv", mediatype="text/csv", encoding="utf-8", schema=schema,
        licenses=[dict(item) for item in licenses], sources=sources)
    descriptor = resource.to_descriptor()
    descriptor.pop("scheme", None)  # "file": a property of where frictionless read it, not of the data
    # Frictionless v1 readers know a tabular resource by its profile (v2 by "type": "table")
    return {"profile": "tabular-data-resource", **descriptor}


def readme(info: Bundle, cited: pd.DataFrame, licenses: list[dict[str, Any]], descriptions: Mapping[str, str]) -> str:
    year = str(info.as_of)[:4]
    lines = [
        f"# {info.caption}", "",
        f"{info.what} `{info.label}` of *{info.publication}*, edition of {info.as_of} "
        f"(the record as of that date; computed in the chapter `{info.chapter}`).", "",
        "## Files", "",
        f"- `{info.label}.csv`: the data, one row per row of the {info.what.lower()} "
        "(UTF-8; text cells that a spreadsheet would run as a formula start with an apostrophe).",
        f"- `{DICTIONARY}`: the data dictionary, a Frictionless tabular data resource "
        "(https://specs.frictionlessdata.io/tabular-data-resource/): each column's type and description, "
        "the sources and the licence.",
        f"- `{README}`: this file.", "",
        "## Columns", "",
    ]
    lines += [f"- `{column}`: {text}" for column, text in descriptions.items()]
    lines += ["", "## Sources", ""]
    if cited.empty:
        lines.append("The rows cite no source: they are computed in the chapter from the book's data.")
    else:
        lines += [f"- [{row.source_id}] {full_citation(row)}" for row in cited.itertuples(index=False)]
    lines += ["", "## Licence", ""]
    for item in licenses:
        lines.append(f"- {item.get('name', '')}: {item.get('title', '')} ({item.get('path', '')})".replace(" ()", ""))
    lines += ["", "The curation (the selection, the structure and the computed columns) is ours under the licence "
              "above; the facts remain those of the cited sources, whose own terms apply to them.", "",
              "## How to cite", "",
              f"{info.publisher} ({year}). {info.caption} [data: {info.what.lower()} {info.label}]. "
              f"In: *{info.publication}*, edition of {info.as_of}. "
              f"Licence: {', '.join(str(item.get('name', '')) for item in licenses)}.", "",
              "Please cite the sources listed above for the facts themselves.", ""]
    return "\n".join(lines)


def zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip whose bytes depend only on the members: their order as given, a fixed date,
    DEFLATE at level 9, Unix regular-file permissions, no extra fields."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the OS building the book
            info.external_attr = ZIP_MODE << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def bundle_bytes(frame: pd.DataFrame, info: Bundle, *, sources: pd.DataFrame, package: Mapping[str, Any],
                 loaded: Iterable[str] = (), describe: Mapping[str, str] | None = None,
                 cites: Iterable[pd.DataFrame] = ()) -> bytes:
    """The bundle of ``frame``'s CSV. ``sources`` is data/sources.csv (typed), ``package`` the data
    package's descriptor, ``loaded`` the resources the chapter read (their descriptions win),
    ``describe`` the chapter's descriptions of its columns, ``cites`` further frames whose
    sources the bundle lists (e.g. the table as shown, when the CSV holds other columns)."""
    cited = cited_sources([frame, *cites], sources, info.label)
    licenses = list(package.get("licenses", []))
    descriptions = column_descriptions(frame.columns, package, loaded, describe)
    descriptor = dictionary(frame, info, cited, licenses, descriptions)
    return zip_bytes([
        (f"{info.label}.csv", csv_bytes(frame)),
        (DICTIONARY, (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")),
        (README, readme(info, cited, licenses, descriptions).encode("utf-8")),
    ])


def write_bundle(frame: pd.DataFrame, path: Path, info: Bundle, **given: Any) -> None:
    """Write :func:`bundle_bytes` to ``path`` (``<label>.zip``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bundle_bytes(frame, info, **given))
