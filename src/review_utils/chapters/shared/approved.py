"""The approvals table that several chapters and the claims audit build on: one row per
approved indication with its product's attributes, and counts of it on any date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.render.text import dated

if TYPE_CHECKING:
    import pandas as pd


def product_label(row: Any) -> str:
    """Short display name: the INN's short key with the brand, e.g. 'axi-cel (Yikaida)'."""
    brand = next((b for b in (row.get("brand_en"), row.get("brand_zh")) if isinstance(b, str) and b), "")
    brand = brand.split(" (")[0]
    if not brand or brand.lower() == str(row["product_id"]).lower():
        return str(row["product_id"])
    return f"{row['product_id']} ({brand})"


def approved(products: pd.DataFrame, approvals: pd.DataFrame, modality: str | None = None) -> pd.DataFrame:
    """One row per approval with its product's attributes, oldest first.

    The product's own source is kept as ``product_source_id`` so that both citations travel.
    """
    merged = approvals.merge(
        products.rename(columns={"source_id": "product_source_id", "locator": "product_locator", "note": "product_note"}),
        on="product_id", how="left", validate="many_to_one",
    )
    if modality is not None:
        merged = merged[merged["modality"] == modality]
    merged = merged.sort_values(["approval_date", "approval_id"]).reset_index(drop=True)
    merged["product_label"] = [product_label(row) for _, row in merged.iterrows()]
    merged["approval_type_shown"] = merged["approval_type"].str.replace("_", " ")
    merged["approval_date_shown"] = [dated(d, p, undated="") for d, p in zip(merged["approval_date"], merged["date_precision"])]
    return merged


def count_as_of(table: pd.DataFrame, when: Any, unit: str = "products", **filters: Any) -> int:
    """How many products (or indications) of an :func:`approved` table were approved on or
    before ``when``, among rows whose columns match ``filters`` (a value or a collection of
    accepted values; ``None`` does not filter). Dates known only as an upper bound count from
    that bound."""
    import pandas as pd

    rows = table[table["approval_date"] <= pd.Timestamp(when)]
    for column, wanted in filters.items():
        if wanted is None:
            continue
        accepted = [wanted] if isinstance(wanted, str) else list(wanted)
        rows = rows[rows[column].isin(accepted)]
    return int(rows["product_id"].nunique()) if unit == "products" else int(len(rows))


def matching_spans(table: pd.DataFrame, value: float, until: Any, **selector: Any) -> list[tuple[Any, Any]]:
    """The periods (first day, last day) up to ``until`` in which the recomputed count equalled
    ``value``. The count only changes on approval dates, so those are the only breakpoints."""
    import pandas as pd

    until = pd.Timestamp(until)
    days = sorted({d for d in table["approval_date"].dropna() if d <= until})
    if not days:
        return []
    spans, start = [], None
    for i, day in enumerate(days):
        end = (days[i + 1] - pd.Timedelta(days=1)) if i + 1 < len(days) else until
        if count_as_of(table, day, **selector) == value:
            start = day if start is None else start
            last = end
        elif start is not None:
            spans.append((start, last))
            start = None
    if start is not None:
        spans.append((start, last))
    return spans
