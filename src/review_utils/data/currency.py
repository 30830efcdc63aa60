"""How current the package is: fact rows whose ``checked_on`` is older than a period before the
edition date, or missing. ``review validate`` lists them as warnings (a stale row is not wrong,
but a reader should know it was not re-checked); the Data appendix shows the same counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

CHECKED = "checked_on"


@dataclass(frozen=True)
class Stale:
    file: str
    row_id: str
    checked_on: str  # ISO date, or "never"

    def __str__(self) -> str:
        when = "never checked" if self.checked_on == "never" else f"last checked {self.checked_on}"
        return f"{self.file} row {self.row_id}: {when}"


def fact_resources(package) -> list[str]:
    """The resources whose rows record when they were last checked (a ``checked_on`` field)."""
    return [name for name in package.resource_names if CHECKED in package.resource(name).field_names]


def stale_rows(package, frames: Mapping[str, pd.DataFrame], edition: dt.date, within_days: int) -> list[Stale]:
    """Fact rows not checked in the ``within_days`` before ``edition`` (or never), by file and key."""
    import pandas as pd

    oldest = pd.Timestamp(edition - dt.timedelta(days=within_days))
    out = []
    for name in fact_resources(package):
        frame = frames.get(name)
        if frame is None:
            continue
        resource = package.resource(name)
        key = resource.descriptor["schema"].get("primaryKey")
        key = key[0] if isinstance(key, list) else key
        for row in frame.itertuples(index=False):
            checked = getattr(row, CHECKED)
            if pd.isna(checked) or checked < oldest:
                out.append(Stale(resource.display_path, str(getattr(row, key)),
                                 "never" if pd.isna(checked) else checked.date().isoformat()))
    return out


def currency_table(package, frames: Mapping[str, pd.DataFrame], edition: dt.date, within_days: int) -> pd.DataFrame:
    """Per fact table: rows, rows checked within the period, stale rows, never-checked rows, and
    the oldest and newest check date."""
    import pandas as pd

    oldest = pd.Timestamp(edition - dt.timedelta(days=within_days))
    rows = []
    for name in fact_resources(package):
        checked = frames[name][CHECKED] if name in frames else pd.Series([], dtype="datetime64[ns]")
        rows.append({
            "resource": name, "rows": int(len(checked)),
            "current": int((checked >= oldest).sum()),
            "stale": int((checked < oldest).sum()),
            "never": int(checked.isna().sum()),
            "oldest_check": "" if checked.dropna().empty else checked.min().date().isoformat(),
            "newest_check": "" if checked.dropna().empty else checked.max().date().isoformat(),
        })
    return pd.DataFrame(rows, columns=["resource", "rows", "current", "stale", "never", "oldest_check", "newest_check"])
