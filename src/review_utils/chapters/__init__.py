"""One module per chapter (its domain logic and views); ``chapters.shared`` holds what two or more
chapters need. A chapter imports render, data, core and chapters.shared, never another chapter
or the notebook facade."""

from __future__ import annotations

from collections.abc import Mapping


def declared_rows() -> dict[str, Mapping[str, tuple[str, ...]]]:
    """Each chapter module's ``ROWS``: the rows of data/ it names by id (resource -> ids), so that
    ``review validate`` can report one that no longer exists, naming the chapter."""
    import importlib
    import pkgutil

    rows = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "shared":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rows[info.name] = getattr(module, "ROWS")
    return rows
