"""Where things live. Every path the code uses is derived here from the project root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from review_utils.core.errors import ReviewError

ROOT_ENV = "REVIEW_ROOT"


def find_root(start: Path | None = None) -> Path:
    """The project root: $REVIEW_ROOT, else the nearest folder above ``start`` holding
    ``_config.yml`` and ``data/datapackage.json``."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "data" / "datapackage.json").is_file():
            return folder
    raise ReviewError(
        f"No review book found at or above {here}: expected _config.yml and data/datapackage.json. "
        f"Run from inside the repository or set {ROOT_ENV}."
    )


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def descriptor(self) -> Path:
        return self.data / "datapackage.json"

    @property
    def book(self) -> Path:
        return self.root / "book"

    @property
    def params_file(self) -> Path:
        return self.root / "params.yml"

    @property
    def build(self) -> Path:
        return self.root / "_build"

    @property
    def html(self) -> Path:
        return self.build / "html"

    @property
    def pdf_dir(self) -> Path:
        return self.build / "pdf"

    @property
    def state(self) -> Path:
        """Private working area: cache, staging copy, lock. Never published."""
        return self.build / ".review"

    @property
    def package_src(self) -> Path:
        return Path(__file__).resolve().parents[1]  # src/review_utils (this file is in core/)


WEB_MODULES_ENV = "REVIEW_WEB_MODULES"


def web_modules() -> Path:
    """The npm packages the site serves (``web/node_modules``, installed by ``run.sh`` from
    ``web/package-lock.json``): $REVIEW_WEB_MODULES, else beside this package's source, so that
    throw-away copies of the book built with this code find them too."""
    if os.environ.get(WEB_MODULES_ENV):
        return Path(os.environ[WEB_MODULES_ENV]).resolve()
    return Path(__file__).resolve().parents[3] / "web" / "node_modules"
