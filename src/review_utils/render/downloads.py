"""The CSV files offered to readers beside each table and figure.

Spreadsheets execute cells that start with ``=``, ``+``, ``-``, ``@``, tab or carriage return
(CSV injection, OWASP). Text cells starting that way get a leading apostrophe, which spreadsheets
show as plain text; numeric columns are left alone so that negative numbers stay numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_string_dtype(series) or series.dtype == object:
            out[column] = series.map(neutralise, na_action="ignore")
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Deterministic bytes: UTF-8, ``\\n`` line ends, fixed column order, no index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_frame(frame).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
