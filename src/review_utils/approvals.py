"""Approved products joined with their approvals, and the counts the chapters report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

PRECISION_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def format_dated(when: Any, precision: str) -> str:
    """A date as exact as the source allows: '2021-09' for month precision, 'by 2025-06-30'
    for an upper bound."""
    if when is None or when != when:
        return ""
    if precision == "not_later_than":
        return "by " + when.strftime("%Y-%m-%d")
    return when.strftime(PRECISION_FORMATS.get(precision, "%Y-%m-%d"))


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
    merged["approval_date_shown"] = [format_dated(d, p) for d, p in zip(merged["approval_date"], merged["date_precision"])]
    return merged


def summary(table: pd.DataFrame) -> dict[str, Any]:
    """The counts the prose cites, computed from an :func:`approved` table."""
    dated = table["approval_date"]
    return {
        "n_products": int(table["product_id"].nunique()),
        "n_indications": int(len(table)),
        "n_domestic_products": int(table.loc[table["origin"] == "domestic", "product_id"].nunique()),
        "n_imported_products": int(table.loc[table["origin"] == "imported", "product_id"].nunique()),
        "n_conditional": int((table["approval_type"] == "conditional").sum()),
        "n_full": int((table["approval_type"] == "full").sum()),
        "n_type_not_stated": int((table["approval_type"] == "not_stated").sum()),
        "n_date_bounds": int((table["date_precision"] == "not_later_than").sum()),
        "first_approval": format_dated(dated.iloc[0], table["date_precision"].iloc[0]) if len(table) else "none",
        "latest_approval": format_dated(dated.iloc[-1], table["date_precision"].iloc[-1]) if len(table) else "none",
    }

