"""The grammar of the claims ledger's ``evidence`` cells, and the check that every cell can be
evaluated (rule ``claimEvidence`` of ``review validate``).

An ``evidence`` cell holds items separated by ``;``:

- ``row RESOURCE:KEY[.COLUMN]``: another row's stated value (a composite key joined with ``/``);
- ``claim ID``: another claim of the ledger;
- ``calc EXPRESSION``: arithmetic (+ - * / and brackets) on cells written ``{resource:key.column}``;
- ``count products|indications FIELD=V|V, ...``: approvals recounted on the claim's date;
- ``registry MEASURE``: a figure counted from the edition's ClinicalTrials.gov snapshots
  (``china_share``, in percent; ``china_active``, a count; defined in
  :mod:`review_utils.chapters.shared.registry_trials`).

A ``calc`` or ``count`` item may end in ``as MEASURE @ POPULATION`` to say what it measures when
that is not what the claim measures (a worked example's share against a programme's maximum);
without it, it measures what the claim does (a recount measures approved products or indications).
Any item may start with ``context`` to be shown beside the claim without counting: it is meant
for evidence that measures something else, and validation requires exactly that.

Definitions (what a claim or an item measures) are data: a claim's ``measure`` and ``population``
columns; for a ``row`` item, its entry in ``data/evidence_rows.csv`` or, for efficacy rows, the
row's own ``endpoint`` and ``disease``; for a ``claim`` item, the other claim's columns.
``data/evidence_rows.csv`` also records a row whose value was inferred from a claim
(``inferred_from_claim``): it can never be evidence for that claim.

The audit's status rules, which evaluate these items, live with the chapters
(:mod:`review_utils.chapters.shared.audit`); this module only parses and checks them.
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from review_utils.core.errors import Problem, ReviewError
from review_utils.data.values import is_missing as _missing

if TYPE_CHECKING:
    import pandas as pd

# The resources a claim's evidence may point to, and the columns holding a row's stated value.
VALUE_COLUMNS = ("value", "value_low", "value_high", "qualifier")
UNIT_COLUMN = {"prices": "currency"}
COUNT_RESOURCES = ("pipeline_stages", "ind_reviews")  # a bare count column, unit "count"
RESOURCES_NEEDED = ("claims", "sources", "products", "approvals", "findings", "efficacy", "prices",
                    "reimbursement", "market_figures", "pipeline_stages", "ind_reviews", "policy_events",
                    "evidence_rows", "registry_snapshots")
DEFINITION_COLUMNS = {"efficacy": ("endpoint", "disease"), "claims": ("measure", "population")}
RECOUNT_MEASURES = {"products": "approved products", "indications": "approved indications"}

# registry measures and their units (definitions: review_utils.chapters.shared.registry_trials)
REGISTRY_MEASURES = {"china_share": "percent", "china_active": "count"}

_REF = re.compile(r"\{([a-z_]+):([^{}.]+)\.([a-z_]+)\}")


class EvidenceError(ReviewError):
    """An evidence item that cannot be read; the message says which and what to write instead."""


# ----------------------------------------------------------------------------- intervals
@dataclass(frozen=True)
class Ref:
    resource: str
    key: str
    column: str | None = None

    def __str__(self) -> str:
        return f"{self.resource}:{self.key}" + (f".{self.column}" if self.column else "")


@dataclass(frozen=True)
class Item:
    kind: str  # row | claim | calc | count | registry
    text: str
    refs: tuple[Ref, ...] = ()
    expression: str = ""
    claim_id: str = ""
    unit: str = ""  # count: products | indications
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    definition: Definition | None = None  # 'as MEASURE @ POPULATION' of a calc or count
    context: bool = False  # shown beside the claim, never counted (measures something else)


@dataclass(frozen=True)
class Definition:
    """What a claim or an evidence item measures: the quantity and whom or what it is about."""

    measure: str
    population: str

    def matches(self, other: Definition) -> bool:
        return _norm(self.measure) == _norm(other.measure) and _norm(self.population) == _norm(other.population)

    def __str__(self) -> str:
        return f"{self.measure} ({self.population})"


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def parse_evidence(text: str | None) -> list[Item]:
    """The items of one ``evidence`` cell (empty cell: no items). Raises :class:`EvidenceError`."""
    items = []
    if _missing(text):
        return items
    for part in (p.strip() for p in str(text).split(";")):
        if part:
            items.append(_parse_item(part))
    return items


def _parse_item(part: str) -> Item:
    body, context = part, False
    if body.startswith("context "):
        body, context = body[len("context "):].strip(), True
    body, definition = _split_definition(body, part)
    item = _parse_plain(body)
    if definition is not None and item.kind not in ("calc", "count", "registry"):
        raise EvidenceError(f"{part!r}: only a calc or count item says what it measures with 'as'; a row or claim "
                            "item measures what its row says (data/evidence_rows.csv, or the claim's own columns)")
    return replace(item, text=part, definition=definition, context=context)


def _split_definition(body: str, part: str) -> tuple[str, Definition | None]:
    head, sep, tail = body.rpartition(" as ")
    if not sep:
        return body, None
    measure, at, population = tail.partition(" @ ")
    if not at or not measure.strip() or not population.strip():
        raise EvidenceError(f"{part!r}: write 'as MEASURE @ POPULATION' at the end, e.g. "
                            "'as approved products @ gene therapy, China, since 2003'")
    return head.strip(), Definition(measure.strip(), population.strip())


def _parse_plain(part: str) -> Item:
    kind, _, rest = part.partition(" ")
    rest = rest.strip()
    if kind == "row":
        return Item("row", part, refs=(_parse_ref(rest, part),))
    if kind == "claim":
        if not re.fullmatch(r"C[0-9]{3}[a-z]?", rest):
            raise EvidenceError(f"{part!r}: a claim item names one claim id, e.g. 'claim C027'")
        return Item("claim", part, claim_id=rest)
    if kind == "calc":
        refs = tuple(Ref(*m.groups()) for m in _REF.finditer(rest))
        if not refs:
            raise EvidenceError(f"{part!r}: a calc item needs at least one cell, written {{resource:key.column}}")
        _check_arithmetic(_REF.sub("1", rest), part)
        return Item("calc", part, refs=refs, expression=rest)
    if kind == "count":
        what, _, spec = rest.partition(" ")
        if what not in ("products", "indications"):
            raise EvidenceError(f"{part!r}: write 'count products ...' or 'count indications ...'")
        filters = []
        for clause in (c.strip() for c in spec.split(",") if c.strip()):
            name, eq, values = clause.partition("=")
            if not eq or not name.strip() or not values.strip():
                raise EvidenceError(f"{part!r}: each filter is FIELD=VALUE or FIELD=VALUE|VALUE, got {clause!r}")
            filters.append((name.strip(), tuple(v.strip() for v in values.split("|"))))
        return Item("count", part, unit=what, filters=tuple(filters))
    if kind == "registry":
        if rest not in REGISTRY_MEASURES:
            raise EvidenceError(f"{part!r}: a registry item names one of {', '.join(REGISTRY_MEASURES)}")
        return Item("registry", part, unit=rest)
    raise EvidenceError(f"{part!r}: an evidence item starts with row, claim, calc, count or registry (or 'context')")


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


def find_row(frames: Mapping[str, pd.DataFrame], keys: Mapping[str, list[str]], ref: Ref) -> Any | None:
    """The row ``ref`` names (a composite key is joined with '/'), or None when there is none."""
    frame = frames.get(ref.resource)
    if frame is None:
        return None
    names = keys[ref.resource]
    parts = ref.key.split("/")
    if len(parts) != len(names):
        return None
    mask = None
    for name, part in zip(names, parts):
        hit = frame[name].astype("string") == part
        mask = hit if mask is None else (mask & hit)
    found = frame[mask.fillna(False)]
    return found.iloc[0] if len(found) else None


# ----------------------------------------------------------------------------- definitions
MATERIALITY = ("conclusion", "quoted_number", "wording")


def claim_definition(claim: Any) -> Definition | None:
    """What a claim measures (its ``measure`` and ``population``), or None when not given."""
    if any(c not in claim.index or _missing(claim[c]) for c in ("measure", "population")):
        return None
    return Definition(str(claim["measure"]), str(claim["population"]))


def row_entry(frames: Mapping[str, pd.DataFrame], ref: Ref) -> Any | None:
    """The row of ``data/evidence_rows.csv`` about ``ref``'s row, if any."""
    table = frames.get("evidence_rows")
    if table is None or not len(table):
        return None
    hit = table[(table["resource"].astype(str) == ref.resource) & (table["row_key"].astype(str) == ref.key)]
    return hit.iloc[0] if len(hit) else None


def row_definition(frames: Mapping[str, pd.DataFrame], ref: Ref, row: Any) -> Definition | None:
    """What a row measures: its entry in evidence_rows.csv, else its own definition columns
    (efficacy: endpoint and disease; claims: measure and population)."""
    entry = row_entry(frames, ref)
    if entry is not None and not _missing(entry["measure"]) and not _missing(entry["population"]):
        return Definition(str(entry["measure"]), str(entry["population"]))
    columns = DEFINITION_COLUMNS.get(ref.resource)
    if columns and all(c in row.index and not _missing(row[c]) for c in columns):
        return Definition(str(row[columns[0]]), str(row[columns[1]]))
    return None


def item_definition(item: Item, claim: Any, frames: Mapping[str, pd.DataFrame],
                    keys: Mapping[str, list[str]]) -> Definition | None:
    """What one evidence item measures (see the module docstring); None when it is not recorded."""
    if item.kind in ("row", "claim"):
        ref = Ref("claims", item.claim_id) if item.kind == "claim" else item.refs[0]
        row = find_row(frames, keys, ref)
        return None if row is None else row_definition(frames, ref, row)
    if item.definition is not None:
        return item.definition
    own = claim_definition(claim)
    if own is None:
        return None
    if item.kind == "count":
        return Definition(RECOUNT_MEASURES[item.unit], own.population)
    return own


def inferred_from(frames: Mapping[str, pd.DataFrame], ref: Ref) -> set[str]:
    """The claims a row's value was inferred from (evidence_rows.csv, ``inferred_from_claim``)."""
    entry = row_entry(frames, ref)
    if entry is None or _missing(entry["inferred_from_claim"]):
        return set()
    return {c.strip() for c in str(entry["inferred_from_claim"]).split(";") if c.strip()}


# ----------------------------------------------------------------------------- validation
def evidence_problems(claims: pd.DataFrame, frames: Mapping[str, pd.DataFrame], keys: Mapping[str, list[str]],
                      path: str = "data/claims.csv") -> list[Problem]:
    """Every evidence cell that cannot be evaluated, named by row and column (run by
    ``review validate`` on the whole package, so a typo never reaches a build)."""
    problems: list[Problem] = []
    ids = set(claims["claim_id"].astype(str))

    def bad(index: Any, column: str, value: Any, rule: str, message: str) -> None:
        problems.append(Problem(path, int(index) + 2, column, None if _missing(value) else str(value), rule, message))

    for index, claim in claims.iterrows():
        method, text = str(claim["check_method"]), claim["evidence"]
        has_evidence = not _missing(text) and str(text).strip() != ""
        if "materiality" in claim.index and not _missing(claim["materiality"]) and method == "not_checkable":
            bad(index, "materiality", claim["materiality"], "claim-materiality",
                "a not_checkable claim is never flagged, so it takes no materiality tier; empty the cell")
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
        own = claim_definition(claim)
        if own is None:
            bad(index, "measure", None, "claim-definition",
                f"claim {claim['claim_id']} has evidence but does not say what it measures: fill measure and "
                "population, so that evidence measuring something else can be told apart")
        for item in items:
            messages = _item_problems(item, claim, frames, keys, ids)
            for message in messages:
                bad(index, "evidence", item.text, "claim-evidence", message)
            if messages:
                continue
            for rule, message in _meaning_problems(item, claim, own, frames, keys):
                bad(index, "evidence", item.text, rule, message)
    problems += _evidence_row_problems(claims, frames, keys)
    return problems


def _meaning_problems(item: Item, claim: Any, own: Definition | None, frames: Mapping[str, pd.DataFrame],
                      keys: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """Definition mismatch and circular evidence for one item (which otherwise reads)."""
    out = []
    claim_id = str(claim["claim_id"])
    for ref in item.refs:
        if claim_id in inferred_from(frames, ref):
            out.append(("claim-circular", f"{ref.resource}:{ref.key} was inferred from claim {claim_id} "
                        f"(data/evidence_rows.csv, inferred_from_claim), so it cannot be evidence for claim {claim_id}; "
                        "remove the item or check the claim another way"))
    if own is None:
        return out
    theirs = item_definition(item, claim, frames, keys)
    if theirs is None:
        ref = item.refs[0] if item.refs else Ref("claims", item.claim_id)
        where = (f"the measure and population of claim {item.claim_id}" if item.kind == "claim"
                 else f"a row of data/evidence_rows.csv with resource {ref.resource} and row_key {ref.key}")
        out.append(("claim-definition", f"claim {claim_id}: what {item.text!r} measures is not recorded; add {where}"))
    elif not theirs.matches(own) and not item.context:
        out.append(("claim-definition", f"claim {claim_id} measures {own}, but item {item.text!r} measures {theirs}; "
                    "such evidence can neither confirm nor contradict the claim: start the item with 'context' to "
                    "show it beside the claim, or choose evidence that measures the same"))
    elif theirs.matches(own) and item.context:
        out.append(("claim-definition", f"claim {claim_id}: item {item.text!r} is marked context but measures what "
                    f"the claim measures ({own}); drop 'context' so that it counts"))
    return out


def _evidence_row_problems(claims: pd.DataFrame, frames: Mapping[str, pd.DataFrame],
                           keys: Mapping[str, list[str]]) -> list[Problem]:
    """Each row of data/evidence_rows.csv names an existing row, and existing claims."""
    table = frames.get("evidence_rows")
    out: list[Problem] = []
    if table is None:
        return out
    ids = set(claims["claim_id"].astype(str))
    path = "data/evidence_rows.csv"
    for index, entry in table.iterrows():
        ref = Ref(str(entry["resource"]), str(entry["row_key"]))
        if ref.resource not in frames or ref.resource not in keys:
            out.append(Problem(path, int(index) + 2, "resource", ref.resource, "evidence-row",
                               f"{ref.resource!r} is not a resource the audit reads ({', '.join(RESOURCES_NEEDED)})"))
        elif find_row(frames, keys, ref) is None:
            out.append(Problem(path, int(index) + 2, "row_key", ref.key, "evidence-row",
                               f"no row {ref.key!r} in {ref.resource} (key: {'/'.join(keys[ref.resource])})"))
        for claim_id in sorted(inferred_from(frames, ref) - ids) if ref.resource in keys else ():
            out.append(Problem(path, int(index) + 2, "inferred_from_claim", claim_id, "evidence-row",
                               f"claim {claim_id} is not in claims.csv"))
    return out


def _item_problems(item: Item, claim: Any, frames: Mapping[str, pd.DataFrame], keys: Mapping[str, list[str]],
                   ids: set[str]) -> list[str]:
    unit = str(claim["unit"])
    if item.kind == "claim":
        if item.claim_id not in ids:
            return [f"claim {item.claim_id} is not in claims.csv"]
        if item.claim_id == claim["claim_id"]:
            return ["a claim cannot be its own evidence"]
        other = find_row(frames, keys, Ref("claims", item.claim_id))
        if other is not None and str(other["unit"]) != unit:
            return [f"claim {item.claim_id} is in {other['unit']}, this claim in {unit}; compare like with like"]
        return []
    if item.kind == "registry":
        wanted = REGISTRY_MEASURES[item.unit]
        return [] if unit == wanted else [f"registry {item.unit} is in {wanted}, this claim in {unit}; compare like with like"]
    if item.kind == "count":
        if unit != "count":
            return [f"a recount gives a count, but this claim's unit is {unit}"]
        columns = set(frames["products"].columns) | set(frames["approvals"].columns)
        return [f"count filter {name!r} is not a column of products.csv or approvals.csv"
                for name, _ in item.filters if name not in columns]
    out = []
    for ref in item.refs:
        if ref.resource not in frames:
            out.append(f"{ref.resource!r} is not a resource the audit reads ({', '.join(RESOURCES_NEEDED)})")
            continue
        row = find_row(frames, keys, ref)
        if row is None:
            out.append(f"no row {ref.key!r} in {ref.resource} (key: {'/'.join(keys[ref.resource])})")
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
