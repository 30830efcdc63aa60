"""Build-speed benchmark on the real book (not a test: it measures, it does not assert).

    .venv/bin/python bench/build.py [--repeat 3] [--out bench/results/latest.json]

Scenarios, each run in a fresh copy of the project so the working tree is never touched
(HTML only on both sides; the PDF step is not part of the comparison):
  cold        `review build --no-pdf` with no cache and no previous site
  no_change   `review build` again with nothing changed
  csv_edit    `review build` after editing one CSV (data/products.csv, a note cell)
  jb_force    plain Jupyter Book: `jupyter-book build --all` with execute_notebooks: force
Reports median and range over the repeats, and the ratios the targets are stated in.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from conftest import copy_project  # noqa: E402  (the same copy the tests build)

BIN = Path(sys.executable).parent


def timed(cmd: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_ROOT"}
    env["CI"] = "1"  # quiet progress output
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def review(root: Path) -> float:
    # HTML only, like the plain Jupyter Book baseline (the PDF step is measured separately)
    return timed([str(BIN / "review"), "--root", str(root), "build", "--no-pdf"], root)


def plain_jupyter_book(root: Path) -> float:
    """What a user gets without this project's pipeline: Jupyter Book executing every notebook."""
    import yaml

    from review_utils.bibliography import to_bibtex
    from review_utils.data import DataPackage

    config = yaml.safe_load((root / "_config.yml").read_text())
    config["execute"] = {"execute_notebooks": "force"}
    (root / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    (root / "_generated").mkdir(exist_ok=True)  # the bibliography our build generates; made untimed
    (root / "_generated/references.bib").write_text(to_bibtex(DataPackage(root / "data").load("sources")), encoding="utf-8")
    return timed([str(BIN / "jupyter-book"), "build", "--all", str(root)], root)


def scenario_times(repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"cold": [], "no_change": [], "csv_edit": [], "jb_force": []}
    for i in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            root = copy_project(Path(tmp) / "book")
            times["cold"].append(review(root))
            times["no_change"].append(review(root))
            products = root / "data/products.csv"
            products.write_text(products.read_text(encoding="utf-8").replace(
                "first CAR-T approved in China", f"first CAR-T approved in China (edit {i})"), encoding="utf-8")
            times["csv_edit"].append(review(root))
        with tempfile.TemporaryDirectory(prefix="bench-jb-") as tmp:
            times["jb_force"].append(plain_jupyter_book(copy_project(Path(tmp) / "book")))
        print(f"repeat {i + 1}/{repeat}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), file=sys.stderr)
    return times


def summarise(times: dict[str, list[float]]) -> dict:
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "scenarios": {k: {"median_s": round(med[k], 3), "min_s": round(min(v), 3), "max_s": round(max(v), 3),
                          "runs": [round(x, 3) for x in v]} for k, v in times.items()},
        "ratios": {
            "cold_over_jb_force": round(med["cold"] / med["jb_force"], 3),
            "csv_edit_over_cold": round(med["csv_edit"] / med["cold"], 3),
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/latest.json")
    args = parser.parse_args()
    if not shutil.which("review", path=str(BIN)):
        raise SystemExit("run with the project's virtual environment: .venv/bin/python bench/build.py")
    report = summarise(scenario_times(args.repeat))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, row in report["scenarios"].items():
        print(f"{name:<10} median {row['median_s']:7.2f} s  (range {row['min_s']:.2f}–{row['max_s']:.2f})")
    for name, value in report["ratios"].items():
        print(f"{name:<20} {value:.2f}")


if __name__ == "__main__":
    main()
