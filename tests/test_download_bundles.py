"""The data bundles beside each table and figure: a zip of the CSV, a README and a Frictionless
data dictionary. Expected texts are read here from data/sources.csv and data/datapackage.json
with the standard library, not from the code under test."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from review_utils.core.errors import ReviewError
from review_utils.data.package import DataPackage
from review_utils.render.downloads import (
    NO_DESCRIPTION,
    Bundle,
    bundle_bytes,
    column_descriptions,
    csv_bytes,
    write_bundle,
    write_csv,
)

REPO = Path(__file__).resolve().parents[1]
DESCRIPTOR = json.loads((REPO / "data/datapackage.json").read_text(encoding="utf-8"))
# a real journal article of the data (with authors, journal, publisher and DOI) and a web source
ARTICLE, WEB = "ying2021_cancermed", "biospace_axicel_2l"
INFO = Bundle(label="tbl-test", caption="Approvals by product, a test", what="Table",
              as_of=dt.date(2025, 6, 30), publication="A review book", publisher="The authors", chapter="test")


def source_row(source_id: str) -> dict[str, str]:
    with open(REPO / "data/sources.csv", encoding="utf-8-sig", newline="") as handle:
        return next(r for r in csv.DictReader(handle) if r["source_id"] == source_id)


def field_description(resource: str, field: str) -> str:
    found = next(r for r in DESCRIPTOR["resources"] if r["name"] == resource)
    return next(f["description"] for f in found["schema"]["fields"] if f["name"] == field)


@pytest.fixture(scope="module")
def sources() -> pd.DataFrame:
    return DataPackage(REPO / "data").load("sources")


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "approval_id": ["A01", "A02"],
        "approval_date": pd.to_datetime(["2021-06-22", "2021-09-03"]),
        "share": [0.25, -0.5],
        "computed_total": pd.array([3, None], dtype="Int64"),
        "display_text": ["=HYPERLINK(\"x\")", "plain"],
        "source_id": [ARTICLE, WEB],
        "corroborating_source_id": [pd.NA, f"{ARTICLE}; {WEB}"],
    })


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def make(frame, sources, **given) -> bytes:
    given.setdefault("loaded", ["approvals", "sources"])
    return bundle_bytes(frame, INFO, sources=sources, package=DESCRIPTOR, **given)


def test_bundle_holds_the_csv_the_dictionary_and_the_readme_in_that_order(frame, sources, tmp_path):
    data = make(frame, sources)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["tbl-test.csv", "datapackage.json", "README.md"]
        assert archive.testzip() is None
        # fixed attributes: no build time, no OS-dependent permissions
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.create_system for i in infos} == {3} and {i.external_attr >> 16 for i in infos} == {0o100644}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    # the CSV is byte for byte the plain download, formulas neutralised
    write_csv(frame, tmp_path / "plain.csv")
    assert members(data)["tbl-test.csv"] == (tmp_path / "plain.csv").read_bytes() == csv_bytes(frame)
    assert b"'=HYPERLINK" in members(data)["tbl-test.csv"]


def test_two_writes_give_identical_bytes(frame, sources, tmp_path):
    write_bundle(frame, tmp_path / "a" / "tbl-test.zip", INFO, sources=sources, package=DESCRIPTOR)
    write_bundle(frame.copy(), tmp_path / "b" / "tbl-test.zip", INFO, sources=sources.copy(), package=DESCRIPTOR)
    assert (tmp_path / "a/tbl-test.zip").read_bytes() == (tmp_path / "b/tbl-test.zip").read_bytes()
    # and the bytes follow the contents: another caption, another zip
    other = Bundle(**{**INFO.__dict__, "caption": "Another caption"})
    assert bundle_bytes(frame, other, sources=sources, package=DESCRIPTOR) != (tmp_path / "a/tbl-test.zip").read_bytes()


def test_readme_has_caption_edition_full_citations_licence_and_how_to_cite(frame, sources):
    readme = members(make(frame, sources))["README.md"].decode("utf-8")
    assert readme.startswith("# Approvals by product, a test\n")
    assert "edition of 2025-06-30" in readme
    article, web = source_row(ARTICLE), source_row(WEB)
    line = next(x for x in readme.splitlines() if x.startswith(f"- [{ARTICLE}]"))
    assert article["title"] in line and f"https://doi.org/{article['doi']}" in line
    assert article["container"] in line and article["published"][:4] in line
    assert article["authors"].split()[0] in line  # the first author's family name
    web_line = next(x for x in readme.splitlines() if x.startswith(f"- [{WEB}]"))
    assert web["title"] in web_line and web["url"] in web_line and web["published"][:4] in web_line
    assert readme.count("\n- [") == 2  # each source once, though cited in two columns
    licence = DESCRIPTOR["licenses"][0]
    assert licence["name"] == "CC-BY-4.0" and licence["path"] in readme and licence["title"] in readme
    assert "facts remain those of the cited sources" in readme
    cite = readme[readme.index("## How to cite"):]
    assert "The authors (2025). Approvals by product, a test" in cite and "A review book" in cite


def test_dictionary_is_a_frictionless_resource_and_the_csv_validates_against_it(frame, sources, tmp_path):
    from frictionless import Resource, validate

    contents = members(make(frame, sources, describe={"share": "Share of the approvals, computed."}))
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    descriptor = json.loads(contents["datapackage.json"])
    assert descriptor["path"] == "tbl-test.csv" and descriptor["name"] == "tbl-test"
    assert descriptor["profile"] == "tabular-data-resource" and descriptor["title"] == INFO.caption
    assert descriptor["licenses"] == DESCRIPTOR["licenses"]
    # sorted by id (biospace... before ying...), each with its DOI link, else its URL
    assert [s["path"] for s in descriptor["sources"]] == [source_row(WEB)["url"],
                                                         "https://doi.org/" + source_row(ARTICLE)["doi"]]
    assert source_row(ARTICLE)["title"] in descriptor["sources"][1]["title"]
    fields = {f["name"]: f for f in descriptor["schema"]["fields"]}
    assert list(fields) == list(frame.columns)
    assert {n: f["type"] for n, f in fields.items()} == {
        "approval_id": "string", "approval_date": "date", "share": "number", "computed_total": "integer",
        "display_text": "string", "source_id": "string", "corroborating_source_id": "string"}
    # descriptions: the data package's for columns of a resource, the chapter's for computed ones
    assert fields["approval_date"]["description"] == field_description("approvals", "approval_date")
    assert fields["share"]["description"] == "Share of the approvals, computed."
    assert fields["computed_total"]["description"] == NO_DESCRIPTION == "(no description: computed in the chapter)"
    assert fields["display_text"]["description"] == NO_DESCRIPTION
    assert Resource.validate_descriptor(descriptor).valid
    report = validate(str(tmp_path / "datapackage.json"), type="resource")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    # a CSV that does not match its dictionary is refused: the validation can fail
    (tmp_path / "tbl-test.csv").write_text((tmp_path / "tbl-test.csv").read_text().replace("0.25", "a quarter"))
    assert not validate(str(tmp_path / "datapackage.json"), type="resource").valid


def test_the_readme_lists_every_column_with_its_description(frame, sources):
    readme = members(make(frame, sources))["README.md"].decode("utf-8")
    assert f"- `computed_total`: {NO_DESCRIPTION}" in readme
    assert f"- `approval_date`: {field_description('approvals', 'approval_date')}" in readme


def test_a_name_described_differently_by_several_resources_takes_the_loaded_ones_description():
    # 'published' means a different thing in efficacy, safety and sources
    texts = {r: field_description(r, "published") for r in ("efficacy", "safety", "sources")}
    assert len(set(texts.values())) == 3
    for loaded in ("safety", "efficacy", "sources"):
        assert column_descriptions(["published"], DESCRIPTOR, [loaded]) == {"published": texts[loaded]}
    # none of them loaded: the first in the package's order, the same in every build
    first = next(r["name"] for r in DESCRIPTOR["resources"]
                 if any(f["name"] == "published" for f in r["schema"]["fields"]))
    assert column_descriptions(["published"], DESCRIPTOR, ["products"]) == {"published": texts[first]}
    # several loaded: the resource sharing most columns with the frame, whatever the package order
    precision = {r: field_description(r, "date_precision") for r in ("approvals", "sources")}
    assert len(set(precision.values())) == 2
    approvals_like = ["approval_id", "approval_date", "indication", "date_precision"]
    sources_like = ["title", "published", "doi", "date_precision"]
    assert column_descriptions(approvals_like, DESCRIPTOR, ["sources", "approvals"])["date_precision"] == precision["approvals"]
    assert column_descriptions(sources_like, DESCRIPTOR, ["sources", "approvals"])["date_precision"] == precision["sources"]
    # the chapter's own description wins over the package's
    assert column_descriptions(["published"], DESCRIPTOR, ["safety"], {"published": "ours"}) == {"published": "ours"}


def test_an_unknown_source_id_names_label_column_and_value(frame, sources):
    bad = frame.assign(corroborating_source_id=[pd.NA, f"{WEB}; no_such_source_2099"])
    with pytest.raises(ReviewError) as caught:
        make(bad, sources)
    message = str(caught.value)
    assert "tbl-test" in message and "'corroborating_source_id'" in message and "'no_such_source_2099'" in message
    assert "data/sources.csv" in message and "Add a row" in message


def test_a_frame_without_sources_says_so(sources):
    readme = members(make(pd.DataFrame({"year": [2020, 2021], "n": [1, 2]}), sources))["README.md"].decode()
    assert "The rows cite no source" in readme and "\n- [" not in readme


def test_the_facade_writes_csv_and_bundle_and_links_both(tmp_path, monkeypatch):
    import IPython.display

    from review_utils import chapter

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **_: shown.append(obj))
    monkeypatch.setenv("REVIEW_ROOT", str(REPO))
    ch = chapter.start("bundletest", out_dir=tmp_path, as_of="2025-06-30")
    approvals = ch.load("approvals").head(3)[["approval_id", "approval_date", "source_id"]]
    ch.table(approvals.assign(rank=[1, 2, 3]), label="tbl-bundle", caption="Three approvals",
             describe={"rank": "Order of approval, computed."})
    folder = tmp_path / "_generated/bundletest"
    contents = members((folder / "tbl-bundle.zip").read_bytes())
    assert contents["tbl-bundle.csv"] == (folder / "tbl-bundle.csv").read_bytes()
    fields = {f["name"]: f["description"] for f in json.loads(contents["datapackage.json"])["schema"]["fields"]}
    assert fields["rank"] == "Order of approval, computed."
    assert fields["approval_date"] == field_description("approvals", "approval_date")
    assert "edition of 2025-06-30" in contents["README.md"].decode()
    markdown = shown[-1].data
    assert "{download}`Table data (CSV) <_generated/bundletest/tbl-bundle.csv>` ·" in markdown
    assert "{download}`Data bundle with sources and dictionary (ZIP) <_generated/bundletest/tbl-bundle.zip>`" in markdown
