"""``review build``: validate → execute stale notebooks in parallel → stage → compile → swap in.

Nothing is published unless every step succeeded: notebooks execute into private work folders,
the site compiles into a temporary folder, and only then replaces ``_build/html``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from review_utils.core.errors import NotebookError, ReviewError
from review_utils.core.params import resolve, to_json
from review_utils.core.paths import ROOT_ENV, Layout, web_modules
from review_utils.data.package import (
    FILE_READ_PREFIX,
    MODULE_READ_PREFIX,
    DataPackage,
    canonical_json,
    file_fingerprint,
    module_fingerprint,
)
from review_utils.engine import execute, kernels, site
from review_utils.engine.lock import build_lock
from review_utils.engine.progress import Progress
from review_utils.engine.state import (
    ENGINE_EPOCH,
    BuildState,
    NotebookRecord,
    code_digest,
    file_digest,
    files_digest,
    notebook_source_digest,
)

# Fixed values for the kernels, so outputs do not depend on the moment or the machine's hash seed.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "1767225600", "MPLBACKEND": "Agg"}


@dataclass
class Options:
    overrides: dict[str, Any]
    jobs: int = os.cpu_count() or 1
    force: bool = False
    quiet: bool | None = None
    strict: bool = True
    pdf: bool = True
    # chapter -> resource -> ids the chapter names, for validation (rule chapterRows); a callable,
    # so that chapters are imported only when the data has to be validated at all
    chapter_rows: Callable[[], Mapping[str, Mapping[str, tuple[str, ...]]]] | None = None
    # rules that need the chapters' code on a valid package (the audit's claimMateriality): a
    # callable from the data folder to its problems, passed in by the command line
    ledger_checks: Callable[[Path], list[Any]] | None = None


@dataclass
class Plan:
    rel: str
    source: Path
    key: str
    stale: bool
    reason: str


class Builder:
    def __init__(self, layout: Layout, options: Options, progress: Progress | None = None):
        self.layout = layout
        self.options = options
        self.progress = progress or Progress(options.quiet)
        self.state_file = layout.state / "state.json"
        self.cache = layout.state / "cache"
        self.stage = layout.state / "stage"
        self.state = BuildState.load(self.state_file)
        self.package = DataPackage(layout.data)

    # -- steps -----------------------------------------------------------------------------
    def validate(self) -> None:
        from review_utils.data.validate import check_package

        fingerprint = self._data_fingerprint()
        if self.state.validated == fingerprint:
            return
        self.progress.step("validating data/")
        check_package(self.layout.data, self.options.chapter_rows() if self.options.chapter_rows else None)
        if self.options.ledger_checks is not None:
            from review_utils.core.errors import DataValidationError

            problems = self.options.ledger_checks(self.layout.data)
            if problems:
                raise DataValidationError(problems)
        self.state.validated = fingerprint
        self.state.save(self.state_file)

    def plan(self, params: dict[str, Any]) -> list[Plan]:
        # code a notebook imports is in its reads; the key holds what every notebook depends on
        lock = self.layout.root / "requirements.lock"
        code = f"epoch {ENGINE_EPOCH}|{file_digest(lock) if lock.is_file() else 'no lock'}"
        params_json = canonical_json(to_json(params))
        plans, seen = [], {}
        for path in site.notebooks(self.layout):
            rel = path.relative_to(self.layout.root).as_posix()
            key = hashlib.sha256(f"{notebook_source_digest(path)}|{params_json}|{code}".encode()).hexdigest()
            stale, reason = self._staleness(rel, path.stem, key, seen)
            plans.append(Plan(rel, path, key, stale or self.options.force, "forced" if self.options.force else reason))
        return plans

    def execute(self, plans: list[Plan], params: dict[str, Any], meanwhile: Callable[[], None]) -> None:
        """Run the stale notebooks; ``meanwhile`` runs in this process while they execute.

        ``meanwhile`` holds the validation gate: notebooks start speculatively, but no result is
        accepted until it returned, and if it raises the workers are stopped and nothing is kept.
        """
        todo = [p for p in plans if p.stale]
        for plan in plans:
            if not plan.stale:
                self.progress.notebook(plan.rel, "cached", self.state.notebooks[plan.rel].seconds)
        if not todo:
            meanwhile()
            return
        env_backup = {k: os.environ.get(k) for k in (*KERNEL_ENV, ROOT_ENV)}
        os.environ.update(KERNEL_ENV)
        os.environ[ROOT_ENV] = str(self.layout.root)  # spawned workers and their kernels inherit it
        failures = []
        try:
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=max(1, self.options.jobs), mp_context=context) as pool:
                try:
                    failures = self._run_pool(pool, todo, params, meanwhile)
                except BaseException:
                    for process in list(getattr(pool, "_processes", {}).values()):
                        process.terminate()
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        finally:
            for key, value in env_backup.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        if failures:
            raise NotebookError("\n".join(failures) + "\nNothing was published: the previous site in _build/html is unchanged.")

    def _run_pool(self, pool: ProcessPoolExecutor, todo: list[Plan], params: dict[str, Any],
                  meanwhile: Callable[[], None]) -> list[str]:
        queue = list(todo)
        running: dict[Future, Plan] = {}
        failures: list[str] = []
        parameters = to_json(params)
        warm = kernels.worth_it(len(todo), self.options.jobs)  # see review_utils.engine.kernels
        gate_open = False
        while queue or running:
            while queue and len(running) < max(1, self.options.jobs):
                plan = queue.pop(0)
                work = self._fresh_dir(self.layout.state / "work" / plan.source.stem)
                job = {"source": str(plan.source), "output": str(work / plan.source.name),
                       "cwd": str(work), "parameters": parameters, "warm": warm}
                running[pool.submit(execute.run, job)] = plan
                self.progress.notebook(plan.rel, "running", detail=f"({plan.reason})")
            if not gate_open:
                meanwhile()
                gate_open = True
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                plan = running.pop(future)
                result = future.result()
                if result["ok"]:
                    self._accept(plan, result["seconds"])
                    self.progress.notebook(plan.rel, "done", result["seconds"])
                else:
                    failures.append(self._reject(plan, result))
                    self.progress.notebook(plan.rel, "failed", result["seconds"])
        return failures

    def _accept(self, plan: Plan, seconds: float) -> None:
        """Harvest what the notebook read, clean it for readers, and move it into the cache."""
        work = self.layout.state / "work" / plan.source.stem
        output = work / plan.source.name
        notebook = json.loads(output.read_text(encoding="utf-8"))
        reads = execute.harvest_reads(notebook)
        execute.prepare_for_publishing(notebook)
        output.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        (work / "kernel.log").unlink(missing_ok=True)  # kernel chatter; the notebook succeeded
        target = self.cache / plan.source.stem
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work, target)
        self.state.notebooks[plan.rel] = NotebookRecord(plan.key, reads, round(seconds, 2))
        self.state.save(self.state_file)

    def _reject(self, plan: Plan, result: dict[str, Any]) -> str:
        """Keep the failed notebook for inspection; forget any earlier success of it."""
        self.state.notebooks.pop(plan.rel, None)
        self.state.save(self.state_file)
        failed_dir = self.layout.state / "failed"
        failed_dir.mkdir(parents=True, exist_ok=True)
        work = self.layout.state / "work" / plan.source.stem
        kept = failed_dir / plan.source.name
        if (work / plan.source.name).exists():
            os.replace(work / plan.source.name, kept)
        if (work / "kernel.log").exists():
            os.replace(work / "kernel.log", failed_dir / f"{plan.source.stem}.kernel.log")
        shutil.rmtree(work, ignore_errors=True)
        if result.get("cell"):
            where = f"cell {result['cell']} (code cell {result['code_cell']})"
        elif "first_line" in result:  # a cell raised, but its source no longer matches the notebook
            where = "a cell"
        else:  # the kernel failed before or between cells
            where = "start-up"
        lines = [f"{plan.rel} failed at {where}" + (f" ({result['first_line']})" if result.get("first_line") else "") + ":"]
        if result.get("line"):
            lines.append(f"    {result['line']}")
        lines.append(f"  {result['summary']}")
        if kept.exists():
            lines.append(f"  Full traceback: {kept.relative_to(self.layout.root)}")
        return "\n".join(lines)

    def _site_inputs(self, params: dict[str, Any]) -> tuple[dict[str, bytes], str]:
        """The staged files (bibliography aside) and a digest of everything the site depends on.

        The bibliography is generated from data/sources.csv only when compiling; the digest uses
        that file's fingerprint instead, so deciding 'nothing to do' never needs pandas.
        """
        files: dict[str, bytes] = {name: (self.layout.root / name).read_bytes() for name in site.STAGED_ROOT_FILES}
        files.update(site.collect_tree(site.SITE_ASSETS, site.STAGED_SITE_ASSETS))
        for path in site.book_sources(self.layout):
            files[path.relative_to(self.layout.root).as_posix()] = path.read_bytes()
        for path in site.notebooks(self.layout):
            rel_dir = path.parent.relative_to(self.layout.root).as_posix()
            cached = self.cache / path.stem
            files[f"{rel_dir}/{path.name}"] = (cached / path.name).read_bytes()
            files.update(site.collect_tree(cached / "_generated", f"{rel_dir}/_generated"))
        digest = hashlib.sha256(canonical_json({
            "files": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())},
            "sources": self.package.resource("sources").fingerprint(),
            "code": self._code_digest(),
            "strict": self.options.strict,
            "params": to_json(params),  # the edition date reaches the title page and the PDF
        }).encode()).hexdigest()
        return files, digest

    def _outputs_current(self, digest: str) -> bool:
        """Were the published outputs built from inputs with this digest (and are they there)?"""
        wanted = {"html": self.layout.html / "index.html"}
        if self.options.pdf:
            wanted["pdf"] = self.layout.pdf_dir / site.PDF_NAME
        return all(self.state.site.get(name) == digest and path.is_file() for name, path in wanted.items())

    def site_is_current(self, params: dict[str, Any]) -> bool:
        try:
            _, digest = self._site_inputs(params)
        except FileNotFoundError:  # a notebook has no cached result yet
            return False
        return self._outputs_current(digest)

    def stage_and_compile(self, params: dict[str, Any]) -> bool:
        """Stage the book and compile it, unless the outputs were built from the same inputs."""
        import datetime as dt

        import pandas as pd

        from review_utils.data.bibliography import to_bibtex

        files, digest = self._site_inputs(params)
        if self._outputs_current(digest):
            return False
        edition = dt.date.fromisoformat(to_json(params)["as_of"])
        sources = self.package.load("sources")
        late = site.late_citations(files, sources, edition)
        computed = [item for item in late if item[3] == "output"]
        if computed:
            listed = "\n".join(f"  - {page} cites {key!r}, published {when}" for page, key, when, _ in computed)
            raise ReviewError(
                f"the {edition} edition would cite sources published after its date:\n{listed}\n"
                "An edition cites only what it could have cited: date the row by a source of its time, "
                "or leave the row out of the edition (nothing was published).")
        # Prose written by hand does not follow the edition's data yet (the chapters' text is not
        # edition-aware): its late citations are listed, and kept citable so the page builds.
        prose = [item for item in late if item[3] == "prose"]
        if prose:
            self.progress.warn(f"the {edition} edition's prose cites {len({k for _, k, _, _ in prose})} source(s) "
                               f"published after its date, on {len({p for p, _, _, _ in prose})} page(s):\n"
                               + "\n".join(f"  - {page} cites {key!r}, published {when}" for page, key, when, _ in prose))
        # the bibliography holds what the edition could cite: sources published by its date
        allowed = sources["published"].isna() | (sources["published"] <= pd.Timestamp(edition))
        citable = sources[allowed | sources["source_id"].isin({k for _, k, _, _ in prose})]
        files["_generated/references.bib"] = to_bibtex(citable).encode("utf-8")
        site.sync_stage(self.stage, files)
        self.progress.step("compiling the site" + (" and the PDF" if self.options.pdf else "") + " (Jupyter Book)")
        self.state.site.clear()
        self.state.save(self.state_file)
        site.compile_site(self.layout, self.stage, strict=self.options.strict, pdf=self.options.pdf,
                          today=to_json(params)["as_of"])
        self.state.site["html"] = digest
        if self.options.pdf:
            self.state.site["pdf"] = digest
        self.state.save(self.state_file)
        return True

    # -- helpers ---------------------------------------------------------------------------
    def _staleness(self, rel: str, stem: str, key: str, seen: dict | None = None) -> tuple[bool, str]:
        record = self.state.notebooks.get(rel)
        if record is None or not (self.cache / stem / f"{stem}.ipynb").is_file():
            return True, "new"
        if record.key != key:
            return True, "source, parameters, dependencies or engine epoch changed"
        for name, fingerprint in record.reads.items():
            current, shown = self._read_fingerprint(name, seen)
            if current is None:
                return True, f"{shown} is gone"
            if current != fingerprint:
                return True, f"{shown} changed"
        return False, "up to date"

    def _read_fingerprint(self, name: str, seen: dict | None = None) -> tuple[str | None, str]:
        """The current fingerprint of something a notebook read (None if it is gone), and its name.
        ``seen`` keeps them for one plan: every notebook reads the facade's modules, and many
        share tables, so each is computed once per build."""
        if seen is None:
            return self._fingerprint_now(name)
        if name not in seen:
            seen[name] = self._fingerprint_now(name)
        return seen[name]

    def _fingerprint_now(self, name: str) -> tuple[str | None, str]:
        if name.startswith(FILE_READ_PREFIX):
            rel = name[len(FILE_READ_PREFIX):]
            return file_fingerprint(self.layout.root / rel), rel
        if name.startswith(MODULE_READ_PREFIX):
            module = name[len(MODULE_READ_PREFIX):]
            current = module_fingerprint(module)
            return (None if current == "absent" else current), f"module {module}"
        try:
            resource = self.package.resource(name)
            return resource.fingerprint(), resource.display_path
        except (ReviewError, OSError):
            return None, f"data resource {name}"

    def _data_fingerprint(self) -> str:
        files = [self.layout.descriptor] + [p for p in self.layout.data.rglob("*") if p.is_file() and p != self.layout.descriptor]
        return hashlib.sha256(f"{files_digest(files, self.layout.data)}|{self._code_digest()}".encode()).hexdigest()

    def _code_digest(self) -> str:
        if not hasattr(self, "_code"):
            # web/package-lock.json: the JavaScript the site serves (see engine/web_assets.py)
            self._code = code_digest(self.layout.package_src, [self.layout.root / "requirements.lock",
                                                               web_modules().parent / "package-lock.json"])
        return self._code

    @staticmethod
    def _fresh_dir(path: Path) -> Path:
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def build(layout: Layout, options: Options) -> None:
    """The whole build. Raises :class:`ReviewError` subclasses for problems a user can fix."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with build_lock(layout.state / "build.lock"):
            site.restore_interrupted([layout.html, layout.pdf_dir])
            builder = Builder(layout, options)
            params = resolve(layout.params_file, options.overrides, origin="review build -p")
            plans = builder.plan(params)
            # With every notebook cached, one look at the site's inputs settles whether Sphinx
            # is needed at all (and then its imports are not worth loading).
            site_current = not any(plan.stale for plan in plans) and builder.site_is_current(params)

            def meanwhile() -> None:
                builder.validate()
                if not site_current:
                    site.preload()

            builder.execute(plans, params, meanwhile)
            compiled = False if site_current else builder.stage_and_compile(params)
            outputs = [layout.html.relative_to(layout.root).as_posix()]
            if options.pdf:
                outputs.append((layout.pdf_dir / site.PDF_NAME).relative_to(layout.root).as_posix())
            builder.progress.summary(("up to date: " if not compiled else "built ") + " and ".join(outputs))
    finally:
        signal.signal(signal.SIGTERM, previous)
