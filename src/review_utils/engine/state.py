"""Fingerprints and the build's memory of what it did (``_build/.review/state.json``).

A notebook's *key* covers what is known before running it: its own source, the parameters, the
``review_utils`` code and the pinned dependencies. What it *read* is only known after running
(recorded by :mod:`review_utils.data.package`), so each record also keeps the fingerprint of every data
resource the notebook loaded. A notebook is re-executed when its key or any of those
fingerprints changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from review_utils.data.package import canonical_json

STATE_VERSION = 3  # 3: notebooks keyed on the modules they imported, not on all of review_utils

# Bump when an engine change alters what executed notebooks contain (the way papermill is driven,
# output clean-up, kernel set-up): every notebook then runs again. Engine modules are not keyed
# per notebook (see review_utils.data.package.NOT_RECORDED), so this is how such a change reaches them.
ENGINE_EPOCH = 1


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_digest(paths: list[Path], base: Path) -> str:
    """One digest over the relative names and contents of ``paths``."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.relative_to(base).as_posix()):
        digest.update(path.relative_to(base).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def notebook_source_digest(path: Path) -> str:
    """What the notebook *does*: cell types, sources and tags; outputs and ids are ignored."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = [
        (c.get("cell_type"), "".join(c.get("source", [])) if isinstance(c.get("source"), list) else c.get("source", ""),
         sorted(c.get("metadata", {}).get("tags", [])))
        for c in notebook.get("cells", [])
    ]
    kernel = notebook.get("metadata", {}).get("kernelspec", {}).get("name")
    return hashlib.sha256(canonical_json({"cells": cells, "kernel": kernel}).encode()).hexdigest()


def code_digest(package_dir: Path, extra: list[Path]) -> str:
    """The review_utils sources (Python, and the site's scripts, styles and templates that ship
    with it) plus files that change results (the dependency locks)."""
    files = sorted(p for p in package_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    digest = hashlib.sha256(files_digest(files, package_dir).encode())
    for path in extra:
        if path.is_file():
            digest.update(file_digest(path).encode())
    return digest.hexdigest()


@dataclass
class NotebookRecord:
    key: str
    reads: dict[str, str]  # resource name -> fingerprint at run time
    seconds: float


@dataclass
class BuildState:
    version: int = STATE_VERSION
    validated: str | None = None  # fingerprint of the package that last validated cleanly
    notebooks: dict[str, NotebookRecord] = field(default_factory=dict)
    site: dict[str, str] = field(default_factory=dict)  # output name -> fingerprint of its inputs

    @classmethod
    def load(cls, path: Path) -> BuildState:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return cls()
        if raw.get("version") != STATE_VERSION:
            return cls()
        return cls(
            version=STATE_VERSION,
            validated=raw.get("validated"),
            notebooks={k: NotebookRecord(**v) for k, v in raw.get("notebooks", {}).items()},
            site=dict(raw.get("site", {})),
        )

    def save(self, path: Path) -> None:
        """Atomic: a crash mid-write leaves the previous state, never a torn file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = {
            "version": self.version,
            "validated": self.validated,
            "notebooks": {k: asdict(v) for k, v in sorted(self.notebooks.items())},
            "site": dict(sorted(self.site.items())),
        }
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
