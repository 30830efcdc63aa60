"""Where a cold build's time goes: phases of ``review build``, then each notebook's fixed costs.

    .venv/bin/python bench/profile.py [--sphinx-profile FILE]

1. A cold ``review build --no-pdf`` of a fresh copy, in this process, with the wall-clock span
   of each phase (plan, validation, Sphinx imports, notebook execution, staging, Sphinx) and the
   process tree's CPU time.
2. Every notebook executed one at a time, as a build worker runs it, with papermill's own
   timing of each code cell: the rest of the time is the kernel's start and shutdown. The first
   code cell holds a chapter's imports. Run it with ``REVIEW_WARM_KERNELS=0`` in the environment
   to see the same with kernels started the ordinary way.
3. With ``--sphinx-profile FILE``, cProfile statistics of the HTML compile step (pstats format).

Measures in fresh temporary copies only, like bench/build.py.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scenarios as sc  # noqa: E402

from review_utils.core.paths import Layout  # noqa: E402
from review_utils.engine import build as B  # noqa: E402
from review_utils.engine import (
    execute,
    site,  # noqa: E402
)

T0 = time.perf_counter()
SPANS: list[tuple[str, float, float]] = []


def _span(owner, name: str, label: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SPANS.append((label, start - T0, time.perf_counter() - T0))

    setattr(owner, name, wrapper)


def phases(root: Path, sphinx_profile: Path | None) -> None:
    for owner, name, label in ((B.Builder, "plan", "plan (digests)"), (B.Builder, "validate", "validate data/"),
                               (site, "preload", "import Sphinx (meanwhile)"),
                               (B.Builder, "execute", "execute notebooks"), (site, "sync_stage", "stage"),
                               (site, "run_sphinx", "Sphinx HTML"), (site, "swap_in", "swap in")):
        _span(owner, name, label)
    if sphinx_profile:
        import cProfile

        original = site.run_sphinx

        def profiled(*args, **kwargs):
            profiler = cProfile.Profile()
            try:
                return profiler.runcall(original, *args, **kwargs)
            finally:
                profiler.dump_stats(str(sphinx_profile))

        site.run_sphinx = profiled
    global T0
    T0 = time.perf_counter()
    B.build(Layout(root), B.Options(overrides={}, quiet=True, pdf=False))
    total = time.perf_counter() - T0
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\ncold build: {total:.2f} s wall; CPU {own.ru_utime + own.ru_stime:.1f} s in this process, "
          f"{children.ru_utime + children.ru_stime:.1f} s in workers and kernels")
    for label, start, end in sorted(SPANS, key=lambda s: s[1]):
        print(f"  {label:<28} {start:7.2f} → {end:7.2f}  {end - start:6.2f} s")


def notebooks(root: Path) -> None:
    import papermill as pm

    os.environ.update(B.KERNEL_ENV)
    os.environ["REVIEW_ROOT"] = str(root)
    warm = os.environ.get("REVIEW_WARM_KERNELS") != "0"
    print(f"\none notebook at a time (warm kernels: {'on' if warm else 'off'})")
    print(f"  {'notebook':<24} {'total':>6} {'cells':>6} {'kernel':>7} {'1st cell':>8}")
    sums = [0.0, 0.0]
    for path in site.notebooks(Layout(root)):
        with tempfile.TemporaryDirectory() as work:
            start = time.perf_counter()
            pm.execute_notebook(str(path), f"{work}/out.ipynb", parameters={}, cwd=work, kernel_name=execute.KERNEL,
                                progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                                kernel_manager_class=execute.ipc_kernel_manager(warm=warm), shutdown_kernel="immediate")
            total = time.perf_counter() - start
            cells = [c["metadata"].get("papermill", {}).get("duration") or 0.0
                     for c in json.loads(Path(f"{work}/out.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
        # papermill's injected parameters cell and the notebook's own parameters cell come first
        first = next((c for c in cells[2:] if c), 0.0)
        sums[0] += total
        sums[1] += total - sum(cells)
        print(f"  {path.stem:<24} {total:6.2f} {sum(cells):6.2f} {total - sum(cells):7.2f} {first:8.2f}")
    print(f"  {'all':<24} {sums[0]:6.2f} {'':>6} {sums[1]:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sphinx-profile", type=Path, help="write cProfile statistics of the Sphinx step here")
    args = parser.parse_args()
    os.environ.setdefault("MPLCONFIGDIR", str(sc.REPO / ".venv/mplconfig"))
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        root = sc.fresh_copy(Path(tmp), "book")
        phases(root, args.sphinx_profile.resolve() if args.sphinx_profile else None)
        notebooks(root)


if __name__ == "__main__":
    main()
