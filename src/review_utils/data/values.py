"""Small facts about cell values that every layer above asks: is it missing, which row has this key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas' NA and NaT: what the loader makes of an empty cell.

    The text "nan" (or "NA", "<NA>") is *not* missing: the loader never produces it from an
    empty cell, so a cell holding it was typed that way and is shown as typed.
    """
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array: not a single missing value
        return False


def row_by_key(frame: pd.DataFrame, key_column: str, key: Any) -> pd.Series | None:
    """The first row whose ``key_column`` equals ``key``, or None when the edition has no such row."""
    hit = frame[frame[key_column] == key]
    return None if hit.empty else hit.iloc[0]


def value_by_key(frame: pd.DataFrame, key_column: str, key: Any, column: str = "value") -> int | float | None:
    """The number in ``column`` of the row with this key (an int when whole), or None when the
    edition has no such row or the row states no single number."""
    row = row_by_key(frame, key_column, key)
    if row is None or is_missing(row[column]):
        return None
    value = float(row[column])
    return int(value) if value.is_integer() else value
