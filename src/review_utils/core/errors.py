"""Errors the project raises on purpose; anything else is a bug."""

from __future__ import annotations

from dataclasses import dataclass


class ReviewError(Exception):
    """Base class: a problem the user can act on. The CLI prints it without a traceback."""


@dataclass(frozen=True, order=True)
class Problem:
    """One defect in the data, named the way a person editing the CSV can find it.

    ``row`` counts lines as a spreadsheet shows them: the header is row 1, the first record row 2.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message} [{self.rule}]"


class DataValidationError(ReviewError):
    """The data package has one or more problems; all of them are listed."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or "", p.rule))
        super().__init__(self.render())

    def render(self, limit: int | None = None) -> str:
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [f"The data package has {len(self.problems)} problem(s):"]
        lines += [f"  - {p}" for p in shown]
        if limit is not None and len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        lines.append("Fix the rows named above (or datapackage.json if the rule is wrong), then rebuild.")
        return "\n".join(lines)


class ParameterError(ReviewError):
    """A book parameter given on the command line or to a notebook is unknown or malformed."""


class NotebookError(ReviewError):
    """A notebook raised while executing."""
