"""Run one notebook with papermill (in a worker process) and describe any failure usefully."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from review_utils.data.package import READS_MIME

KERNEL = "python3"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# papermill and nbclient write these; they vary run to run and carry no content.
_VOLATILE_CELL_METADATA = ("execution", "papermill")


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Execute ``job['source']`` into ``job['output']`` with ``job['parameters']``.

    Runs in a separate process (papermill changes the working directory, which threads
    would share). Returns a plain dict so nothing unpicklable crosses the process boundary.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    started = time.monotonic()
    # The kernel inherits this worker's stderr; send it to a log beside the notebook so that a
    # kernel stopped with its worker (e.g. when validation fails) does not talk on the terminal.
    log = open(Path(job["cwd"]) / "kernel.log", "ab")
    os.dup2(log.fileno(), 2)
    try:
        pm.execute_notebook(
            job["source"], job["output"], parameters=job["parameters"], cwd=job["cwd"],
            kernel_name=KERNEL, progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            kernel_manager_class=ipc_kernel_manager(warm=job.get("warm", False)),
            # The notebook is complete when the last cell returns; a graceful kernel shutdown
            # only adds waiting to every run.
            shutdown_kernel="immediate",
        )
    except PapermillExecutionError as exc:
        return {"ok": False, "seconds": time.monotonic() - started, **describe_failure(exc, Path(job["source"]))}
    except Exception as exc:  # kernel death, unreadable notebook, ...
        return {"ok": False, "seconds": time.monotonic() - started, "cell": None,
                "summary": f"{type(exc).__name__}: {exc}", "line": None}
    return {"ok": True, "seconds": time.monotonic() - started}


def ipc_kernel_manager(warm: bool = False):
    """A kernel manager talking to its kernel over local sockets in a private folder, not TCP
    ports: nothing listens on the network, and the kernel has no reason to warn about it.
    With ``warm``, kernels are forked from a kernel parent (:mod:`review_utils.engine.kernels`)."""
    import tempfile

    from jupyter_client import AsyncKernelManager

    from review_utils.engine import kernels

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(Path(tempfile.mkdtemp(prefix="review-kernel-")) / "kernel")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # a warm kernel forked from this worker's kernel parent (see review_utils.engine.kernels);
            # the provisioner then watches, signals and kills it as it would its own child
            forked = None
            if warm:
                forked = kernels.launch(kernel_cmd, kw.get("env") or dict(os.environ), kw.get("cwd") or os.getcwd())
            if forked is None:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            provisioner = self.provisioner
            provisioner.process, provisioner.pid, provisioner.pgid = forked, forked.pid, forked.pid
            provisioner.cwd = kw.get("cwd")
            self._reconcile_connection_info(provisioner.connection_info)

    return IPCKernelManager


def describe_failure(exc, source: Path) -> dict[str, Any]:
    """Where the author finds the failing cell: its position in *their* notebook (papermill's
    index counts the injected parameters cell and its own error-marker cells), matched by source."""
    failing = (exc.source or "").strip()
    cell = code_cell = None
    try:
        cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
        code_seen = 0
        for index, candidate in enumerate(cells):
            if candidate.get("cell_type") == "code":
                code_seen += 1
                text = candidate.get("source", "")
                if ("".join(text) if isinstance(text, list) else text).strip() == failing:
                    cell, code_cell = index + 1, code_seen
                    break
    except (OSError, ValueError, KeyError):
        pass
    first = failing.splitlines()[0] if failing else ""
    return {"cell": cell, "code_cell": code_cell, "summary": f"{exc.ename}: {exc.evalue}",
            "line": key_line(exc.traceback), "first_line": first}


_ARROW = re.compile(r"^\s*-*>\s*\d+")


def key_line(traceback: list[str]) -> str | None:
    """The arrowed line in the notebook cell's own frame ('---> 10 x = f()'); IPython marks
    the cell's frame 'Cell In[n], line m', after any chained library frames."""
    lines = _ANSI.sub("", "\n".join(traceback)).splitlines()
    in_cell = False
    for line in lines:
        if line.startswith("Cell In["):
            in_cell = True
        elif in_cell and _ARROW.match(line):
            return line.strip()
    arrows = [line.strip() for line in lines if _ARROW.match(line)]
    return arrows[-1] if arrows else None


def harvest_reads(notebook: dict[str, Any]) -> dict[str, str]:
    """Resource fingerprints the notebook recorded while running; the records are removed."""
    reads: dict[str, str] = {}
    for cell in notebook.get("cells", []):
        kept = []
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(READS_MIME)
            if record is None:
                kept.append(output)
            else:
                reads[record["resource"]] = record["fingerprint"]
        if "outputs" in cell:
            cell["outputs"] = kept
    return dict(sorted(reads.items()))


def prepare_for_publishing(notebook: dict[str, Any]) -> dict[str, Any]:
    """Hide parameter cells from readers and drop run-to-run noise (timings)."""
    for cell in notebook.get("cells", []):
        meta = cell.setdefault("metadata", {})
        for key in _VOLATILE_CELL_METADATA:
            meta.pop(key, None)
        tags = meta.get("tags", [])
        if "injected-parameters" in tags:
            cell["id"] = "injected-parameters"  # papermill draws a random id for it
        if ("injected-parameters" in tags or "parameters" in tags) and "remove-cell" not in tags:
            meta["tags"] = [*tags, "remove-cell"]
    notebook.get("metadata", {}).pop("papermill", None)
    return notebook
