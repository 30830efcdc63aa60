"""Build-speed benchmark: this project's pipeline against plain Jupyter Book, and how it scales.

    .venv/bin/python bench/build.py              # everything (about 45 minutes on 2 cores)
    .venv/bin/python bench/build.py --quick      # a smoke run (one repeat, 2x books), bench/results/quick.json
    .venv/bin/python bench/build.py --repeat 5 --scale-repeat 2 --no-jb-scale

It measures; it asserts nothing. Each scenario runs in a fresh copy of the project (the working
tree is never touched) and is timed as a whole process, as an author or CI would wait for it.
Per repeat, three copies run one after the other, in an order that rotates between repeats:

  review        cold (``review build --no-pdf``, no cache, no site), then in the same copy
                no_change, csv_edit (a note in data/policy_events.csv: three notebooks read it,
                the median over the tables), csv_edit_wide (data/products.csv, six readers),
                md_edit (book/intro.md), nb_edit (a markdown cell of book/market.ipynb) and
                pdf_only (Sphinx's LaTeX writer + xelatex on the staged book; bench/pdf_step.py)
  jb_force      ``jupyter-book build --all`` with ``execute_notebooks: force``
  jb_cache      the same with ``execute_notebooks: cache`` (empty cache), then jb_cache_warm:
                ``jupyter-book build`` again with nothing changed

Then, ``--scale-repeat`` times (default 1): cold builds of generated books with 10x and 50x the
notebooks (scale_nb_10x, scale_nb_50x), plain Jupyter Book force on the 10x book
(jb_force_10x; ``--no-jb-scale`` skips it), and a cold build on a data package with 100x the
rows (scale_data_100x). See bench/scale.py for how the books are generated.

Writes every run, the machine and the derived summary to bench/results/latest.json (``--out``);
review_utils.chapters.benchmark reads it, and the book's Methods appendix shows it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine  # noqa: E402
import scale  # noqa: E402
import scenarios as sc  # noqa: E402

from review_utils.chapters import benchmark  # noqa: E402

REPO = sc.REPO


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Recorder:
    def __init__(self):
        self.runs: list[dict] = []
        self.scenarios: dict[str, dict] = {}
        self.failures: list[str] = []

    def describe(self, name: str, description: str, **meta) -> None:
        self.scenarios.setdefault(name, {"description": description, **meta})

    def attempt(self, group: str, run, *args) -> None:
        """Run one group of scenarios; a failure is recorded and the benchmark goes on."""
        try:
            run(*args)
        except sc.BenchError as exc:
            self.failures.append(f"{group}: {str(exc)[:2000]}")
            log(f"FAILED {group}: {str(exc)[:400]}")

    def add(self, name: str, repeat: int, seconds: float) -> None:
        self.runs.append({"scenario": name, "repeat": repeat, "seconds": round(seconds, 3)})
        log(f"  {name:<16} repeat {repeat}: {seconds:7.2f} s")


def count_notebooks(root: Path) -> int:
    from review_utils.core.paths import Layout
    from review_utils.engine import site

    return len(site.notebooks(Layout(root)))


def run_review_chain(rec: Recorder, tmp: Path, repeat: int, quick: bool) -> None:
    root = sc.fresh_copy(tmp, f"review-{repeat}")
    n = count_notebooks(root)
    rec.describe("cold", f"review build, no cache and no site ({n} notebooks, HTML)", tool="review", kind="cold",
                 notebooks=n, group="book")
    rec.add("cold", repeat, sc.review_build(root))
    rec.describe("no_change", "review build again, nothing changed", tool="review", kind="rebuild", group="book")
    rec.add("no_change", repeat, sc.review_build(root))
    for name, (csv_path, column) in (("csv_edit", sc.CSV_EDIT), ("csv_edit_wide", sc.CSV_EDIT_WIDE)):
        if quick and name == "csv_edit_wide":
            continue
        readers = sc.readers(root, csv_path)
        rec.describe(name, f"one cell of {csv_path} edited; {len(readers)} of {n} notebooks read it",
                     tool="review", kind="rebuild", group="book", edited=csv_path, readers=readers)
        sc.edit_csv_note(root, csv_path, column, str(repeat))
        rec.add(name, repeat, sc.review_build(root))
    rec.describe("md_edit", f"a sentence added to {sc.MD_EDIT}", tool="review", kind="rebuild", group="book",
                 edited=sc.MD_EDIT)
    sc.edit_markdown(root, str(repeat))
    rec.add("md_edit", repeat, sc.review_build(root))
    rec.describe("nb_edit", f"a sentence added to a markdown cell of {sc.NB_EDIT}", tool="review", kind="rebuild",
                 group="book", edited=sc.NB_EDIT)
    sc.edit_notebook(root, str(repeat))
    rec.add("nb_edit", repeat, sc.review_build(root))
    rec.describe("pdf_only", "the PDF step alone: LaTeX writer and xelatex on the built book", tool="review",
                 kind="pdf", group="book")
    rec.add("pdf_only", repeat, sc.pdf_step(root))


def run_jb(rec: Recorder, tmp: Path, repeat: int, mode: str) -> None:
    root = sc.fresh_copy(tmp, f"jb-{mode}-{repeat}")
    n = count_notebooks(root)
    sc.prepare_jupyter_book(root, mode)
    name = f"jb_{mode}"
    what = "executes every notebook" if mode == "force" else "empty execution cache"
    rec.describe(name, f"jupyter-book build --all, execute_notebooks: {mode} ({what}; {n} notebooks, HTML)",
                 tool="jupyter-book", kind="cold", notebooks=n, group="book")
    rec.add(name, repeat, sc.jupyter_book(root))
    if mode == "cache":
        rec.describe("jb_cache_warm", "jupyter-book build again (execute_notebooks: cache), nothing changed",
                     tool="jupyter-book", kind="rebuild", group="book")
        rec.add("jb_cache_warm", repeat, sc.jupyter_book(root, all_pages=False))


def run_scale(rec: Recorder, tmp: Path, repeat: int, factors: list[int], data_factor: int, jb: bool) -> None:
    for factor in factors:
        root = sc.fresh_copy(tmp, f"scale-nb-{factor}-{repeat}")
        n = scale.scale_notebooks(root, factor)
        name = f"scale_nb_{factor}x"
        rec.describe(name, f"review build, cold, on a generated book with {factor}x the notebooks ({n})",
                     tool="review", kind="cold", notebooks=n, group="scale", factor=factor)
        log(f"{name}: {n} notebooks")
        rec.add(name, repeat, sc.review_build(root))
        shutil.rmtree(root, ignore_errors=True)
    if jb and factors:
        factor = factors[0]
        root = sc.fresh_copy(tmp, f"scale-jb-{factor}-{repeat}")
        n = scale.scale_notebooks(root, factor)
        sc.prepare_jupyter_book(root, "force")
        name = f"jb_force_{factor}x"
        rec.describe(name, f"jupyter-book build --all, force, on the generated book with {factor}x the notebooks "
                           f"({n})", tool="jupyter-book", kind="cold", notebooks=n, group="scale", factor=factor)
        log(f"{name}: {n} notebooks")
        rec.add(name, repeat, sc.jupyter_book(root))
        shutil.rmtree(root, ignore_errors=True)
    if data_factor > 1:
        root = sc.fresh_copy(tmp, f"scale-data-{repeat}")
        rows = scale.scale_data(root, data_factor)
        name = f"scale_data_{data_factor}x"
        rec.describe(name, f"review build, cold, on a generated data package with {data_factor}x the rows ({rows})",
                     tool="review", kind="cold", notebooks=count_notebooks(root), group="scale",
                     data_scale=data_factor, rows=rows)
        log(f"{name}: {rows} rows")
        rec.add(name, repeat, sc.review_build(root))
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the book scenarios (default 3)")
    parser.add_argument("--scale-repeat", type=int, default=1, help="repeats of the scale scenarios (default 1)")
    parser.add_argument("--no-scale", action="store_true", help="skip the scale scenarios")
    parser.add_argument("--no-jb-scale", action="store_true", help="skip plain Jupyter Book on the 10x book")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: one repeat, 2x scale books, no 50x, no Jupyter Book at scale")
    parser.add_argument("--out", type=Path, help="results file (default bench/results/latest.json; "
                                                  "bench/results/quick.json with --quick)")
    args = parser.parse_args()
    if not shutil.which("review", path=str(sc.BIN)):
        raise SystemExit("run with the project's virtual environment: .venv/bin/python bench/build.py")
    if args.repeat < 1 or args.scale_repeat < 0:
        raise SystemExit("--repeat must be at least 1 and --scale-repeat at least 0")
    if args.quick:
        args.repeat, factors, data_factor, jb_scale = 1, [2], 2, False
    else:
        factors, data_factor, jb_scale = [10, 50], 100, not args.no_jb_scale
    out = args.out or REPO / "bench/results" / ("quick.json" if args.quick else "latest.json")
    os.environ.setdefault("MPLCONFIGDIR", str(REPO / ".venv/mplconfig"))

    started, clock = time.perf_counter(), dt.datetime.now(dt.timezone.utc)
    about = machine.describe()
    log(f"machine: {benchmark.machine_text(about)}")
    rec = Recorder()
    groups = ["review", "jb_force", "jb_cache"]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
        tmp = Path(tmp_name)
        for repeat in range(1, args.repeat + 1):
            order = groups[repeat - 1 :] + groups[: repeat - 1]  # rotate: no group always runs first
            log(f"repeat {repeat}/{args.repeat}: {', '.join(order)}")
            for group in order:
                with tempfile.TemporaryDirectory(dir=tmp) as one:
                    if group == "review":
                        rec.attempt(group, run_review_chain, rec, Path(one), repeat, args.quick)
                    elif group == "jb_force" or not args.quick:
                        rec.attempt(group, run_jb, rec, Path(one), repeat, group.removeprefix("jb_"))
        if not args.no_scale:
            for repeat in range(1, args.scale_repeat + 1):
                log(f"scale repeat {repeat}/{args.scale_repeat}")
                with tempfile.TemporaryDirectory(dir=tmp) as one:
                    rec.attempt("scale", run_scale, rec, Path(one), repeat, factors, data_factor, jb_scale)
    about["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    command = "bench/build.py " + " ".join(sys.argv[1:])
    report = {
        "format": benchmark.FORMAT,
        "created": clock.isoformat(timespec="seconds"),
        "command": command.strip(),
        "duration_s": round(time.perf_counter() - started, 1),
        "repeat": args.repeat,
        "scale_repeat": 0 if args.no_scale else args.scale_repeat,
        "machine": about,
        "scenarios": rec.scenarios,
        "runs": rec.runs,
        "failures": rec.failures,
    }
    results = benchmark.from_dict(report, str(out))
    report["summary"] = benchmark.summary_dict(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for s in benchmark.summarise(results):
        print(f"{s.scenario:<18} median {s.median:8.2f} s  (range {s.low:.2f}–{s.high:.2f}, {s.runs} runs)")
    for v in benchmark.evaluate(results):
        print(f"target {v.target.label:<48} {v.value:7.3f} ({v.low:.3f}–{v.high:.3f}) "
              f"limit {v.target.limit:g}: {'met' if v.met else 'NOT met'}")
    for s in benchmark.slopes(results):
        print(f"{s.scenario:<18} {s.notebooks:5d} notebooks  {s.per_notebook:.3f} s per notebook")
    for failure in rec.failures:
        print(f"FAILED {failure.splitlines()[0]}")
    print(f"wrote {out} after {report['duration_s']:.0f} s")


if __name__ == "__main__":
    main()
