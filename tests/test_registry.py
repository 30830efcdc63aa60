"""Registry snapshots: the shared snapshots as committed, `review registry add` on each input
format (a small API v2 export and a small AACT folder under tests/data/registry/, written from the
formats' public documentation with field values of four real records of the oncology snapshot),
and hostile inputs, each refused with a located message and nothing added."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, run_review

from review_utils.core.errors import DataValidationError, ReviewError
from review_utils.data import registry, registry_rules
from review_utils.data.validate import validate_package

SAMPLES = REPO / "tests" / "data" / "registry"
SHARED = REPO / "data" / "registry"


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(path.relative_to(folder).as_posix().encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(REPO / "data", target)
    return target


def _refused(data_dir: Path, path: Path, match: str, **options) -> DataValidationError | ReviewError:
    before = _digest(data_dir)
    with pytest.raises((DataValidationError, ReviewError)) as caught:
        registry.add(data_dir, path, **options)
    assert _digest(data_dir) == before, "a refused snapshot changed data/"
    text = caught.value.render() if isinstance(caught.value, DataValidationError) else str(caught.value)
    assert match in text, text
    return caught.value


# ------------------------------------------------------------------ the shared snapshots
def test_shared_snapshots_are_byte_identical_to_their_recorded_digests():
    with open(SHARED / "snapshots.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["snapshot_id"] for r in rows} == {"ctgov-car-t-oncology/2026-04-24", "ctgov-car-t-oncology/2026-08-22",
                                               "ctgov-car-t-rheumatology/2026-08-22"}
    for row in rows:
        folder = SHARED / row["folder"]
        for name in ("trials", "sites"):
            assert hashlib.sha256((folder / f"{name}.csv").read_bytes()).hexdigest() == row[f"{name}_sha256"]
        # counts against upstream's own metadata, read here without the project's reader
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        assert meta["snapshot_date"] == row["snapshot_date"]
        assert (int(row["trials"]), int(row["sites"])) == (meta["n_trials"], meta["n_sites"])
    for collection in ("ctgov-car-t-oncology", "ctgov-car-t-rheumatology"):
        assert "MIT License" in (SHARED / collection / "LICENSE").read_text(encoding="utf-8")
        assert "doi" in (SHARED / collection / "CITATION.cff").read_text(encoding="utf-8")


def test_shared_snapshots_read_by_name_and_typed():
    from review_utils.data.package import DataPackage, read_typed

    package = DataPackage(REPO / "data")
    index = read_typed(package.resource(registry.INDEX))
    old = index[index["snapshot_id"] == "ctgov-car-t-oncology/2026-04-24"].iloc[0]
    snap = registry.load_snapshot(REPO / "data", old)
    # the April file has TargetSource last, the August one in the middle: read by name alike
    assert snap.trials["TargetSource"].notna().any()
    assert str(snap.trials["StartYear"].dtype) == "Float64"
    assert snap.trials["NCTId"].is_unique
    assert set(snap.sites["NCTId"]) <= set(snap.trials["NCTId"])
    rheum = registry.load_snapshot(REPO / "data", index[index["collection"] == "ctgov-car-t-rheumatology"].iloc[0])
    assert rheum.trials["Branch"].isna().all()  # the rheumatology monitor has no Branch column


def test_validate_names_file_row_nct_id_and_field_of_a_bad_record(data_dir: Path):
    path = data_dir / "registry" / "ctgov-car-t-oncology" / "2026-08-22" / "trials.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    rows[5][header.index("OverallStatus")] = "RECRUITNG"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    problems = validate_package(data_dir)
    texts = [str(p) for p in problems]
    nct = rows[5][header.index("NCTId")]
    assert any("trials.csv row 6, column OverallStatus" in t and nct in t and "RECRUITNG" in t for t in texts), texts
    assert any(p.rule == "registry-digest" for p in problems)


# ------------------------------------------------------------------ adding each format
def test_add_ctgov_json_streams_and_converts(data_dir: Path):
    added = registry.add(data_dir, SAMPLES / "ctgov_v2_sample.json", source="sample-json", date="2026-09-01")
    assert (added.trials, added.sites) == (4, 17)
    trials = list(csv.DictReader(open(data_dir / "registry" / added.folder / "trials.csv", encoding="utf-8")))
    by_id = {t["NCTId"]: t for t in trials}
    assert by_id["NCT02546739"]["StartDate"] == "2021-03"  # month precision kept
    assert by_id["NCT02546739"]["StartYear"] == "2021"
    assert by_id["NCT03570892"]["Countries"] == "China|Hong Kong|Taiwan|United States"
    assert by_id["NCT03090659"]["Countries"] == ""  # no location
    assert by_id["NCT02215967"]["TargetCategory"] == "BCMA"
    assert {t["ClassificationSource"] for t in trials} == {"rules"}
    assert "sample-json" in "\n".join(registry.listing(data_dir))
    assert validate_package(data_dir) == []


def test_add_aact_folder_and_zip(data_dir: Path, tmp_path: Path):
    added = registry.add(data_dir, SAMPLES / "aact", source="sample-aact", date="2026-09-01")
    trials = {t["NCTId"]: t for t in csv.DictReader(open(data_dir / "registry" / added.folder / "trials.csv", encoding="utf-8"))}
    assert trials["NCT02215967"]["Countries"] == "United States"  # Canada is flagged removed
    assert trials["NCT03090659"]["Phase"] == "PHASE1|PHASE2"  # 'Phase 1/Phase 2' as the API writes it
    assert trials["NCT03570892"]["OverallStatus"] == "COMPLETED"
    archive = tmp_path / "aact.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for file in (SAMPLES / "aact").iterdir():
            z.write(file, f"export/{file.name}")
    zipped = registry.add(data_dir, archive, source="sample-aact", date="2026-09-02")
    assert (zipped.trials, zipped.sites) == (added.trials, added.sites)


def test_add_monitor_folder_copies_bytes_and_refuses_a_second_copy(data_dir: Path, tmp_path: Path):
    source = tmp_path / "ctgov-car-t-rheumatology" / "2026-08-22"
    shutil.copytree(SHARED / "ctgov-car-t-rheumatology" / "2026-08-22", source)
    _refused(data_dir, source, "already in data/registry/snapshots.csv")
    _refused(data_dir, source, "--date says 2026-08-23", date="2026-08-23")
    added = registry.add(data_dir, source, source="rheum-copy")
    assert (data_dir / "registry" / added.folder / "trials.csv").read_bytes() == (source / "trials.csv").read_bytes()


def test_cli_registry_list_and_add(tmp_path: Path):
    from conftest import copy_project

    root = copy_project(tmp_path / "proj", chapters=[])
    listed = run_review(root, "registry", "list", check=True).stdout
    assert "ctgov-car-t-oncology  2026-04-24  2152 trials  10717 sites" in listed
    missing = run_review(root, "registry", "add", str(SAMPLES / "ctgov_v2_sample.json"), "--source", "x")
    assert missing.returncode == 1 and "--date YYYY-MM-DD" in missing.stderr
    done = run_review(root, "registry", "add", str(SAMPLES / "ctgov_v2_sample.json"), "--source", "x",
                      "--date", "2026-09-01", check=True)
    assert "added x/2026-09-01 (ctgov-json): 4 trials, 17 sites" in done.stdout


# ------------------------------------------------------------------ hostile inputs
def _sample() -> dict:
    return json.loads((SAMPLES / "ctgov_v2_sample.json").read_text(encoding="utf-8"))


def test_truncated_json_is_refused(data_dir: Path, tmp_path: Path):
    text = (SAMPLES / "ctgov_v2_sample.json").read_text(encoding="utf-8")
    bad = tmp_path / "cut.json"
    bad.write_text(text[: len(text) // 2], encoding="utf-8")
    _refused(data_dir, bad, "truncated", source="x", date="2026-09-01")


def test_study_without_protocol_section_is_refused(data_dir: Path, tmp_path: Path):
    doc = _sample()
    doc["studies"][2] = {"hasResults": False}
    bad = tmp_path / "noprotocol.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    _refused(data_dir, bad, "study 3 has no protocolSection", source="x", date="2026-09-01")


def test_duplicate_nct_ids_are_refused(data_dir: Path, tmp_path: Path):
    doc = _sample()
    doc["studies"].append(doc["studies"][0])
    bad = tmp_path / "dup.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    _refused(data_dir, bad, "study 5 (NCT id NCT02546739) repeats study 1", source="x", date="2026-09-01")
    studies = SAMPLES / "aact" / "studies.txt"
    folder = tmp_path / "aact"
    shutil.copytree(SAMPLES / "aact", folder)
    lines = studies.read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "studies.txt").write_text("".join(lines + [lines[1]]), encoding="utf-8")
    _refused(data_dir, folder, "(NCT id NCT02546739) repeats line 2", source="x", date="2026-09-01")


def test_month_13_is_refused(data_dir: Path, tmp_path: Path):
    doc = _sample()
    doc["studies"][1]["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2019-13"
    bad = tmp_path / "month13.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    error = _refused(data_dir, bad, "'2019-13' is not a date", source="x", date="2026-09-01")
    assert "NCT03570892" in error.render() and "StartDate" in error.render()
    _refused(data_dir, SAMPLES / "aact", "--date '2019-13-01' is not a day", source="x", date="2019-13-01")


def test_non_utf8_aact_file_is_refused(data_dir: Path, tmp_path: Path):
    folder = tmp_path / "aact"
    shutil.copytree(SAMPLES / "aact", folder)
    raw = (folder / "conditions.txt").read_bytes()
    (folder / "conditions.txt").write_bytes(raw.replace(b"Leukemia", "Leuk\u00e4mie".encode("latin-1"), 1))
    _refused(data_dir, folder, "conditions.txt row 2: is not UTF-8 (byte 0xe4", source="x", date="2026-09-01")


def test_a_200_mb_line_is_refused_without_reading_it_whole(data_dir: Path, tmp_path: Path):
    folder = tmp_path / "aact"
    shutil.copytree(SAMPLES / "aact", folder)
    with open(folder / "interventions.txt", "a", encoding="utf-8") as handle:
        handle.write("99|NCT02546739|Biological|")
        for _ in range(200):
            handle.write("x" * (1 << 20))
        handle.write("|\n")
    _refused(data_dir, folder, "line 9 is longer than 16 MB", source="x", date="2026-09-01")
    doc = _sample()
    big = tmp_path / "big.json"
    with open(big, "w", encoding="utf-8") as handle:
        handle.write('{"studies": [' + json.dumps(doc["studies"][0]) + ', {"protocolSection": {"x": "')
        for _ in range(200):
            handle.write("x" * (1 << 20))
        handle.write('"}}]}')
    _refused(data_dir, big, "study 2, starting at offset", source="x", date="2026-09-01")


# ------------------------------------------------------------------ our classification rules
@pytest.mark.parametrize(("interventions", "title", "expected"), [
    ("Anti-CD19 CAR-T cells", "", "CD19"),
    ("CD19/CD22 bispecific CAR-T", "", "CD19/CD22 dual"),
    ("anti-B-cell maturation antigen CAR T", "", "BCMA"),
    ("CLDN18.2 CAR-T", "", "Claudin 18.2"),
    ("CD7 CAR-T", "", "CD7"),
    ("CAR-NK cells", "", "CAR-NK"),
    ("CAR-T cells", "", "CAR-T_unspecified"),
])
def test_target_rules(interventions, title, expected):
    assert registry_rules.target(interventions, title) == expected


@pytest.mark.parametrize(("conditions", "expected"), [
    ("Diffuse Large B-cell Lymphoma", "Heme-onc"), ("Hepatocellular Carcinoma", "Solid-onc"),
    ("Lymphoma|Gastric Cancer", "Mixed"), ("Systemic Lupus Erythematosus", "Autoimmune"), ("Healthy", "Unknown"),
])
def test_branch_rules(conditions, expected):
    assert registry_rules.branch(conditions, "") == expected
