"""The claims audit: every quantitative claim of the seed documents, checked against the data.

A claim is a row of ``data/claims.csv``: the value a document states (with its wording: exact,
about, over, a range ...) and, in the ``evidence`` column, how to check it. Evidence is a list of
items separated by ``;``:

``row RESOURCE:KEY`` or ``row RESOURCE:KEY.COLUMN``
    the value another row of the data package states (a composite primary key is written with
    ``/`` between its parts, e.g. ``pipeline_stages:CAR-T/approved/cde2025briefing``). Without a
    column, the row's own value columns are read with their qualifier; a date column gives its
    year (for claims about a year).
``claim CLAIM_ID``
    the value another claim of the ledger states (the same document restating a figure, or another
    document stating it).
``calc EXPRESSION``
    arithmetic (``+ - * /``, brackets, numbers) over ``{RESOURCE:KEY.COLUMN}`` cells: a
    percentage from its numerator and denominator, a remainder from a price and a payout.
``count products|indications FIELD=VALUE|VALUE, ...``
    a recount of the approvals table (joined with products) on the date the claim holds for.

The status of a claim follows these rules, in this order (:func:`status_of`):

``not_checkable``
    the ledger says so (and the ``needed`` column says what data would settle it), or no evidence
    item is known by the edition date;
``contradicted``
    a value stated by *another source* disagrees with the claim;
``differs``
    a value recomputed or recounted from the data, or the same document's own figure elsewhere,
    disagrees;
``reproduced``
    every usable item agrees.

Agreement (:func:`agrees`): the stated value is read as the interval its wording allows, widened by
half a unit of its last stated digit ("28 %" covers 27.5 to 28.5, "41.7 %" covers 41.65 to 41.75);
"about" allows :data:`ABOUT` either way and "nearly" :data:`NEARLY` below. A value stated by
another document is read the same way; a recomputed value is exact. The two agree when the
intervals overlap. Each disagreement reports both values and the size of the gap.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .errors import Problem, ReviewError
from .stats import is_missing as _missing  # empty cell: None, NaN, NaT or pandas NA

if TYPE_CHECKING:
    import pandas as pd

STATUSES = ("reproduced", "differs", "contradicted", "not_checkable")
STATUS_LABELS = {
    "reproduced": "reproduced",
    "differs": "differs",
    "contradicted": "contradicted by another source",
    "not_checkable": "not checkable from available data",
}
ABOUT = 0.10   # "about 2000" accepts 1800-2200: round figures in news copy, not measurements
NEARLY = 0.10  # "nearly 60" accepts 54-60: just under the figure, never above it

# The resources a claim's evidence may point to, and the columns holding a row's stated value.
VALUE_COLUMNS = ("value", "value_low", "value_high", "qualifier")
UNIT_COLUMN = {"prices": "currency"}
COUNT_RESOURCES = ("pipeline_stages", "ind_reviews")  # a bare count column, unit "count"
RESOURCES_NEEDED = ("claims", "sources", "products", "approvals", "findings", "efficacy", "prices",
                    "reimbursement", "market_figures", "pipeline_stages", "ind_reviews", "policy_events")

_REF = re.compile(r"\{([a-z_]+):([^{}.]+)\.([a-z_]+)\}")


class EvidenceError(ReviewError):
    """An evidence item that cannot be read; the message says which and what to write instead."""


# ----------------------------------------------------------------------------- intervals
@dataclass(frozen=True)
class Interval:
    """The values a statement allows; an open end excludes its bound ('over 60' excludes 60)."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def overlaps(self, other: Interval) -> bool:
        return _below(self, other) and _below(other, self)


def _below(a: Interval, b: Interval) -> bool:
    """a's low end does not pass b's high end."""
    if a.low < b.high:
        return True
    return a.low == b.high and not (a.low_open or b.high_open)


# Units whose numbers are exact as written (a count of 36 is not 35.5-36.5); other numbers
# (percentages, money) are read as rounded to their last digit.
EXACT_UNITS = frozenset({"count", "rank", "year", "table number", "days", "months", "years"})


def half_unit(value: float) -> float:
    """Half a unit in the last digit a number was written with: 28 -> 0.5, 41.7 -> 0.05."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return 0.5 * 10.0 ** min(int(exponent), 0)


def nominal(value: float | None, low: float | None, high: float | None, qualifier: str | None) -> Interval:
    """The values a wording allows, before rounding: 'over 50' is (50, inf), '79-89' is [79, 89],
    'nearly 60' is [54, 60)."""
    qualifier = qualifier or "exact"
    if qualifier == "range" or value is None:
        if low is None and high is None:
            raise ValueError("no value: need stated_value, or value_low/value_high for a range")
        return Interval(low if low is not None else -math.inf, high if high is not None else math.inf)
    if qualifier == "over":
        return Interval(value, math.inf, low_open=True)
    if qualifier == "at_least":
        return Interval(value, math.inf)
    if qualifier == "under":
        return Interval(-math.inf, value, high_open=True)
    if qualifier == "up_to":
        return Interval(-math.inf, value)
    if qualifier == "about":
        return Interval(value * (1 - ABOUT), value * (1 + ABOUT))
    if qualifier == "nearly":
        return Interval(value * (1 - NEARLY), value, high_open=True)
    return Interval(value, value)


def allowed(value: float | None, low: float | None, high: float | None, qualifier: str | None,
            unit: str = "percent") -> Interval:
    """:func:`nominal` widened by the rounding of the numbers as written. A bound the wording
    makes strict ('over', 'under', 'nearly') is taken literally and not widened."""
    base = nominal(value, low, high, qualifier)
    if unit in EXACT_UNITS:
        return base
    slack = min(half_unit(x) for x in (value, low, high) if x is not None)
    return Interval(base.low if base.low_open else base.low - slack,
                    base.high if base.high_open else base.high + slack,
                    base.low_open, base.high_open)


def agrees(stated: Interval, evidence: Interval) -> bool:
    return stated.overlaps(evidence)


def gap(stated: Interval, stated_point: float | None, evidence: Interval, evidence_point: float | None) -> float:
    """How far the evidence is from the claim (positive: the evidence is higher). Between the
    two values as written when both are single numbers (1.2 billion against about 1.0 billion
    is 0.2 billion); otherwise from the nearest end of a range or bound."""
    if stated_point is not None and evidence_point is not None:
        return evidence_point - stated_point
    if evidence.low > stated.high:
        return evidence.low - stated.high
    if evidence.high < stated.low:
        return evidence.high - stated.low
    return 0.0


# ----------------------------------------------------------------------------- wording
def amount(value: float, unit: str) -> str:
    """A number with its unit, as the audit writes it: '41.67 %', '1,200,000 CNY', 'Table 2'."""
    if unit == "year":
        return str(int(round(value)))
    if unit == "table number":
        return f"Table {int(round(value))}"
    rounded = round(value, 2)
    text = f"{rounded:,.0f}" if float(rounded).is_integer() else f"{rounded:,.2f}".rstrip("0").rstrip(".")
    if unit == "percent":
        return f"{text} %"
    if unit in ("count", "rank"):
        return text
    return f"{text} {unit}"


QUALIFIER_WORDS = {"about": "about", "over": "over", "under": "under", "at_least": "at least",
                   "nearly": "nearly", "up_to": "up to"}


def worded(value: float | None, low: float | None, high: float | None, qualifier: str | None, unit: str) -> str:
    """The stated value in words: 'over 33,000,000 CNY', '79–89 %'."""
    if qualifier == "range" or value is None:
        left = amount(low, unit) if low is not None else "?"
        right = amount(high, unit) if high is not None else "?"
        if unit == "percent":
            left = left.removesuffix(" %")
        elif unit not in ("count", "rank", "year"):
            left = left.removesuffix(f" {unit}")
        return f"{left}–{right}"
    word = QUALIFIER_WORDS.get(qualifier or "exact")
    return f"{word} {amount(value, unit)}" if word else amount(value, unit)


def gap_words(size: float, unit: str, stated_point: float | None) -> str:
    """'6.4 percentage points higher', '2 fewer', '150,000 CNY lower (12.5 % of the stated value)';
    a gap of 0 means wordings that exclude each other around the same number."""
    direction = "higher" if size > 0 else "lower"
    magnitude = abs(size)
    if size == 0:
        return "same number, but the wordings exclude each other"
    if unit == "year":
        return f"{amount(magnitude, 'count')} year{'' if magnitude == 1 else 's'} {'later' if size > 0 else 'earlier'}"
    if unit == "table number":
        return f"a different table ({amount(stated_point + size, unit)})" if stated_point is not None else "a different table"
    if unit == "percent":
        number = amount(magnitude, "count")
        return f"{number} percentage point{'' if number == '1' else 's'} {direction}"
    if unit in ("count", "rank"):
        return f"{amount(magnitude, 'count')} {'more' if size > 0 else 'fewer'}"
    text = f"{amount(magnitude, unit)} {direction}"
    if stated_point and unit in ("CNY", "USD"):
        text += f" ({amount(100 * magnitude / abs(stated_point), 'count')} % of the stated value)"
    return text


# ----------------------------------------------------------------------------- evidence syntax
@dataclass(frozen=True)
class Ref:
    resource: str
    key: str
    column: str | None = None

    def __str__(self) -> str:
        return f"{self.resource}:{self.key}" + (f".{self.column}" if self.column else "")


@dataclass(frozen=True)
class Item:
    kind: str  # row | claim | calc | count
    text: str
    refs: tuple[Ref, ...] = ()
    expression: str = ""
    claim_id: str = ""
    unit: str = ""  # count: products | indications
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()


def parse_evidence(text: str | None) -> list[Item]:
    """The items of one ``evidence`` cell (empty cell: no items). Raises :class:`EvidenceError`."""
    items = []
    if _missing(text):
        return items
    for part in (p.strip() for p in str(text).split(";")):
        if not part:
            continue
        kind, _, rest = part.partition(" ")
        rest = rest.strip()
        if kind == "row":
            items.append(Item("row", part, refs=(_parse_ref(rest, part),)))
        elif kind == "claim":
            if not re.fullmatch(r"C[0-9]{3}[a-z]?", rest):
                raise EvidenceError(f"{part!r}: a claim item names one claim id, e.g. 'claim C027'")
            items.append(Item("claim", part, claim_id=rest))
        elif kind == "calc":
            refs = tuple(Ref(*m.groups()) for m in _REF.finditer(rest))
            if not refs:
                raise EvidenceError(f"{part!r}: a calc item needs at least one cell, written {{resource:key.column}}")
            _check_arithmetic(_REF.sub("1", rest), part)
            items.append(Item("calc", part, refs=refs, expression=rest))
        elif kind == "count":
            what, _, spec = rest.partition(" ")
            if what not in ("products", "indications"):
                raise EvidenceError(f"{part!r}: write 'count products ...' or 'count indications ...'")
            filters = []
            for clause in (c.strip() for c in spec.split(",") if c.strip()):
                name, eq, values = clause.partition("=")
                if not eq or not name.strip() or not values.strip():
                    raise EvidenceError(f"{part!r}: each filter is FIELD=VALUE or FIELD=VALUE|VALUE, got {clause!r}")
                filters.append((name.strip(), tuple(v.strip() for v in values.split("|"))))
            items.append(Item("count", part, unit=what, filters=tuple(filters)))
        else:
            raise EvidenceError(f"{part!r}: an evidence item starts with row, claim, calc or count")
    return items


def _parse_ref(text: str, part: str) -> Ref:
    match = re.fullmatch(r"([a-z_]+):([^{}.]+?)(?:\.([a-z_]+))?", text)
    if not match:
        raise EvidenceError(f"{part!r}: write 'row resource:KEY' or 'row resource:KEY.column'")
    return Ref(*match.groups())


_OPERATORS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _check_arithmetic(expression: str, part: str) -> None:
    try:
        _evaluate(ast.parse(expression, mode="eval").body)
    except (SyntaxError, EvidenceError) as exc:
        raise EvidenceError(f"{part!r}: only numbers, cells, + - * / and brackets are allowed ({exc})") from None
    except ZeroDivisionError:
        pass  # the cells stand in as 1 here; real zero denominators are reported when evaluated


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand)
    raise EvidenceError(f"{ast.unparse(node)!r} is not allowed")


# ----------------------------------------------------------------------------- the data
@dataclass
class Tables:
    """The frames an audit reads, as of the edition (``frames``) and whole (``everything``),
    with each resource's primary key. Evidence missing from ``frames`` but present in
    ``everything`` was published after the edition date."""

    frames: Mapping[str, pd.DataFrame]
    everything: Mapping[str, pd.DataFrame]
    keys: Mapping[str, list[str]]
    edition: dt.date

    def row(self, ref: Ref, *, whole: bool = False) -> Any | None:
        frames = self.everything if whole else self.frames
        frame = frames.get(ref.resource)
        if frame is None:
            return None
        names = self.keys[ref.resource]
        parts = ref.key.split("/")
        if len(parts) != len(names):
            return None
        mask = None
        for name, part in zip(names, parts):
            hit = frame[name].astype("string") == part
            mask = hit if mask is None else (mask & hit)
        found = frame[mask.fillna(False)]
        return found.iloc[0] if len(found) else None

    @cached_property
    def approved(self) -> pd.DataFrame:
        """Approvals joined with their products, as of the edition: what every recount counts
        (built once per audit, not once per count item)."""
        from .approvals import approved

        return approved(self.frames["products"], self.frames["approvals"])

    @property
    def published(self) -> dict[str, Any]:
        sources = self.everything["sources"]
        return dict(zip(sources["source_id"], sources["published"]))


def load_tables(load: Callable[[str], pd.DataFrame], load_whole: Callable[[str], pd.DataFrame],
                keys: Mapping[str, list[str]], edition: dt.date) -> Tables:
    """``load(name)`` gives a resource as of the edition, ``load_whole(name)`` all of it."""
    return Tables({n: load(n) for n in RESOURCES_NEEDED}, {n: load_whole(n) for n in RESOURCES_NEEDED}, keys, edition)


def _num(value: Any) -> float | None:
    return None if _missing(value) else float(value)


# ----------------------------------------------------------------------------- evaluating
@dataclass
class Finding:
    """What one evidence item says about a claim."""

    item: Item
    relation: str  # other_source | same_source | recomputed | recounted | unavailable
    text: str
    sources: tuple[str, ...] = ()
    interval: Interval | None = None  # what the evidence allows, rounding included
    bounds: Interval | None = None  # the same before rounding, for the size of a gap
    point: float | None = None  # the single number it states, if it states one
    agrees: bool | None = None
    gap: float = 0.0


@dataclass
class Verdict:
    claim_id: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    count_date: str = ""
    difference: str = ""

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def status_of(check_method: str, findings: list[Finding]) -> str:
    """The rules of the module docstring, in order."""
    usable = [f for f in findings if f.relation != "unavailable"]
    if check_method == "not_checkable" or not usable:
        return "not_checkable"
    if any(f.relation == "other_source" and not f.agrees for f in usable):
        return "contradicted"
    if any(not f.agrees for f in usable):
        return "differs"
    return "reproduced"


def count_date(claim: Any, published: Mapping[str, Any]) -> tuple[Any | None, str]:
    """The date a count claim holds for, and why: the claim's own date, else its source's."""
    import pandas as pd

    if not _missing(claim["claim_date"]):
        precision = claim["date_precision"] if not _missing(claim["date_precision"]) else "day"
        basis = "at the latest" if precision == "not_later_than" else f"stated ({precision})"
        return pd.Timestamp(claim["claim_date"]), basis
    when = published.get(claim["source_id"])
    if not _missing(when):
        return pd.Timestamp(when), "source's publication date"
    return None, "undated claim from an undated source"


def check_claim(claim: Any, tables: Tables) -> Verdict:
    """Evaluate every evidence item of one claim (a row of claims) and give it a status."""
    unit = str(claim["unit"])
    wording = (_num(claim["stated_value"]), _num(claim["value_low"]), _num(claim["value_high"]),
               None if _missing(claim["qualifier"]) else str(claim["qualifier"]))
    stated = allowed(*wording, unit=unit)
    stated_point = wording[0] if wording[3] != "range" else None
    when, basis = count_date(claim, tables.published)
    verdict = Verdict(str(claim["claim_id"]), "not_checkable")
    if when is not None:
        verdict.count_date = f"{when:%Y-%m-%d} ({basis})"
    else:
        verdict.count_date = basis
    for item in parse_evidence(claim["evidence"]):
        if item.kind in ("row", "claim"):
            finding = _stated_elsewhere(item, claim, unit, tables)
        elif item.kind == "calc":
            finding = _recomputed(item, unit, tables)
        else:
            finding = _recounted(item, claim, when, tables)
        if finding.interval is not None:
            finding.agrees = agrees(stated, finding.interval)
            if not finding.agrees:
                finding.gap = gap(nominal(*wording), stated_point, finding.bounds or finding.interval, finding.point)
        verdict.findings.append(finding)
    verdict.status = status_of(str(claim["check_method"]), verdict.findings)
    verdict.difference = "; ".join(
        f"{gap_words(f.gap, unit, stated_point)} ({f.text.split(':')[0]})" for f in verdict.findings
        if f.agrees is False)
    return verdict


def _stated_elsewhere(item: Item, claim: Any, unit: str, tables: Tables) -> Finding:
    if item.kind == "claim":
        ref = Ref("claims", item.claim_id)
    else:
        ref = item.refs[0]
    row = tables.row(ref)
    if row is None:
        return Finding(item, "unavailable", f"{ref}: not known by the edition date")
    source = str(row["source_id"])
    relation = "same_source" if source == claim["source_id"] else "other_source"
    where = f"{source} {ref.key}" + (f" ({row['locator']})" if "locator" in row and not _missing(row["locator"]) else "")
    interval, bounds, point, shown = _row_value(ref, row, unit)
    return Finding(item, relation, f"{where}: {shown}", sources=(source,), interval=interval, bounds=bounds,
                   point=point)


def _row_value(ref: Ref, row: Any, unit: str) -> tuple[Interval, Interval, float | None, str]:
    """What a row states (rounding included, then as written, then its single number if it has
    one) and how to word it (see :func:`evidence_problems` for the checks
    that make these lookups safe)."""
    import pandas as pd

    if ref.column is not None:
        value = row[ref.column]
        if isinstance(value, (pd.Timestamp, dt.date)):
            year = float(pd.Timestamp(value).year)
            return Interval(year, year), Interval(year, year), year, f"{pd.Timestamp(value):%Y-%m-%d}"
        number = float(value)
        return allowed(number, None, None, "exact", unit), Interval(number, number), number, amount(number, unit)
    if ref.resource == "claims":
        cols = ("stated_value", "value_low", "value_high", "qualifier")
    elif ref.resource in COUNT_RESOURCES:
        number = float(row["count"])
        return Interval(number, number), Interval(number, number), number, amount(number, unit)
    else:
        cols = VALUE_COLUMNS
    value, low, high = (_num(row[c]) for c in cols[:3])
    qualifier = None if _missing(row[cols[3]]) else str(row[cols[3]])
    point = value if qualifier != "range" else None
    return (allowed(value, low, high, qualifier, unit), nominal(value, low, high, qualifier), point,
            worded(value, low, high, qualifier, unit))


def _recomputed(item: Item, unit: str, tables: Tables) -> Finding:
    values: dict[str, float] = {}
    sources = []
    for ref in item.refs:
        row = tables.row(ref)
        if row is None or _missing(row[ref.column]):
            return Finding(item, "unavailable", f"{ref}: not known by the edition date")
        values[str(ref)] = float(row[ref.column])
        sources.append(str(row["source_id"]))
    substituted = _REF.sub(lambda m: repr(values[f"{m.group(1)}:{m.group(2)}.{m.group(3)}"]), item.expression)
    try:
        result = _evaluate(ast.parse(substituted, mode="eval").body)
    except ZeroDivisionError:
        return Finding(item, "unavailable", f"{item.expression}: divides by zero with the data as of the edition")
    shown = _REF.sub(lambda m: amount(values[f"{m.group(1)}:{m.group(2)}.{m.group(3)}"], "count"), item.expression)
    shown = shown.replace("*", "×").replace("/", "÷")
    return Finding(item, "recomputed", f"recomputed {shown} = {amount(result, unit)}",
                   sources=tuple(sorted(set(sources))), interval=Interval(result, result), point=result)


def _recounted(item: Item, claim: Any, when: Any, tables: Tables) -> Finding:
    import pandas as pd

    from .approvals import count_as_of, matching_spans

    table = tables.approved
    selector = {name: values for name, values in item.filters}
    what = item.unit + (f" ({'; '.join(f'{n} ' + ' or '.join(v) for n, v in item.filters)})" if item.filters else "")
    edition = pd.Timestamp(tables.edition)
    target = _num(claim["stated_value"])
    spans = matching_spans(table, target, edition, unit=item.unit, **selector) if target is not None else []
    held = "; ".join(f"{a:%Y-%m-%d} to {b:%Y-%m-%d}" for a, b in spans) or "at no date up to the edition"
    sources = tuple(sorted(set(table["source_id"].dropna().astype(str))))
    if when is None:
        # an undated count from an undated document: it holds if it ever held up to the edition
        text = f"recount of {what}: the stated number held {held}"
        point = target if spans else count_as_of(table, edition, unit=item.unit, **selector)
        return Finding(item, "recounted", text, sources=sources, interval=Interval(point, point), point=point)
    count = count_as_of(table, min(pd.Timestamp(when), edition), unit=item.unit, **selector)
    text = f"recount of {what} approved by {pd.Timestamp(when):%Y-%m-%d}: {count} (the stated number held {held})"
    return Finding(item, "recounted", text, sources=sources, interval=Interval(count, count), point=count)


# ----------------------------------------------------------------------------- the ledger
def audit(tables: Tables) -> pd.DataFrame:
    """One row per claim known by the edition date, with its status and evidence in words."""
    import pandas as pd

    claims = tables.frames["claims"]
    records = []
    for _, claim in claims.sort_values("claim_id").iterrows():
        verdict = check_claim(claim, tables)
        unit = str(claim["unit"])
        evidence_sources = sorted({s for f in verdict.findings for s in f.sources if f.relation in ("other_source", "same_source")})
        records.append({
            "claim_id": verdict.claim_id,
            "source_id": claim["source_id"],
            "locator": claim["locator"],
            "quantity": claim["quantity"],
            "stated": worded(_num(claim["stated_value"]), _num(claim["value_low"]), _num(claim["value_high"]),
                             None if _missing(claim["qualifier"]) else claim["qualifier"], unit),
            "stated_value": _num(claim["stated_value"]),
            "unit": unit,
            "check_method": str(claim["check_method"]).replace("_", " "),
            "status": verdict.status,
            "status_label": verdict.label,
            "evidence": "; ".join(f.text for f in verdict.findings) or "",
            "difference": verdict.difference,
            "holds_for": verdict.count_date if any(f.item.kind == "count" for f in verdict.findings) else "",
            "needed": "" if _missing(claim["needed"]) else str(claim["needed"]),
            "correction": "" if _missing(claim["correction"]) else str(claim["correction"]),
            "correction_source_id": None if _missing(claim["correction_source_id"]) else str(claim["correction_source_id"]),
            "evidence_source_id": "; ".join(evidence_sources) or None,
            # checked against the document itself: a restated figure, or arithmetic on its own numbers
            "internal": any(f.relation == "same_source" or (f.relation == "recomputed" and set(f.sources) <= {claim["source_id"]})
                            for f in verdict.findings),
            "note": "" if _missing(claim["note"]) else str(claim["note"]),
        })
    columns = ["claim_id", "source_id", "locator", "quantity", "stated", "stated_value", "unit", "check_method",
               "status", "status_label", "evidence", "difference", "holds_for", "needed", "correction",
               "correction_source_id", "evidence_source_id", "internal", "note"]
    return pd.DataFrame(records, columns=columns)


def counts(verdicts: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Claims per status (columns in :data:`STATUSES` order), overall or per ``by``."""
    import pandas as pd

    if by is None:
        row = {s: int((verdicts["status"] == s).sum()) for s in STATUSES}
        return pd.DataFrame([row], columns=list(STATUSES))
    table = pd.crosstab(verdicts[by], verdicts["status"]).reindex(columns=list(STATUSES), fill_value=0)
    table["total"] = table.sum(axis=1)
    return table.astype(int).reset_index()


# ----------------------------------------------------------------------------- validation
def evidence_problems(claims: pd.DataFrame, frames: Mapping[str, pd.DataFrame], keys: Mapping[str, list[str]],
                      path: str = "data/claims.csv") -> list[Problem]:
    """Every evidence cell that cannot be evaluated, named by row and column (run by
    ``review validate`` on the whole package, so a typo never reaches a build)."""
    problems: list[Problem] = []
    ids = set(claims["claim_id"].astype(str))
    whole = Tables(frames, frames, keys, dt.date.max)

    def bad(index: Any, column: str, value: Any, rule: str, message: str) -> None:
        problems.append(Problem(path, int(index) + 2, column, None if _missing(value) else str(value), rule, message))

    for index, claim in claims.iterrows():
        method, text = str(claim["check_method"]), claim["evidence"]
        has_evidence = not _missing(text) and str(text).strip() != ""
        if method == "not_checkable":
            if has_evidence:
                bad(index, "evidence", text, "claim-evidence",
                    "a not_checkable claim has no evidence; empty the cell or choose another check_method")
            if _missing(claim["needed"]):
                bad(index, "needed", None, "claim-needed",
                    "say what data would be needed to check this claim (check_method is not_checkable)")
            continue
        if not has_evidence:
            bad(index, "evidence", text, "claim-evidence",
                f"check_method {method} needs evidence items (row, claim, calc or count), or use not_checkable")
            continue
        try:
            items = parse_evidence(str(text))
        except EvidenceError as exc:
            bad(index, "evidence", text, "claim-evidence", str(exc))
            continue
        for item in items:
            for message in _item_problems(item, claim, whole, ids):
                bad(index, "evidence", item.text, "claim-evidence", message)
    return problems


def _item_problems(item: Item, claim: Any, tables: Tables, ids: set[str]) -> list[str]:
    unit = str(claim["unit"])
    if item.kind == "claim":
        if item.claim_id not in ids:
            return [f"claim {item.claim_id} is not in claims.csv"]
        if item.claim_id == claim["claim_id"]:
            return ["a claim cannot be its own evidence"]
        other = tables.row(Ref("claims", item.claim_id))
        if other is not None and str(other["unit"]) != unit:
            return [f"claim {item.claim_id} is in {other['unit']}, this claim in {unit}; compare like with like"]
        return []
    if item.kind == "count":
        if unit != "count":
            return [f"a recount gives a count, but this claim's unit is {unit}"]
        columns = set(tables.frames["products"].columns) | set(tables.frames["approvals"].columns)
        return [f"count filter {name!r} is not a column of products.csv or approvals.csv"
                for name, _ in item.filters if name not in columns]
    out = []
    for ref in item.refs:
        if ref.resource not in tables.frames:
            out.append(f"{ref.resource!r} is not a resource the audit reads ({', '.join(RESOURCES_NEEDED)})")
            continue
        row = tables.row(ref)
        if row is None:
            out.append(f"no row {ref.key!r} in {ref.resource} (key: {'/'.join(tables.keys[ref.resource])})")
            continue
        if ref.column is not None and ref.column not in row.index:
            out.append(f"{ref.resource} has no column {ref.column!r}")
            continue
        if item.kind == "calc" and _missing(row[ref.column]):
            out.append(f"{ref} is empty; a calc needs a number there")
        if item.kind == "row":
            out += _row_unit_problems(ref, row, unit)
    return out


def _row_unit_problems(ref: Ref, row: Any, unit: str) -> list[str]:
    import pandas as pd

    if ref.column is not None:
        value = row[ref.column]
        if isinstance(value, (pd.Timestamp, dt.date)):
            return [] if unit == "year" else [f"{ref} is a date; only a claim about a year can be checked against it"]
        if _missing(value):
            return [f"{ref} is empty"]
        try:
            float(value)
        except (TypeError, ValueError):
            return [f"{ref} is not a number ({value!r})"]
        return []
    if ref.resource in COUNT_RESOURCES:
        return [] if unit == "count" else [f"{ref} is a count, this claim is in {unit}"]
    if ref.resource == "claims" or "value" not in row.index:
        return [f"name a column for {ref.resource} rows, e.g. {ref}.value"] if ref.resource != "claims" else []
    row_unit = str(row[UNIT_COLUMN.get(ref.resource, "unit")])
    if row_unit != unit:
        return [f"{ref} is in {row_unit}, this claim in {unit}; compare like with like"]
    if all(_missing(row[c]) for c in VALUE_COLUMNS[:3]):
        return [f"{ref} states no value"]
    return []


# ----------------------------------------------------------------------------- in a chapter
def for_chapter(ch: Any) -> pd.DataFrame:
    """The audit as of a chapter's edition (:class:`review_utils.chapter.Chapter`); every table
    it reads is recorded like any other load, so the chapter re-runs when one changes."""
    keys = {name: ch.package.resource(name).descriptor["schema"]["primaryKey"] for name in RESOURCES_NEEDED}
    return audit(load_tables(ch.load, ch.package.load, keys, ch.as_of))
