"""Run one notebook with papermill (in a worker process) and describe any failure usefully."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from .data import READS_MIME

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
    try:
        pm.execute_notebook(
            job["source"], job["output"], parameters=job["parameters"], cwd=job["cwd"],
            kernel_name=KERNEL, progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            kernel_manager_class=ipc_kernel_manager(),
        )
    except PapermillExecutionError as exc:
        return {"ok": False, "seconds": time.monotonic() - started, **describe_failure(exc, Path(job["output"]))}
    except Exception as exc:  # kernel death, unreadable notebook, ...
        return {"ok": False, "seconds": time.monotonic() - started, "cell": None,
                "summary": f"{type(exc).__name__}: {exc}", "line": None}
    return {"ok": True, "seconds": time.monotonic() - started}


def ipc_kernel_manager():
    """A kernel manager talking to its kernel over local sockets in a private folder, not TCP
    ports: nothing listens on the network, and the kernel has no reason to warn about it."""
    import tempfile

    from jupyter_client import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(Path(tempfile.mkdtemp(prefix="review-kernel-")) / "kernel")

    return IPCKernelManager


def describe_failure(exc, output: Path) -> dict[str, Any]:
    """Cell number as the author sees it (injected parameters cell not counted) and the
    traceback line inside that cell."""
    cell = exc.cell_index + 1
    try:
        cells = json.loads(output.read_text(encoding="utf-8"))["cells"]
        injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
        if injected and exc.cell_index > injected[0]:
            cell -= 1
    except (OSError, ValueError, KeyError):
        pass
    return {"cell": cell, "summary": f"{exc.ename}: {exc.evalue}", "line": key_line(exc.traceback),
            "first_line": (exc.source or "").strip().splitlines()[0] if (exc.source or "").strip() else ""}


def key_line(traceback: list[str]) -> str | None:
    """The arrowed line in the notebook cell's own frame ('----> 3 x = f()')."""
    lines = _ANSI.sub("", "\n".join(traceback)).splitlines()
    in_cell = False
    for line in lines:
        if line.startswith("Cell In["):
            in_cell = True
        elif in_cell and line.lstrip().startswith("---->"):
            return line.strip()
    arrows = [line.strip() for line in lines if line.lstrip().startswith("---->")]
    return arrows[0] if arrows else None


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
        if ("injected-parameters" in tags or "parameters" in tags) and "remove-cell" not in tags:
            meta["tags"] = [*tags, "remove-cell"]
    notebook.get("metadata", {}).pop("papermill", None)
    return notebook
