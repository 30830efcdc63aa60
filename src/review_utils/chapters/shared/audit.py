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
``registry china_share`` or ``registry china_active``
    a count from the edition's ClinicalTrials.gov snapshots, by the trial chapter's definitions
    (:func:`review_utils.chapters.shared.registry_trials.measure`); the definition is written
    beside the figure. An edition before every snapshot has no such evidence (not checkable).

What each claim and each item measures is data (see :mod:`review_utils.data.evidence`): an item
that measures something else (another endpoint, population, scope or kind of day) is shown but
neither confirms nor contradicts. A row inferred from a claim is never evidence for it (validation
refuses it; a recount leaves such a row out and says so).

Each usable item is tied to the claim's document in one of three ways, read from ``sources.csv``
(``derives_from``, followed transitively: a derives from b derives from c): the **same** document
(a restatement, or arithmetic on the document's own figures); a **dependent** source (one derives
from the other, or both derive from a common origin); an **independent** source. A calculation
or recount is as independent as the least independent document whose figures it uses.

The status of a claim follows these rules, in this order (:func:`status_of`):

``not_checkable``
    the ledger says so (``needed`` says what data would settle it), or no item is usable: none is
    known by the edition date, or every one measures something else (``why`` says which);
``contradicted``
    a value stated by an *independent* source disagrees;
``differs``
    any other disagreement: a recomputation or recount, the same document's own figure, or a
    dependent source;
``date_dependent`` (shown as "differs (date-dependent)")
    an undated count that is true at one end of the period its document can date from and false
    at the other (both counts are shown);
``confirmed``
    every usable item agrees and one of them is independent;
``consistent_dependent``
    every usable item agrees, the best of them only from a dependent source;
``internal_only``
    every usable item agrees, all from the same document.

An undated claim is checked at the earliest and the latest date its document can have: its
source's ``published`` date read with its ``date_precision`` (a document published in 2025 spans
that year); an undated document can be no earlier than the latest period its own dated claims
refer to, and no later than the edition.

Propagation: a claim checked through another claim (a ``claim`` item) takes the weaker of its own
status and that claim's, in the order of :data:`STRENGTH` (not checkable adds nothing and weakens
nothing). The rule is applied until nothing changes, so chains and cycles settle.

Materiality: every claim that differs or is contradicted carries a tier in ``claims.csv``
(``materiality``): ``conclusion`` (changes a conclusion a reader would draw), ``quoted_number``
(changes a number a reader would quote) or ``wording`` (rounding or wording). ``review validate``
reports a flagged claim without a tier and a tier on a claim that is not flagged
(:func:`materiality_problems`).

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from review_utils.core.errors import Problem
from review_utils.data.evidence import (  # noqa: F401 - the grammar is part of the audit's API
    _REF,
    COUNT_RESOURCES,
    MATERIALITY,
    RESOURCES_NEEDED,
    UNIT_COLUMN,
    VALUE_COLUMNS,
    Definition,
    EvidenceError,
    Item,
    Ref,
    _evaluate,
    claim_definition,
    evidence_problems,
    find_row,
    inferred_from,
    item_definition,
    parse_evidence,
)
from review_utils.data.values import is_missing as _missing
from review_utils.render.text import amount, stated

if TYPE_CHECKING:
    import pandas as pd

STATUSES = ("confirmed", "consistent_dependent", "internal_only", "date_dependent", "differs", "contradicted",
            "not_checkable")
STATUS_LABELS = {
    "confirmed": "confirmed independently",
    "consistent_dependent": "consistent with a dependent source",
    "internal_only": "internally consistent only",
    "date_dependent": "differs (date-dependent)",
    "differs": "differs",
    "contradicted": "contradicted by an independent source",
    "not_checkable": "not checkable",
}
# weakest first: a claim checked through another claim takes the weaker of the two
STRENGTH = ("contradicted", "differs", "date_dependent", "internal_only", "consistent_dependent", "confirmed")
FLAGGED = ("contradicted", "differs", "date_dependent")
MATERIALITY_LABELS = {"conclusion": "changes a conclusion", "quoted_number": "changes a number a reader would quote",
                      "wording": "rounding or wording"}
TIES = ("same", "dependent", "independent")  # weakest first
ABOUT = 0.10   # "about 2000" accepts 1800-2200: round figures in news copy, not measurements
NEARLY = 0.10  # "nearly 60" accepts 54-60: just under the figure, never above it

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
def worded(value: float | None, low: float | None, high: float | None, qualifier: str | None, unit: str) -> str:
    """The stated value in words, as the audit writes numbers: 'over 33,000,000 CNY', '79–89 %'."""
    return stated(value, low, high, qualifier, unit, number=amount)


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
    data_dir: Any = None  # the package folder, for registry evidence (None: none available)

    def row(self, ref: Ref, *, whole: bool = False) -> Any | None:
        return find_row(self.everything if whole else self.frames, self.keys, ref)

    @cached_property
    def approved(self) -> pd.DataFrame:
        """Approvals joined with their products, as of the edition: what every recount counts
        (built once per audit, not once per count item)."""
        from review_utils.chapters.shared.approved import approved

        return approved(self.frames["products"], self.frames["approvals"])

    @property
    def published(self) -> dict[str, Any]:
        sources = self.everything["sources"]
        return dict(zip(sources["source_id"], sources["published"]))

    @cached_property
    def derives(self) -> dict[str, tuple[str, ...]]:
        """source -> the sources it derives from (``derives_from`` of sources.csv)."""
        sources = self.everything["sources"]
        if "derives_from" not in sources.columns:
            return {}
        return {str(s): tuple(p.strip() for p in str(d).split(";") if p.strip())
                for s, d in zip(sources["source_id"], sources["derives_from"]) if not _missing(d)}


def load_tables(load: Callable[[str], pd.DataFrame], load_whole: Callable[[str], pd.DataFrame],
                keys: Mapping[str, list[str]], edition: dt.date, data_dir: Any = None) -> Tables:
    """``load(name)`` gives a resource as of the edition, ``load_whole(name)`` all of it;
    ``data_dir`` (the package folder) is where registry evidence is read (None: not available)."""
    return Tables({n: load(n) for n in RESOURCES_NEEDED}, {n: load_whole(n) for n in RESOURCES_NEEDED}, keys, edition,
                  data_dir)


def _num(value: Any) -> float | None:
    return None if _missing(value) else float(value)


# ----------------------------------------------------------------------------- dependence
def lineage(source_id: str, derives: Mapping[str, tuple[str, ...]]) -> set[str]:
    """A source and every source it derives from, transitively (cycles are harmless)."""
    seen, todo = set(), [source_id]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(derives.get(current, ()))
    return seen


def tie(document: str, other: str, derives: Mapping[str, tuple[str, ...]]) -> str:
    """How ``other`` stands to the claim's ``document``: same, dependent (one derives from the
    other, or both from a common origin) or independent."""
    if other == document:
        return "same"
    return "dependent" if lineage(document, derives) & lineage(other, derives) else "independent"


def weakest_tie(document: str, others: Any, derives: Mapping[str, tuple[str, ...]]) -> str:
    ties = [tie(document, o, derives) for o in others]
    return min(ties, key=TIES.index) if ties else "independent"


# ----------------------------------------------------------------------------- dating
def period(when: Any, precision: str | None) -> tuple[Any, Any]:
    """The first and last day a date of a given precision may stand for. A source's ``published``
    holds the first day of its month or year; a claim's ``claim_date`` the last (a cut-off)."""
    import pandas as pd

    day = pd.Timestamp(when)
    if precision == "year":
        return pd.Timestamp(day.year, 1, 1), pd.Timestamp(day.year, 12, 31)
    if precision == "quarter":
        first = pd.Timestamp(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return first, first + pd.offsets.QuarterEnd(0)
    if precision == "month":
        first = pd.Timestamp(day.year, day.month, 1)
        return first, first + pd.offsets.MonthEnd(0)
    return day, day


def document_window(source_id: str, tables: Tables) -> tuple[Any | None, Any | None, str]:
    """The earliest and latest date a document can have, and why (see the module docstring)."""
    import pandas as pd

    sources = tables.everything["sources"].set_index("source_id")
    edition = pd.Timestamp(tables.edition)
    if source_id in sources.index and not _missing(sources.at[source_id, "published"]):
        precision = sources.at[source_id, "date_precision"]
        precision = None if _missing(precision) else str(precision)
        first, last = period(sources.at[source_id, "published"], precision)
        basis = "its publication date" if first == last else f"published {precision_words(first, precision)}"
        return first, min(last, edition), basis
    claims = tables.everything["claims"]
    own = claims[(claims["source_id"] == source_id) & claims["claim_date"].notna()]
    starts = [(period(row["claim_date"], row["date_precision"])[0], row["claim_id"]) for _, row in own.iterrows()
              if row["date_precision"] != "not_later_than"]
    if not starts:
        return None, edition, "an undated document"
    first, by = max(starts, key=lambda pair: (pair[0], pair[1]))
    return first, edition, f"an undated document, no earlier than what its claim {by} refers to, at the latest the edition"


def precision_words(first: Any, precision: str | None) -> str:
    return {"year": f"in {first:%Y}", "month": f"in {first:%B %Y}", "quarter": f"in {first:%Y} Q{(first.month - 1) // 3 + 1}"}.get(
        precision or "", f"on {first:%Y-%m-%d}")


def count_date(claim: Any, published: Mapping[str, Any]) -> tuple[Any | None, str]:
    """The date a dated claim holds for, and why (undated claims: :func:`document_window`)."""
    import pandas as pd

    if not _missing(claim["claim_date"]):
        precision = claim["date_precision"] if not _missing(claim["date_precision"]) else "day"
        basis = "at the latest" if precision == "not_later_than" else f"stated ({precision})"
        return pd.Timestamp(claim["claim_date"]), basis
    when = published.get(claim["source_id"])
    if not _missing(when):
        return pd.Timestamp(when), "source's publication date"
    return None, "undated claim from an undated source"


# ----------------------------------------------------------------------------- evaluating
@dataclass
class Finding:
    """What one evidence item says about a claim."""

    item: Item
    relation: str  # stated | recomputed | recounted | unavailable
    text: str
    sources: tuple[str, ...] = ()
    tie: str = "independent"  # same | dependent | independent, against the claim's document
    interval: Interval | None = None  # what the evidence allows, rounding included
    bounds: Interval | None = None  # the same before rounding, for the size of a gap
    point: float | None = None  # the single number it states, if it states one
    agrees: bool | None = None
    gap: float = 0.0
    definition: Definition | None = None
    matches: bool = True  # measures what the claim measures
    date_dependent: bool = False  # an undated count, true at one end of its document's dates only

    @property
    def usable(self) -> bool:
        return self.relation != "unavailable" and self.matches and not self.item.context and self.agrees is not None


@dataclass
class Verdict:
    claim_id: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    count_date: str = ""
    difference: str = ""
    why: str = ""
    inherited_from: str = ""

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def status_of(check_method: str, findings: list[Finding]) -> str:
    """The rules of the module docstring, in order (before propagation)."""
    usable = [f for f in findings if f.usable]
    if check_method == "not_checkable" or not usable:
        return "not_checkable"
    if any(f.relation == "stated" and f.tie == "independent" and not f.agrees for f in usable):
        return "contradicted"
    if any(not f.agrees and not f.date_dependent for f in usable):
        return "differs"
    if any(f.date_dependent for f in usable):
        return "date_dependent"
    best = max((f.tie for f in usable), key=TIES.index)
    return {"independent": "confirmed", "dependent": "consistent_dependent", "same": "internal_only"}[best]


def weaker(a: str, b: str) -> str:
    """The weaker of two statuses; not checkable weakens nothing."""
    if a == "not_checkable":
        return b
    if b == "not_checkable":
        return a
    return min(a, b, key=STRENGTH.index)


def _why(claim: Any, verdict: Verdict, own: Definition | None) -> str:
    usable = [f for f in verdict.findings if f.usable]
    status = verdict.status
    names = lambda fs: ", ".join(sorted({s for f in fs for s in f.sources})) or "the data"  # noqa: E731
    if status == "not_checkable":
        if str(claim["check_method"]) == "not_checkable":
            return "the data needed are not available"
        other = [f for f in verdict.findings if f.relation != "unavailable" and not f.matches]
        if other:
            return "every check measures something else: " + "; ".join(
                f"{f.item.text.removeprefix('context ')} measures {f.definition}" for f in other) + (
                f", the claim {own}" if own else "")
        if verdict.findings:
            return "no check is known by the edition date"
        return "no check"
    if verdict.inherited_from:
        return f"takes the status of claim {verdict.inherited_from}, through which it is checked"
    if status == "contradicted":
        return "an independent source disagrees: " + names([f for f in usable if f.relation == "stated"
                                                            and f.tie == "independent" and not f.agrees])
    if status == "date_dependent":
        return "; ".join(f.text for f in usable if f.date_dependent)
    if status == "differs":
        kinds = {f.tie if f.relation == "stated" else f.relation for f in usable if not f.agrees}
        words = {"same": "the document's own figure", "dependent": "a dependent source",
                 "recomputed": "a recomputation", "recounted": "a recount"}
        return "disagrees with " + " and ".join(words.get(k, k) for k in sorted(kinds))
    if status == "confirmed":
        return "agrees with " + names([f for f in usable if f.tie == "independent"]) + ", independent of the document"
    if status == "consistent_dependent":
        return "agrees only with " + names(usable) + ", which share an origin with the document"
    return "agrees only with the document's own figures or arithmetic"


def check_claim(claim: Any, tables: Tables) -> Verdict:
    """Evaluate every evidence item of one claim (a row of claims) and give it a status (before
    propagation through claim items, which :func:`audit` applies)."""
    unit = str(claim["unit"])
    wording = (_num(claim["stated_value"]), _num(claim["value_low"]), _num(claim["value_high"]),
               None if _missing(claim["qualifier"]) else str(claim["qualifier"]))
    stated = allowed(*wording, unit=unit)
    stated_point = wording[0] if wording[3] != "range" else None
    when, basis = count_date(claim, tables.published)
    verdict = Verdict(str(claim["claim_id"]), "not_checkable")
    own = claim_definition(claim)
    dated = not _missing(claim["claim_date"])
    window = None if dated else document_window(str(claim["source_id"]), tables)
    if dated:
        verdict.count_date = f"{when:%Y-%m-%d} ({basis})"
    elif window[0] is not None and window[0] == window[1]:
        verdict.count_date = f"{window[0]:%Y-%m-%d} ({window[2]})"
    elif window[0] is not None:
        verdict.count_date = f"{window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d} ({window[2]})"
    else:
        verdict.count_date = window[2]
    for item in parse_evidence(claim["evidence"]):
        if item.kind in ("row", "claim"):
            finding = _stated_elsewhere(item, claim, unit, tables)
        elif item.kind == "calc":
            finding = _recomputed(item, claim, unit, tables)
        elif item.kind == "registry":
            finding = _registry(item, claim, tables)
        else:
            finding = _recounted(item, claim, when if dated else None, window, stated, tables)
        if finding.relation != "unavailable":
            finding.definition = item_definition(item, claim, tables.frames, tables.keys)
            finding.matches = own is not None and finding.definition is not None and finding.definition.matches(own)
        if finding.interval is not None and finding.agrees is None:
            finding.agrees = agrees(stated, finding.interval)
        if finding.agrees is False:
            finding.gap = gap(nominal(*wording), stated_point, finding.bounds or finding.interval, finding.point)
        verdict.findings.append(finding)
    verdict.status = status_of(str(claim["check_method"]), verdict.findings)
    verdict.difference = "; ".join(
        f"{gap_words(f.gap, unit, stated_point)} ({f.text.split(':')[0]})" for f in verdict.findings
        if f.agrees is False and f.usable)
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
    where = f"{source} {ref.key}" + (f" ({row['locator']})" if "locator" in row and not _missing(row["locator"]) else "")
    interval, bounds, point, shown = _row_value(ref, row, unit)
    return Finding(item, "stated", f"{where}: {shown}", sources=(source,),
                   tie=tie(str(claim["source_id"]), source, tables.derives), interval=interval, bounds=bounds,
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


def _recomputed(item: Item, claim: Any, unit: str, tables: Tables) -> Finding:
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
                   sources=tuple(sorted(set(sources))), tie=weakest_tie(str(claim["source_id"]), set(sources), tables.derives),
                   interval=Interval(result, result), point=result)


def _recounted(item: Item, claim: Any, when: Any, window: tuple[Any, Any, str] | None, stated: Interval,
               tables: Tables) -> Finding:
    """A recount on the claim's date (``when``), or, for an undated claim, at both ends of its
    document's ``window``. Rows inferred from this very claim are left out."""
    import pandas as pd

    from review_utils.chapters.shared.approved import count_as_of, matching_spans

    claim_id = str(claim["claim_id"])
    table = tables.approved
    circular = sorted(r for r in table["approval_id"].astype(str) if claim_id in inferred_from(tables.frames, Ref("approvals", r)))
    if circular:
        table = table[~table["approval_id"].astype(str).isin(circular)]
    selector = {name: values for name, values in item.filters}
    what = item.unit + (f" ({'; '.join(f'{n} ' + ' or '.join(v) for n, v in item.filters)})" if item.filters else "")
    left_out = (f"; {', '.join(circular)} left out, {'its' if len(circular) == 1 else 'their'} date inferred from "
                f"this claim" if circular else "")
    edition = pd.Timestamp(tables.edition)
    target = _num(claim["stated_value"])
    spans = matching_spans(table, target, edition, unit=item.unit, **selector) if target is not None else []
    held = "; ".join(f"{a:%Y-%m-%d} to {b:%Y-%m-%d}" for a, b in spans) or "at no date up to the edition"
    document = str(claim["source_id"])

    def counted(day: Any) -> tuple[int, tuple[str, ...]]:
        rows = table[table["approval_date"] <= pd.Timestamp(day)]
        for column, wanted in selector.items():
            rows = rows[rows[column].isin(list(wanted))]
        return (count_as_of(table, day, unit=item.unit, **selector),
                tuple(sorted(set(rows["source_id"].dropna().astype(str)))))

    if when is not None:
        count, sources = counted(min(pd.Timestamp(when), edition))
        text = (f"recount of {what} approved by {pd.Timestamp(when):%Y-%m-%d}: {count} "
                f"(the stated number held {held}{left_out})")
        return Finding(item, "recounted", text, sources=sources, tie=weakest_tie(document, sources, tables.derives),
                       interval=Interval(count, count), point=count)
    first, last, basis = window
    if first is None:
        return Finding(item, "unavailable", f"recount of {what}: {basis} cannot be placed in time")
    (low, low_sources), (high, high_sources) = counted(first), counted(last)
    sources = tuple(sorted(set(low_sources) | set(high_sources)))
    ends = [agrees(stated, Interval(low, low)), agrees(stated, Interval(high, high))]
    if first == last:
        text = f"recount of {what} approved by {first:%Y-%m-%d} ({basis}): {low} (the stated number held {held}{left_out})"
    else:
        text = (f"recount of {what}: {low} on {first:%Y-%m-%d} and {high} on {last:%Y-%m-%d}, the earliest and latest "
                f"dates of {basis} (the stated number held {held}{left_out})")
    finding = Finding(item, "recounted", text, sources=sources, tie=weakest_tie(document, sources, tables.derives))
    point = low if not ends[0] else high
    finding.interval, finding.point = Interval(point, point), point
    finding.agrees = all(ends)
    finding.date_dependent = any(ends) and not all(ends)
    return finding


def _registry(item: Item, claim: Any, tables: Tables) -> Finding:
    from review_utils.chapters.shared.registry_trials import landscape, measure

    cache = tables.__dict__.setdefault("_registry_landscape", {})  # read once per audit
    if "land" not in cache:
        index = tables.frames.get("registry_snapshots")
        cache["land"] = None if index is None or tables.data_dir is None else \
            landscape(index, tables.data_dir, tables.edition, light=True)
    land = cache["land"]
    if land is None:
        return Finding(item, "unavailable", "registry: no ClinicalTrials.gov snapshot pulled on or before the edition date")
    value, text = measure(land, item.unit, None if _missing(claim["claim_date"]) else claim["claim_date"])
    sources = tuple(sorted(set(land.trials["source_id"].astype(str))))
    return Finding(item, "recounted", text, sources=sources, interval=Interval(value, value), point=value)


# ----------------------------------------------------------------------------- the ledger
def propagate(verdicts: dict[str, Verdict]) -> None:
    """A claim checked through another claim takes the weaker of the two statuses, repeated
    until nothing changes (chains and cycles settle, since statuses only weaken)."""
    changed = True
    while changed:
        changed = False
        for verdict in verdicts.values():
            for finding in verdict.findings:
                other = verdicts.get(finding.item.claim_id) if finding.item.kind == "claim" and finding.usable else None
                if other is None or verdict.status == "not_checkable":
                    continue
                new = weaker(verdict.status, other.status)
                if new != verdict.status:
                    verdict.status, verdict.inherited_from, changed = new, other.claim_id, True


def audit(tables: Tables) -> pd.DataFrame:
    """One row per claim known by the edition date, with its status and evidence in words."""
    import pandas as pd

    claims = tables.frames["claims"].sort_values("claim_id")
    verdicts = {str(claim["claim_id"]): check_claim(claim, tables) for _, claim in claims.iterrows()}
    propagate(verdicts)
    records = []
    for _, claim in claims.iterrows():
        verdict = verdicts[str(claim["claim_id"])]
        unit = str(claim["unit"])
        own = claim_definition(claim)
        verdict.why = _why(claim, verdict, own)
        evidence_sources = sorted({s for f in verdict.findings for s in f.sources if f.relation == "stated"})
        tier = "" if "materiality" not in claim.index or _missing(claim["materiality"]) else str(claim["materiality"])
        records.append({
            "claim_id": verdict.claim_id,
            "source_id": claim["source_id"],
            "locator": claim["locator"],
            "quantity": claim["quantity"],
            "measure": "" if own is None else own.measure,
            "population": "" if own is None else own.population,
            "stated": worded(_num(claim["stated_value"]), _num(claim["value_low"]), _num(claim["value_high"]),
                             None if _missing(claim["qualifier"]) else claim["qualifier"], unit),
            "stated_value": _num(claim["stated_value"]),
            "unit": unit,
            "check_method": str(claim["check_method"]).replace("_", " "),
            "status": verdict.status,
            "status_label": verdict.label,
            "why": verdict.why,
            "inherited_from": verdict.inherited_from,
            "evidence": "; ".join(_shown(f) for f in verdict.findings) or "",
            "difference": verdict.difference,
            "holds_for": verdict.count_date if any(f.item.kind == "count" for f in verdict.findings) else "",
            "date_dependent": any(f.date_dependent for f in verdict.findings if f.usable),
            "materiality": tier if verdict.status in FLAGGED else "",
            "materiality_label": MATERIALITY_LABELS.get(tier, "") if verdict.status in FLAGGED else "",
            "needed": str(claim["needed"]) if not _missing(claim["needed"]) else (
                "; ".join(f.text for f in verdict.findings if f.relation == "unavailable")
                if verdict.status == "not_checkable" else ""),
            "correction": "" if _missing(claim["correction"]) else str(claim["correction"]),
            "correction_source_id": None if _missing(claim["correction_source_id"]) else str(claim["correction_source_id"]),
            "evidence_source_id": "; ".join(evidence_sources) or None,
            # checked against the document itself: a restated figure, or arithmetic on its own numbers
            "internal": any(f.tie == "same" and f.relation in ("stated", "recomputed") and f.usable for f in verdict.findings),
            "note": "" if _missing(claim["note"]) else str(claim["note"]),
        })
    columns = ["claim_id", "source_id", "locator", "quantity", "measure", "population", "stated", "stated_value", "unit",
               "check_method", "status", "status_label", "why", "inherited_from", "evidence", "difference", "holds_for",
               "date_dependent", "materiality", "materiality_label", "needed", "correction", "correction_source_id",
               "evidence_source_id", "internal", "note"]
    return pd.DataFrame(records, columns=columns)


def _shown(finding: Finding) -> str:
    """One finding in words, saying when it does not count."""
    if finding.relation == "unavailable":
        return finding.text
    if not finding.matches:
        return f"{finding.text} [measures {finding.definition or 'something not recorded'}, so it does not count]"
    tie_words = {"same": "same document", "dependent": "dependent source"}
    if finding.relation == "stated" and finding.tie in tie_words:
        return f"{finding.text} [{tie_words[finding.tie]}]"
    return finding.text


def materiality_problems(verdicts: pd.DataFrame, claims: pd.DataFrame, path: str = "data/claims.csv") -> list[Problem]:
    """A flagged claim without a materiality tier, or a tier on a claim that is not flagged (rule
    ``claimMateriality``; run by ``review validate`` on the whole ledger)."""
    out = []
    status = dict(zip(verdicts["claim_id"], verdicts["status"]))
    for index, claim in claims.reset_index(drop=True).iterrows():
        claim_id = str(claim["claim_id"])
        tier = None if "materiality" not in claim.index or _missing(claim["materiality"]) else str(claim["materiality"])
        flagged = status.get(claim_id) in FLAGGED
        if flagged and tier is None:
            out.append(Problem(path, int(index) + 2, "materiality", None, "claimMateriality",
                               f"claim {claim_id} is {STATUS_LABELS[status[claim_id]]}; give it a tier: "
                               + ", ".join(f"{k} ({v})" for k, v in MATERIALITY_LABELS.items())))
        elif tier is not None and not flagged and claim_id in status:
            out.append(Problem(path, int(index) + 2, "materiality", tier, "claimMateriality",
                               f"claim {claim_id} is {STATUS_LABELS[status[claim_id]]}, not flagged; a tier is only for "
                               "claims that differ or are contradicted: empty the cell"))
    return out


def counts(verdicts: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Claims per status (columns in :data:`STATUSES` order), overall or per ``by``."""
    import pandas as pd

    if by is None:
        row = {s: int((verdicts["status"] == s).sum()) for s in STATUSES}
        return pd.DataFrame([row], columns=list(STATUSES))
    table = pd.crosstab(verdicts[by], verdicts["status"]).reindex(columns=list(STATUSES), fill_value=0)
    table["total"] = table.sum(axis=1)
    return table.astype(int).reset_index()


# ----------------------------------------------------------------------------- in a chapter
def for_chapter(ch: Any, as_of: Any = None) -> pd.DataFrame:
    """The audit as of a chapter's edition (:class:`review_utils.chapter.Chapter`), or an earlier
    ``as_of``; every table it reads is recorded like any other load, so the chapter re-runs when
    one changes."""
    when = ch.as_of if as_of is None else as_of
    keys = {name: ch.package.resource(name).descriptor["schema"]["primaryKey"] for name in RESOURCES_NEEDED}
    return audit(load_tables(lambda name: ch.package.load(name, as_of=when), ch.package.load, keys, when, ch.layout.data))


def ledger_problems(data_dir: Any, edition: dt.date) -> list[Problem]:
    """Rule ``claimMateriality`` on a valid package: the audit as of ``edition`` (the default
    edition, in ``review validate``), and each flagged claim's tier (:func:`materiality_problems`)."""
    from review_utils.data.package import DataPackage

    package = DataPackage(data_dir)
    keys = {name: package.resource(name).descriptor["schema"]["primaryKey"] for name in RESOURCES_NEEDED}
    verdicts = audit(load_tables(lambda n: package.load(n, as_of=edition), package.load, keys, edition, data_dir))
    return materiality_problems(verdicts, package.load("claims"), package.resource("claims").display_path)


def verdict_of(verdicts: pd.DataFrame, claim_id: str, missing: str | None = None) -> str:
    """The audit's status label for one claim, as every chapter that discusses the claim shows
    it (one place decides); ``missing`` (default: not in this edition) when the claim is not yet
    known by the edition date."""
    from review_utils.render.text import NOT_IN_EDITION

    hit = verdicts[verdicts["claim_id"] == claim_id]
    if hit.empty:
        return NOT_IN_EDITION if missing is None else missing
    return str(hit.iloc[0]["status_label"])


def glue_verdicts(glue: Callable[[str, Any], Any], verdicts: pd.DataFrame, claim_ids: Any) -> dict[str, str]:
    """Glue ``verdict_<claim id>`` for each claim a chapter discusses; the names are what
    tests/test_reader_text.py checks against the audit across the built site."""
    shown = {}
    for claim_id in claim_ids:
        shown[claim_id] = glue(f"verdict_{claim_id}", verdict_of(verdicts, claim_id))
    return shown
