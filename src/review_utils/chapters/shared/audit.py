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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from review_utils.data.evidence import (  # noqa: F401 - the grammar is part of the audit's API
    _REF,
    COUNT_RESOURCES,
    RESOURCES_NEEDED,
    UNIT_COLUMN,
    VALUE_COLUMNS,
    EvidenceError,
    Item,
    Ref,
    _evaluate,
    evidence_problems,
    find_row,
    parse_evidence,
)
from review_utils.data.values import is_missing as _missing
from review_utils.render.text import amount, stated

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


def load_tables(load: Callable[[str], pd.DataFrame], load_whole: Callable[[str], pd.DataFrame],
                keys: Mapping[str, list[str]], edition: dt.date, data_dir: Any = None) -> Tables:
    """``load(name)`` gives a resource as of the edition, ``load_whole(name)`` all of it;
    ``data_dir`` (the package folder) is where registry evidence is read (None: not available)."""
    return Tables({n: load(n) for n in RESOURCES_NEEDED}, {n: load_whole(n) for n in RESOURCES_NEEDED}, keys, edition,
                  data_dir)


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
        elif item.kind == "registry":
            finding = _registry(item, claim, tables)
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

    from review_utils.chapters.shared.approved import count_as_of, matching_spans

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
            "needed": str(claim["needed"]) if not _missing(claim["needed"]) else (
                "; ".join(f.text for f in verdict.findings if f.relation == "unavailable")
                if verdict.status == "not_checkable" else ""),
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


# ----------------------------------------------------------------------------- in a chapter
def for_chapter(ch: Any) -> pd.DataFrame:
    """The audit as of a chapter's edition (:class:`review_utils.chapter.Chapter`); every table
    it reads is recorded like any other load, so the chapter re-runs when one changes."""
    keys = {name: ch.package.resource(name).descriptor["schema"]["primaryKey"] for name in RESOURCES_NEEDED}
    return audit(load_tables(ch.load, ch.package.load, keys, ch.as_of, ch.layout.data))
