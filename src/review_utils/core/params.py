"""Book parameters: declared once in ``params.yml``, overridable per build.

A notebook's parameters cell sets each parameter to ``None``; papermill injects the values the
build chose, and :func:`resolve` fills in the defaults, so defaults are never repeated in notebooks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from review_utils.core.errors import ParameterError

_PARSERS = {
    "date": lambda v: v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)),
    "int": int,
    "float": float,
    "str": str,
    # a date that may be left empty (then the notebook chooses, e.g. one year before the edition)
    "optional_date": lambda v: None if v in ("", None) else (v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))),
}


def declarations(params_file: Path) -> dict[str, dict[str, Any]]:
    try:
        raw = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ParameterError(f"{params_file}: parameter file is missing") from None
    for name, decl in raw.items():
        if not isinstance(decl, dict) or "default" not in decl or decl.get("type") not in _PARSERS:
            raise ParameterError(
                f"{params_file}: parameter {name!r} needs 'type' (one of {sorted(_PARSERS)}) and 'default'"
            )
    return raw


def _convert(name: str, value: Any, decl: dict[str, Any], origin: str) -> Any:
    try:
        return _PARSERS[decl["type"]](value)
    except (TypeError, ValueError):
        hint = " (use YYYY-MM-DD)" if decl["type"] in ("date", "optional_date") else ""
        raise ParameterError(f"{origin}: {name}={value!r} is not a valid {decl['type']}{hint}") from None


def resolve(params_file: Path, given: dict[str, Any] | None = None, origin: str = "parameters") -> dict[str, Any]:
    """Defaults overlaid with ``given`` (``None`` values mean 'use the default'), typed and checked."""
    decls = declarations(params_file)
    given = {k: v for k, v in (given or {}).items() if v is not None}
    unknown = sorted(set(given) - set(decls))
    if unknown:
        raise ParameterError(f"{origin}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(decls))}")
    return {
        name: _convert(name, given.get(name, decl["default"]), decl, origin)
        for name, decl in sorted(decls.items())
    }


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["as_of=2024-12-31"]`` from the command line to a dict (still untyped)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"-p {item!r}: expected NAME=VALUE, e.g. -p as_of=2024-12-31")
        out[name.strip()] = value.strip()
    return out


def to_json(params: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON values (what papermill injects and what the cache key hashes)."""
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in sorted(params.items())}
