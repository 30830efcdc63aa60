"""The build-speed benchmark's results: load them, summarise them, judge them against targets.

``bench/build.py`` measures and writes ``bench/results/latest.json``; the Methods appendix page
``book/benchmark.ipynb`` shows it. Both use this module, so the numbers in the file and on the
page are computed the same way.

The file keeps every timed run (scenario, repeat, seconds), not only the medians. Scenarios
measured in the same repeat ran interleaved on the same machine state, so a ratio is computed
from the medians *and* from each repeat's pair, whose range is the ratio's spread.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_utils.core.errors import ReviewError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS: dict[str, tuple[str, ...]] = {}

FORMAT = 1
RESULTS_FILE = "bench/results/latest.json"
RERUN = "re-run the benchmark: .venv/bin/python bench/build.py"


@dataclass(frozen=True)
class Run:
    scenario: str
    repeat: int
    seconds: float


@dataclass(frozen=True)
class Summary:
    scenario: str
    runs: int
    median: float
    low: float
    high: float


@dataclass(frozen=True)
class Ratio:
    """``value`` is median(numerator) / median(denominator); ``low``–``high`` spans the ratios
    of the runs made in the same repeat (``pairs`` of them)."""

    numerator: str
    denominator: str
    value: float
    low: float
    high: float
    pairs: int


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    numerator: str
    denominator: str | None  # None: a limit on the numerator's seconds
    limit: float


# The targets (2-core machine, medians).
TARGETS = (
    Target("cold_vs_jb_force", "cold HTML build / plain Jupyter Book (force)", "cold", "jb_force", 0.5),
    Target("no_change", "no-change rebuild (seconds)", "no_change", None, 1.0),
    Target("csv_edit_vs_cold", "one CSV edited / cold build", "csv_edit", "cold", 0.35),
    Target("scale_10x_vs_cold", "10× the notebooks / the book as it is", "scale_nb_10x", "cold", 10.0),
)

# Further comparisons the page reports without a target.
COMPARISONS = (
    ("cold", "jb_cache"),
    ("no_change", "jb_cache_warm"),
    ("md_edit", "cold"),
    ("nb_edit", "cold"),
    ("csv_edit_wide", "cold"),
    ("scale_nb_50x", "cold"),
    ("jb_force_10x", "jb_force"),
    ("scale_data_100x", "cold"),
)


@dataclass
class Results:
    path: str
    created: str
    command: str
    duration_s: float | None
    repeat: int
    machine: dict[str, Any]
    scenarios: dict[str, dict[str, Any]]
    runs: list[Run] = field(default_factory=list)

    def seconds(self, scenario: str) -> list[float]:
        return [run.seconds for run in self.runs if run.scenario == scenario]

    def has(self, scenario: str) -> bool:
        return any(run.scenario == scenario for run in self.runs)


# -- loading ---------------------------------------------------------------------------------
class ResultsError(ReviewError):
    """The results file cannot be used; the message names the file and what is wrong."""


def load(path: Path | str, shown_as: str | None = None) -> Results:
    """Read and check a results file; errors name ``shown_as`` (default: the path)."""
    name = shown_as or str(path)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{name}: no benchmark results; {RERUN}") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {RERUN}") from None
    return from_dict(raw, name)


def _fail(name: str, where: str, problem: str) -> ResultsError:
    return ResultsError(f"{name}: {where} {problem}; {RERUN}")


def from_dict(raw: Any, name: str = RESULTS_FILE) -> Results:
    """Check the structure of a results document and turn it into :class:`Results`."""
    if not isinstance(raw, dict):
        raise _fail(name, "the top level", f"is a {type(raw).__name__}, not an object")
    if raw.get("format") != FORMAT:
        raise _fail(name, "'format'", f"is {raw.get('format')!r}; this version reads format {FORMAT}")
    for key, kind in (("created", str), ("command", str), ("machine", dict), ("scenarios", dict), ("runs", list)):
        if key not in raw:
            raise _fail(name, f"{key!r}", "is missing")
        if not isinstance(raw[key], kind):
            raise _fail(name, f"{key!r}", f"is a {type(raw[key]).__name__}, not a {kind.__name__}")
    for scenario, meta in raw["scenarios"].items():
        if not isinstance(meta, dict) or not isinstance(meta.get("description"), str):
            raise _fail(name, f"scenarios.{scenario}", "needs a 'description' text")
    runs = []
    for index, item in enumerate(raw["runs"]):
        where = f"runs[{index}]"
        if not isinstance(item, dict):
            raise _fail(name, where, f"is a {type(item).__name__}, not an object")
        missing = [k for k in ("scenario", "repeat", "seconds") if k not in item]
        if missing:
            raise _fail(name, where, f"lacks {', '.join(missing)}")
        seconds, repeat = item["seconds"], item["repeat"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
            raise _fail(name, f"{where}.seconds", f"is {seconds!r}, not a number of seconds (0 or more)")
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise _fail(name, f"{where}.repeat", f"is {repeat!r}, not a repeat number (1 or more)")
        if item["scenario"] not in raw["scenarios"]:
            raise _fail(name, f"{where}.scenario", f"{item['scenario']!r} is not described under 'scenarios'")
        runs.append(Run(item["scenario"], repeat, float(seconds)))
    if not runs:
        raise _fail(name, "'runs'", "is empty")
    duration = raw.get("duration_s")
    return Results(name, raw["created"], raw["command"], float(duration) if duration is not None else None,
                   int(raw.get("repeat", max(r.repeat for r in runs))), raw["machine"], raw["scenarios"], runs)


# -- summaries -------------------------------------------------------------------------------
def summarise(results: Results) -> list[Summary]:
    """Median and range per scenario, in the order the scenarios are described."""
    out = []
    for scenario in results.scenarios:
        values = results.seconds(scenario)
        if values:
            out.append(Summary(scenario, len(values), statistics.median(values), min(values), max(values)))
    return out


def median(results: Results, scenario: str) -> float:
    values = results.seconds(scenario)
    if not values:
        raise ResultsError(f"{results.path}: no runs of scenario {scenario!r}; {RERUN}")
    return statistics.median(values)


def ratio(results: Results, numerator: str, denominator: str) -> Ratio:
    """Ratio of medians, with a spread: the ratios of runs made in the same repeat when both
    scenarios ran in several repeats (they met the same load), otherwise every run of one
    against every run of the other (a scale scenario run once against the book's repeats)."""
    value = median(results, numerator) / median(results, denominator)
    tops, bottoms = results.seconds(numerator), results.seconds(denominator)
    if len(tops) > 1 and len(bottoms) > 1:
        by_repeat: dict[int, dict[str, float]] = {}
        for run in results.runs:
            if run.scenario in (numerator, denominator):
                by_repeat.setdefault(run.repeat, {})[run.scenario] = run.seconds
        spread = [pair[numerator] / pair[denominator] for pair in by_repeat.values()
                  if numerator in pair and denominator in pair and pair[denominator] > 0]
    else:
        spread = [top / bottom for top in tops for bottom in bottoms if bottom > 0]
    spread = spread or [value]
    return Ratio(numerator, denominator, value, min(spread + [value]), max(spread + [value]), len(spread))


@dataclass(frozen=True)
class Verdict:
    target: Target
    value: float
    low: float
    high: float
    met: bool


def evaluate(results: Results) -> list[Verdict]:
    """Each target whose scenarios were measured, with the median value and its spread."""
    out = []
    for target in TARGETS:
        needed = [target.numerator] + ([target.denominator] if target.denominator else [])
        if not all(results.has(s) for s in needed):
            continue
        if target.denominator:
            r = ratio(results, target.numerator, target.denominator)
            value, low, high = r.value, r.low, r.high
        else:
            values = results.seconds(target.numerator)
            value, low, high = statistics.median(values), min(values), max(values)
        out.append(Verdict(target, value, low, high, value <= target.limit))
    return out


def comparisons(results: Results) -> list[Ratio]:
    return [ratio(results, a, b) for a, b in COMPARISONS if results.has(a) and results.has(b)]


@dataclass(frozen=True)
class Slope:
    scenario: str
    tool: str
    notebooks: int
    median: float
    per_notebook: float
    growth: float  # median / median of the same tool's smallest book
    work_growth: float  # notebooks / notebooks of the same tool's smallest book


# The book-size series: cold builds of the same book with more notebooks, per tool.
SERIES = {"review": ("cold", "scale_nb_10x", "scale_nb_50x"), "jupyter-book": ("jb_force", "jb_force_10x")}


def slopes(results: Results) -> list[Slope]:
    """Seconds per notebook at every measured book size, per tool, and growth against its
    smallest book (the data-scaled book is a different kind of growth and is not a point here)."""
    out = []
    for tool, series in SERIES.items():
        mine = sorted((int(results.scenarios[s]["notebooks"]), s) for s in series
                      if results.has(s) and results.scenarios[s].get("notebooks"))
        if not mine:
            continue
        base_n, base_s = mine[0][0], median(results, mine[0][1])
        for notebooks, scenario in mine:
            m = median(results, scenario)
            out.append(Slope(scenario, tool, notebooks, m, m / notebooks, m / base_s, notebooks / base_n))
    return out


def summary_dict(results: Results) -> dict[str, Any]:
    """The derived numbers, as the results file keeps them for a reader of the file itself."""
    return {
        "medians_s": {s.scenario: {"median": round(s.median, 3), "min": round(s.low, 3), "max": round(s.high, 3),
                                   "runs": s.runs} for s in summarise(results)},
        "targets": {v.target.key: {"value": round(v.value, 3), "low": round(v.low, 3), "high": round(v.high, 3),
                                   "limit": v.target.limit, "met": v.met} for v in evaluate(results)},
        "ratios": {f"{r.numerator}/{r.denominator}": {"value": round(r.value, 3), "low": round(r.low, 3),
                                                       "high": round(r.high, 3)} for r in comparisons(results)},
        "seconds_per_notebook": {s.scenario: round(s.per_notebook, 3) for s in slopes(results)},
    }


def machine_text(machine: dict[str, Any]) -> str:
    """One line describing where the benchmark ran."""
    parts = [str(machine.get("cpu_model", "unknown CPU"))]
    if machine.get("cores"):
        parts.append(f"{machine['cores']} cores")
    if machine.get("ram_gib"):
        parts.append(f"{machine['ram_gib']:.0f} GiB RAM")
    if machine.get("os"):
        parts.append(str(machine["os"]))
    if machine.get("python"):
        parts.append(f"Python {machine['python']}")
    return ", ".join(parts)


def versions_text(machine: dict[str, Any]) -> str:
    packages = machine.get("packages") or {}
    return ", ".join(f"{name} {version}" for name, version in sorted(packages.items()))


# -- tables and figure for the page ----------------------------------------------------------
def spread_text(low: float, high: float, digits: int = 2) -> str:
    return f"{low:.{digits}f}–{high:.{digits}f}"


SCENARIO_COLUMNS = ["scenario", "tool", "what", "runs", "median_s", "min_s", "max_s", "all_runs_s"]


def scenario_table(results: Results) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for s in summarise(results):
        meta = results.scenarios[s.scenario]
        rows.append({"scenario": s.scenario, "tool": meta.get("tool", "review"), "what": meta["description"],
                     "runs": s.runs, "median_s": f"{s.median:.2f}", "min_s": f"{s.low:.2f}",
                     "max_s": f"{s.high:.2f}",
                     "all_runs_s": ", ".join(f"{x:.2f}" for x in results.seconds(s.scenario))})
    return pd.DataFrame(rows, columns=SCENARIO_COLUMNS)


def targets_table(results: Results) -> pd.DataFrame:
    import pandas as pd

    rows = [{"target": v.target.label, "limit": f"≤ {v.target.limit:g}", "median": f"{v.value:.3f}",
             "spread": spread_text(v.low, v.high, 3), "met": "yes" if v.met else "no"} for v in evaluate(results)]
    rows += [{"target": f"{r.numerator} / {r.denominator}", "limit": "", "median": f"{r.value:.3f}",
              "spread": spread_text(r.low, r.high, 3), "met": ""} for r in comparisons(results)]
    return pd.DataFrame(rows, columns=["target", "limit", "median", "spread", "met"])


def slope_table(results: Results) -> pd.DataFrame:
    import pandas as pd

    rows = [{"scenario": s.scenario, "tool": s.tool, "notebooks": s.notebooks, "median_s": f"{s.median:.2f}",
             "s_per_notebook": f"{s.per_notebook:.3f}", "work_growth": f"{s.work_growth:g}",
             "time_growth": f"{s.growth:.2f}"} for s in slopes(results)]
    return pd.DataFrame(rows, columns=["scenario", "tool", "notebooks", "median_s", "s_per_notebook",
                                       "work_growth", "time_growth"])


def runs_frame(results: Results) -> pd.DataFrame:
    """Every timed run, one row each (the figures' and tables' downloadable data)."""
    import pandas as pd

    return pd.DataFrame([{"scenario": r.scenario, "tool": results.scenarios[r.scenario].get("tool", "review"),
                          "repeat": r.repeat, "seconds": r.seconds} for r in results.runs],
                        columns=["scenario", "tool", "repeat", "seconds"])


def figure(results: Results) -> Figure:
    """Left: median seconds per scenario with the range of the runs. Right: build time against
    the number of notebooks, per tool, with the proportional line through the smallest book."""
    import matplotlib.pyplot as plt

    from review_utils.render.figures import MARKERS, OKABE_ITO, placeholder

    if not results.runs:
        return placeholder(f"No benchmark results yet: {RERUN}")
    summary = [s for s in summarise(results) if results.scenarios[s.scenario].get("group") != "scale"]
    scale = slopes(results)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.9 + 0.32 * max(len(summary), 4)),
                                      gridspec_kw={"width_ratios": [3, 2]})
    tools = sorted({results.scenarios[s.scenario].get("tool", "review") for s in summary} | {s.tool for s in scale})
    colour = {tool: OKABE_ITO[i % len(OKABE_ITO)] for i, tool in enumerate(tools)}
    ys = list(range(len(summary)))
    for y, s in zip(ys, summary):
        tool = results.scenarios[s.scenario].get("tool", "review")
        left.barh(y, s.median, color=colour[tool], height=0.6)
        left.errorbar(s.median, y, xerr=[[s.median - s.low], [s.high - s.median]], color="black", capsize=3,
                      linewidth=1)
        left.text(s.high, y, f"  {s.median:.2f} s", va="center", fontsize=8)
    left.set_yticks(ys, [s.scenario for s in summary])
    left.invert_yaxis()
    left.set_xscale("log")
    left.set_xlabel("Seconds (median; bar: range of runs; log scale)")
    left.grid(axis="y", visible=False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[t]) for t in tools]
    left.legend(handles, tools, loc="upper right", fontsize=8, frameon=False)
    for i, tool in enumerate(sorted({s.tool for s in scale})):
        mine = [s for s in scale if s.tool == tool]
        xs, ys_ = [s.notebooks for s in mine], [s.median for s in mine]
        right.plot(xs, ys_, marker=MARKERS[i % len(MARKERS)], color=colour[tool], label=tool)
        base = mine[0]
        right.plot([base.notebooks, xs[-1]], [base.median, base.median * xs[-1] / base.notebooks], linestyle=":",
                   color=colour[tool], linewidth=1)
    if scale:
        right.set_xscale("log")
        right.set_yscale("log")
        right.legend(fontsize=8, frameon=False, title="dotted: proportional", title_fontsize=8)
    right.set_xlabel("Notebooks in the book (log scale)")
    right.set_ylabel("Cold build, seconds (log scale)")
    fig.tight_layout()
    return fig


# -- the book's page -------------------------------------------------------------------------
def load_for_book(root: Path) -> Results:
    """The committed results, recorded as read, so the page is executed again when they change."""
    from review_utils.data.package import record_file_read

    path = Path(root) / RESULTS_FILE
    record_file_read(path, root)  # a missing file is recorded too: its arrival re-runs the page
    if not path.is_file():
        return empty()
    return load(path, shown_as=RESULTS_FILE)


def empty() -> Results:
    """No measurements yet (a project that never ran the benchmark): the page says so."""
    return Results(RESULTS_FILE, "", "", None, 0, {}, {}, [])


NOT_MEASURED = "not measured"


def _seconds(results: Results, scenario: str) -> tuple[str, str]:
    values = results.seconds(scenario)
    if not values:
        return NOT_MEASURED, NOT_MEASURED
    return f"{statistics.median(values):.2f} s", f"{min(values):.2f}–{max(values):.2f} s"


def headline(results: Results) -> dict[str, str]:
    """Every number the page's prose states, as text (glued by the notebook)."""
    import datetime as dt

    out: dict[str, str] = {
        "date": NOT_MEASURED,
        "machine": machine_text(results.machine),
        "versions": versions_text(results.machine),
        "repeat": str(results.repeat) if results.runs else NOT_MEASURED,
        "duration": (f"{results.duration_s / 60:.0f} minutes" if results.duration_s is not None else NOT_MEASURED),
        "n_runs": str(len(results.runs)),
    }
    if not results.machine:
        out["machine"] = out["versions"] = NOT_MEASURED
    try:
        out["date"] = dt.date.fromisoformat(results.created[:10]).isoformat()
    except ValueError:
        pass
    scale_runs = {r.repeat for r in results.runs if results.scenarios[r.scenario].get("group") == "scale"}
    out["scale_repeat"] = str(len(scale_runs)) if scale_runs else NOT_MEASURED
    for scenario in ("cold", "no_change", "csv_edit", "csv_edit_wide", "md_edit", "nb_edit", "pdf_only",
                     "jb_force", "jb_cache", "jb_cache_warm", "scale_data_100x"):
        out[f"{scenario}_s"], out[f"{scenario}_range"] = _seconds(results, scenario)
    verdicts = {v.target.key: v for v in evaluate(results)}
    for target in TARGETS:
        v = verdicts.get(target.key)
        out[f"{target.key}_limit"] = f"{target.limit:g}"
        out[f"{target.key}_met"] = NOT_MEASURED if v is None else ("met" if v.met else "not met")
        if target.denominator is None:  # a limit in seconds: its value and range are glued above
            continue
        out[target.key] = f"{v.value:.2f}" if v else NOT_MEASURED
        out[f"{target.key}_range"] = spread_text(v.low, v.high) if v else NOT_MEASURED
    ratios = {(r.numerator, r.denominator): r for r in comparisons(results)}
    for (a, b), key in ((("cold", "jb_cache"), "cold_vs_jb_cache"), (("md_edit", "cold"), "md_edit_vs_cold"),
                        (("nb_edit", "cold"), "nb_edit_vs_cold"), (("csv_edit_wide", "cold"), "csv_edit_wide_vs_cold"),
                        (("scale_nb_50x", "cold"), "scale_50x_vs_cold"), (("jb_force_10x", "jb_force"), "jb_10x_vs_jb"),
                        (("scale_data_100x", "cold"), "data_100x_vs_cold")):
        r = ratios.get((a, b))
        out[key] = f"{r.value:.2f}" if r else NOT_MEASURED
        out[f"{key}_range"] = spread_text(r.low, r.high) if r else NOT_MEASURED
    csv_meta = results.scenarios.get("csv_edit", {})
    out["csv_file"] = str(csv_meta.get("edited", NOT_MEASURED))
    out["csv_readers"] = str(len(csv_meta.get("readers", []))) if "readers" in csv_meta else NOT_MEASURED
    out["notebooks"] = str(results.scenarios.get("cold", {}).get("notebooks", NOT_MEASURED))
    data_meta = results.scenarios.get("scale_data_100x", {})
    out["data_rows"] = f"{data_meta['rows']:,}" if "rows" in data_meta else NOT_MEASURED
    for s in slopes(results):
        out[f"per_nb_{s.scenario}"] = f"{s.per_notebook:.2f} s"
        out[f"nb_{s.scenario}"] = str(s.notebooks)
    grown = [s for s in slopes(results) if s.tool == "review" and s.work_growth > 1]
    if not grown:
        out["scale_verdict"] = NOT_MEASURED
    elif all(s.growth <= s.work_growth for s in grown):
        out["scale_verdict"] = "at every size measured, time grew less than the number of notebooks"
    else:
        out["scale_verdict"] = "at some size measured, time grew faster than the number of notebooks"
    for scenario in ("cold", "scale_nb_10x", "scale_nb_50x", "jb_force", "jb_force_10x"):
        out.setdefault(f"per_nb_{scenario}", NOT_MEASURED)
        out.setdefault(f"nb_{scenario}", NOT_MEASURED)
    return out


# -- registry scale (bench/registry.py) --------------------------------------------------------
REGISTRY_RESULTS = "bench/results/registry_{factor}x.json"
REGISTRY_FACTORS = (100, 10)  # shown: the largest measured
REGISTRY_STEPS = {"monitor": "registry add, monitor folder", "ctgov-json": "registry add, API v2 JSON",
                  "aact": "registry add, AACT flat files"}


def registry_for_book(root: Path) -> tuple[int | None, pd.DataFrame]:
    """The largest registry-scale measurement committed (factor, one row per step), read recorded."""
    import pandas as pd

    from review_utils.data.package import record_file_read

    columns = ["step", "seconds", "peak_mib", "target", "met"]
    for factor in REGISTRY_FACTORS:
        path = Path(root) / REGISTRY_RESULTS.format(factor=factor)
        record_file_read(path, root)
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        targets = data.get("targets", {})
        rows = []
        for fmt, step in REGISTRY_STEPS.items():
            run = data.get("add", {}).get(fmt)
            if run:
                ok = run["rc"] == 0 and run["seconds"] <= targets.get("add_seconds", float("inf")) \
                    and run["peak_mib"] <= targets.get("add_peak_mib", float("inf"))
                rows.append({"step": step, "seconds": f"{run['seconds']:.1f}", "peak_mib": f"{run['peak_mib']:.0f}",
                             "target": f"at most {targets.get('add_seconds')} s and {targets.get('add_peak_mib')} MiB at 100x",
                             "met": ("yes" if ok else "no") if factor == 100 else f"not judged (measured at {factor}x)"})
        run = data.get("notebook")
        if run:
            ok = run["rc"] == 0 and run["seconds"] <= targets.get("notebook_seconds", float("inf"))
            rows.append({"step": "trial chapter notebook (papermill, kernel start included)",
                         "seconds": f"{run['seconds']:.1f}", "peak_mib": f"{run['peak_mib']:.0f}",
                         "target": f"at most {targets.get('notebook_seconds')} s at 100x",
                         "met": ("yes" if ok else "no") if factor == 100 else f"not judged (measured at {factor}x)"})
        return factor, pd.DataFrame(rows, columns=columns)
    return None, pd.DataFrame(columns=columns)


PAGES_RESULTS = "bench/results/pages.json"


def pages_for_book(root: Path) -> tuple[dict[str, str], pd.DataFrame]:
    """The committed page-weight measurement (bench/pages.py): headline texts and one row per
    page, read recorded; 'not measured' texts and no rows when the file is absent."""
    import pandas as pd

    from review_utils.data.package import record_file_read

    columns = ["page", "kind", "transferred_kb", "decoded_kb", "requests", "budget_kb", "within", "fcp_ms"]
    path = Path(root) / PAGES_RESULTS
    record_file_read(path, root)
    if not path.is_file():
        missing = "not measured"
        return ({"pages": missing, "largest_page": missing, "largest_kb": missing, "largest_chart_kb": missing,
                 "largest_other_kb": missing, "median_fcp_ms": missing, "over_budget": missing,
                 "budget_chart_kb": missing, "budget_other_kb": missing}, pd.DataFrame(columns=columns))
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        budgets, summary = data["budgets"], data["summary"]
        rows = [{"page": r["page"], "kind": "with interactive charts" if r["chart_page"] else "text and tables",
                 "transferred_kb": f"{r['transferred'] / 1000:.0f}", "decoded_kb": f"{r['decoded'] / 1000:.0f}",
                 "requests": str(r["requests"]), "budget_kb": f"{r['budget'] / 1000:.0f}",
                 "within": "yes" if r["within_budget"] else "no",
                 "fcp_ms": "not recorded" if r["fcp_ms"] is None else f"{r['fcp_ms']:.0f}"} for r in data["pages"]]
        kb = lambda value: "none" if value is None else f"{value / 1000:.0f} kB"  # noqa: E731
        texts = {
            "pages": str(summary["pages"]), "largest_page": summary["largest_page"],
            "largest_kb": kb(summary["largest_transferred"]), "largest_chart_kb": kb(summary["largest_chart_page"]),
            "largest_other_kb": kb(summary["largest_other_page"]),
            "median_fcp_ms": "not recorded" if summary["median_fcp_ms"] is None else f"{summary['median_fcp_ms']:.0f} ms",
            "over_budget": ", ".join(summary["over_budget"]) or "none",
            "budget_chart_kb": kb(budgets["chart_page"]), "budget_other_kb": kb(budgets["other_page"]),
        }
    except (KeyError, TypeError) as error:
        raise ResultsError(f"{PAGES_RESULTS}: missing or malformed entry {error}; "
                           "re-run `.venv/bin/python bench/pages.py` on a built site") from error
    return texts, pd.DataFrame(rows, columns=columns)
