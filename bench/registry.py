"""Registry scale: `review registry add` and the trial chapter on a registry k times the shared one.

    .venv/bin/python bench/registry.py --factor 100            # the target: about 230,000 trials
    .venv/bin/python bench/registry.py --factor 10 --formats monitor,ctgov-json,aact

The generator repeats the oncology snapshot of 2026-08-22 (trials and sites) k times, each copy
with fresh NCT ids (NCT9 followed by seven digits, which ClinicalTrials.gov has not issued), and
writes it in each format: a monitor folder (trials.csv, sites.csv, metadata.json), a
ClinicalTrials.gov API v2 export ({"studies": [...]}, one line, as the API gives it) and AACT
pipe-delimited flat files. Each `review registry add` runs in its own process in a fresh copy of
the project and is timed as a whole, with the peak resident memory of that process (the
kernel's maxrss of the child). The chapter notebook is then executed by papermill on the copy
that holds the monitor-format snapshot (the edition's snapshot is the large one), timed the same
way. Results go to bench/results/registry_<k>x.json. Targets: add <= 60 s and <= 2 GiB at 100x in
any format; the chapter notebook at 100x <= 10 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "registry" / "ctgov-car-t-oncology" / "2026-08-22"
DATE = "2026-11-01"  # after every shared snapshot, so the generated one is the edition's
FORMATS = ("monitor", "ctgov-json", "aact")
TARGETS = {"add_seconds": 60, "add_peak_mib": 2048, "notebook_seconds": 10}


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def _fresh(copy: int, index: int, per_copy: int) -> str:
    return f"NCT9{copy * per_copy + index:07d}"


def generate(out: Path, factor: int, formats: tuple[str, ...]) -> dict[str, Path]:
    """Write the k-times registry in each format under ``out``; returns format -> path."""
    out.mkdir(parents=True, exist_ok=True)
    t_header, trials = _rows(SOURCE / "trials.csv")
    s_header, sites = _rows(SOURCE / "sites.csv")
    nct_t, nct_s = t_header.index("NCTId"), s_header.index("NCTId")
    ids = {row[nct_t]: i for i, row in enumerate(trials)}
    sites = [row for row in sites if row[nct_s] in ids]
    by_trial: dict[str, list[list[str]]] = {}
    for row in sites:
        by_trial.setdefault(row[nct_s], []).append(row)
    per_copy = len(trials)
    if factor * per_copy >= 10_000_000:
        raise SystemExit("factor too large for the NCT9xxxxxxx id space")
    paths: dict[str, Path] = {}
    col = {name: t_header.index(name) for name in t_header}
    scol = {name: s_header.index(name) for name in s_header}
    if "monitor" in formats:
        folder = out / "monitor" / "ctgov-car-t-oncology-scaled"
        folder.mkdir(parents=True)
        with open(folder / "trials.csv", "w", encoding="utf-8", newline="") as th, \
                open(folder / "sites.csv", "w", encoding="utf-8", newline="") as sh:
            tw, sw = csv.writer(th, lineterminator="\n"), csv.writer(sh, lineterminator="\n")
            tw.writerow(t_header)
            sw.writerow(s_header)
            for copy in range(factor):
                for i, row in enumerate(trials):
                    nct = _fresh(copy, i, per_copy)
                    new = list(row)
                    new[nct_t] = nct
                    new[col["SnapshotDate"]] = DATE
                    tw.writerow(new)
                    for site in by_trial.get(row[nct_t], []):
                        s = list(site)
                        s[nct_s] = nct
                        sw.writerow(s)
        (folder / "metadata.json").write_text(json.dumps({"snapshot_date": DATE, "n_trials": factor * per_copy,
                                                          "n_sites": factor * len(sites)}), encoding="utf-8")
        paths["monitor"] = folder
    if "ctgov-json" in formats:
        path = out / "ctgov.json"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write('{"studies": [')
            first = True
            for copy in range(factor):
                for i, row in enumerate(trials):
                    nct = _fresh(copy, i, per_copy)
                    locations = []
                    for site in by_trial.get(row[nct_t], []):
                        location = {"facility": site[scol["Facility"]], "city": site[scol["City"]],
                                    "state": site[scol["State"]], "zip": site[scol["Zip"]],
                                    "country": site[scol["Country"]]}
                        if site[scol["SiteStatus"]]:
                            location["status"] = site[scol["SiteStatus"]]
                        if site[scol["Latitude"]]:
                            location["geoPoint"] = {"lat": float(site[scol["Latitude"]]),
                                                    "lon": float(site[scol["Longitude"]])}
                        locations.append(location)
                    enrollment = row[col["EnrollmentCount"]]
                    study = {"protocolSection": {
                        "identificationModule": {"nctId": nct, "briefTitle": row[col["BriefTitle"]]},
                        "statusModule": {"overallStatus": row[col["OverallStatus"]],
                                         "startDateStruct": {"date": row[col["StartDate"]]} if row[col["StartDate"]] else {},
                                         "lastUpdatePostDateStruct": {"date": row[col["LastUpdatePostDate"]]}},
                        "sponsorCollaboratorsModule": {"leadSponsor": {"name": row[col["LeadSponsor"]],
                                                                       "class": row[col["LeadSponsorClass"]]}},
                        "conditionsModule": {"conditions": row[col["Conditions"]].split("|")},
                        "designModule": {"phases": [p for p in row[col["Phase"]].split("|") if p not in ("", "NA", "Unknown")]
                                         or (["NA"] if row[col["Phase"]] == "NA" else []),
                                         "enrollmentInfo": {"count": int(float(enrollment))} if enrollment else {}},
                        "armsInterventionsModule": {"interventions": [{"name": n} for n in row[col["Interventions"]].split("|")]},
                        "contactsLocationsModule": {"locations": locations}}}
                    handle.write(("" if first else ",") + json.dumps(study, ensure_ascii=False))
                    first = False
            handle.write("]}")
        paths["ctgov-json"] = path
    if "aact" in formats:
        folder = out / "aact"
        folder.mkdir(parents=True)
        files = {name: open(folder / f"{name}.txt", "w", encoding="utf-8", newline="") for name in
                 ("studies", "countries", "facilities", "conditions", "interventions", "sponsors")}
        try:
            files["studies"].write("nct_id|brief_title|overall_status|phase|start_date|last_update_posted_date|enrollment\n")
            files["countries"].write("id|nct_id|name|removed\n")
            files["facilities"].write("id|nct_id|status|name|city|state|zip|country\n")
            files["conditions"].write("id|nct_id|name|downcase_name\n")
            files["interventions"].write("id|nct_id|intervention_type|name|description\n")
            files["sponsors"].write("id|nct_id|agency_class|lead_or_collaborator|name\n")
            serial = 0

            def clean(text: str) -> str:
                return text.replace("|", "/").replace("\n", " ").replace("\r", " ")

            for copy in range(factor):
                for i, row in enumerate(trials):
                    nct = _fresh(copy, i, per_copy)
                    phase = row[col["Phase"]].replace("|", "/") if row[col["Phase"]] not in ("NA", "Unknown") else \
                        ("Not Applicable" if row[col["Phase"]] == "NA" else "")
                    enrollment = row[col["EnrollmentCount"]]
                    files["studies"].write("|".join([nct, clean(row[col["BriefTitle"]]), row[col["OverallStatus"]], phase,
                                                     row[col["StartDate"]], row[col["LastUpdatePostDate"]],
                                                     str(int(float(enrollment))) if enrollment else ""]) + "\n")
                    for country in (c for c in row[col["Countries"]].split("|") if c):
                        serial += 1
                        files["countries"].write(f"{serial}|{nct}|{country}|f\n")
                    for site in by_trial.get(row[nct_t], []):
                        serial += 1
                        files["facilities"].write("|".join([str(serial), nct, site[scol["SiteStatus"]],
                                                            *(clean(site[scol[c]]) for c in ("Facility", "City", "State", "Zip", "Country"))]) + "\n")
                    for condition in (c for c in row[col["Conditions"]].split("|") if c):
                        serial += 1
                        files["conditions"].write(f"{serial}|{nct}|{clean(condition)}|{clean(condition.lower())}\n")
                    for name in (c for c in row[col["Interventions"]].split("|") if c):
                        serial += 1
                        files["interventions"].write(f"{serial}|{nct}|BIOLOGICAL|{clean(name)}|\n")
                    serial += 1
                    files["sponsors"].write(f"{serial}|{nct}|{row[col['LeadSponsorClass']]}|lead|{clean(row[col['LeadSponsor']])}\n")
        finally:
            for handle in files.values():
                handle.close()
        paths["aact"] = folder
    return paths


_MEASURE = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); s = time.perf_counter() - t; "
            "print(json.dumps({'rc': r.returncode, 'seconds': s, "
            "'peak_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
            "'stdout': r.stdout[-2000:], 'stderr': r.stderr[-2000:]}))")


def measured(command: list[str], cwd: Path) -> dict:
    """Run ``command`` in a fresh process and return its wall time and peak resident memory."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], cwd=cwd, env=env, capture_output=True, text=True)
    return json.loads(done.stdout)


def _project(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "params.yml"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "data", target / "data")
    (target / "book").mkdir()
    shutil.copy2(ROOT / "book" / "trials.ipynb", target / "book" / "trials.ipynb")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factor", type=int, default=100)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--no-notebook", action="store_true", help="skip the chapter notebook")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    args = parser.parse_args()
    formats = tuple(f for f in args.formats.split(",") if f)
    tmp = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    try:
        started = time.perf_counter()
        paths = generate(tmp / "inputs", args.factor, formats)
        generated = time.perf_counter() - started
        sizes = {f: sum(p.stat().st_size for p in (paths[f].rglob("*") if paths[f].is_dir() else [paths[f]]) if p.is_file())
                 for f in paths}
        results: dict = {"factor": args.factor, "generate_seconds": round(generated, 1),
                         "input_bytes": sizes, "add": {}, "targets": TARGETS,
                         "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                     "load_before": os.getloadavg()}}
        notebook_root = None
        for fmt in formats:
            root = _project(tmp / f"project-{fmt}")
            command = [sys.executable, "-m", "review_utils.cli", "--root", str(root), "registry", "add", str(paths[fmt]),
                       "--source", "ctgov-car-t-oncology", "--date", DATE]
            run = measured(command, root)
            results["add"][fmt] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in run.items()
                                   if k in ("rc", "seconds", "peak_mib", "stdout", "stderr")}
            print(f"add {fmt}: {run['seconds']:.1f} s, peak {run['peak_mib']:.0f} MiB, rc {run['rc']}", file=sys.stderr)
            if fmt == "monitor" and run["rc"] == 0:
                notebook_root = root
        if notebook_root is not None and not args.no_notebook:
            out = notebook_root / "book" / "trials.out.ipynb"
            command = [sys.executable, "-m", "papermill", "--no-progress-bar", str(notebook_root / "book" / "trials.ipynb"),
                       str(out), "-p", "as_of", "2026-11-23"]
            run = measured(command, notebook_root / "book")
            results["notebook"] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in run.items()
                                   if k in ("rc", "seconds", "peak_mib", "stderr")}
            print(f"chapter notebook: {run['seconds']:.1f} s, peak {run['peak_mib']:.0f} MiB, rc {run['rc']}", file=sys.stderr)
        results["machine"]["load_after"] = os.getloadavg()
        target = ROOT / "bench" / "results" / f"registry_{args.factor}x.json"
        target.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}", file=sys.stderr)
        if args.keep:
            shutil.copytree(tmp / "inputs", args.keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
