"""What changed between two editions: approvals added, trial results added or superseded, prices
changed, and claims whose audit status changed, computed from the data at both dates.

The earlier date is the ``compare_to`` book parameter, or one year before the edition date when it
is empty. Every change names the row behind it (its file and key) and its source; a pair of dates
between which nothing changed says so.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared.results import ENDPOINT_LABEL
from review_utils.data.values import is_missing
from review_utils.render.text import as_given, dated, stated

if TYPE_CHECKING:
    import pandas as pd

ROWS: dict[str, tuple[str, ...]] = {}

KINDS = ["approval added", "trial result added", "trial result superseded", "price added", "price changed",
         "claim status changed"]
COLUMNS = ["kind", "what", "before", "after", "row", "source_id"]


def earlier_date(edition: dt.date, compare_to: dt.date | None) -> dt.date:
    """``compare_to``, or the same day one year before the edition (28 February for 29 February)."""
    if compare_to is not None:
        return compare_to
    try:
        return edition.replace(year=edition.year - 1)
    except ValueError:  # 29 February
        return edition.replace(year=edition.year - 1, day=28)


def _new_keys(now: pd.DataFrame, then: pd.DataFrame, key: str) -> pd.DataFrame:
    return now[~now[key].isin(set(then[key]))]


def approvals_added(now: pd.DataFrame, then: pd.DataFrame) -> list[dict[str, Any]]:
    """Approvals known now that were not known then (``now``/``then``: approvals joined with products)."""
    return [{"kind": "approval added", "what": f"{r.product_label}: {r.indication}", "before": "",
             "after": f"approved {r.approval_date_shown}", "row": f"data/approvals.csv {r.approval_id}",
             "source_id": r.source_id}
            for r in _new_keys(now, then, "approval_id").itertuples()]


def _result_text(row: Any) -> str:
    value = stated(row.value, row.value_low, row.value_high, row.qualifier, row.unit, number=as_given)
    return f"{ENDPOINT_LABEL.get(row.endpoint, row.endpoint)}: {value}"


def results_changed(now: pd.DataFrame, then: pd.DataFrame) -> list[dict[str, Any]]:
    """Trial results added since, and earlier results that a newer one of the same trial and
    endpoint (a later data cut or publication) now supersedes."""
    out = []
    added = _new_keys(now, then, "result_id")
    for r in added.itertuples():
        out.append({"kind": "trial result added", "what": f"{r.trial}: {r.product_name}", "before": "",
                    "after": _result_text(r), "row": f"data/efficacy.csv {r.result_id}", "source_id": r.source_id})
        same = then[(then["trial"] == r.trial) & (then["endpoint"] == r.endpoint)]
        for old in same.itertuples():
            newer_cut = not is_missing(r.data_cut) and not is_missing(old.data_cut) and r.data_cut > old.data_cut
            newer_paper = not is_missing(r.published) and not is_missing(old.published) and r.published > old.published
            if newer_cut or newer_paper:
                out.append({"kind": "trial result superseded", "what": f"{old.trial}: {old.product_name}",
                            "before": f"{_result_text(old)} ({old.result_id})",
                            "after": f"{_result_text(r)} ({r.result_id})",
                            "row": f"data/efficacy.csv {old.result_id} → {r.result_id}", "source_id": r.source_id})
    return out


def prices_changed(now: pd.DataFrame, then: pd.DataFrame) -> list[dict[str, Any]]:
    """Prices reported since; where the same product and scope had a price then, both are shown."""
    out = []
    for r in _new_keys(now, then, "price_id").itertuples():
        after = f"{stated(r.value, r.value_low, r.value_high, r.qualifier, r.currency)} ({dated(r.price_date, r.date_precision)})"
        earlier = then[(then["product_id"] == r.product_id) & (then["scope"] == r.scope)].sort_values("price_date")
        if len(earlier):
            old = earlier.iloc[-1]
            before = (f"{stated(old['value'], old['value_low'], old['value_high'], old['qualifier'], old['currency'])} "
                      f"({dated(old['price_date'], old['date_precision'])})")
            kind = "price changed" if before.split(" (")[0] != after.split(" (")[0] else "price added"
        else:
            before, kind = "", "price added"
        out.append({"kind": kind, "what": f"{r.product_name}, {r.scope}", "before": before, "after": after,
                    "row": f"data/prices.csv {r.price_id}", "source_id": r.source_id})
    return out


def statuses_changed(now: pd.DataFrame, then: pd.DataFrame) -> list[dict[str, Any]]:
    """Claims whose audit status differs between the two dates (a claim not yet made then counts
    as 'not in the earlier edition')."""
    before = dict(zip(then["claim_id"], then["status_label"]))
    out = []
    for r in now.sort_values("claim_id").itertuples():
        old = before.get(r.claim_id, "not in the earlier edition")
        if old != r.status_label:
            out.append({"kind": "claim status changed", "what": f"{r.claim_id}: {r.quantity}", "before": old,
                        "after": r.status_label, "row": f"data/claims.csv {r.claim_id}", "source_id": r.source_id})
    return out


def changes(parts: list[list[dict[str, Any]]]) -> pd.DataFrame:
    """One table of every change, by kind in :data:`KINDS` order, then by row."""
    import pandas as pd

    frame = pd.DataFrame([row for part in parts for row in part], columns=COLUMNS)
    if frame.empty:
        return frame
    frame["_k"] = frame["kind"].map(KINDS.index)
    return frame.sort_values(["_k", "row"]).drop(columns="_k").reset_index(drop=True)


def counts(table: pd.DataFrame) -> dict[str, int]:
    """How many changes of each kind (every kind present, zero when none)."""
    return {kind: int((table["kind"] == kind).sum()) for kind in KINDS}


def summary_sentence(table: pd.DataFrame, edition: dt.date, earlier: dt.date) -> str:
    """The plain statement the page opens with, including when nothing changed."""
    if earlier >= edition:
        return (f"There is no earlier edition to compare with: the comparison date {earlier.isoformat()} is not "
                f"before this edition's date {edition.isoformat()}.")
    if table.empty:
        return f"Nothing in the data changed between {earlier.isoformat()} and {edition.isoformat()}."
    found = [f"{kind}: {n}" for kind, n in counts(table).items() if n]
    return (f"Between {earlier.isoformat()} and {edition.isoformat()} the data gained or changed: "
            + "; ".join(found) + ".")
