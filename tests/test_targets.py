"""The targets chapter's interactive chart (review_utils.chapters.targets.target_chart), checked on a
small approved-indications table worked out by hand."""

from __future__ import annotations

import pandas as pd

from review_utils.chapters import targets as tg


def approved():
    return pd.DataFrame({
        "approval_id": ["A1", "A2", "A3", "A4", "A5"],
        "product_id": ["c1", "c2", "c2", "b1", "s1"],
        "product_label": ["one", "two", "two", "bee", "stem"],
        "modality": ["CAR-T", "CAR-T", "CAR-T", "CAR-T", "stem cell"],
        "target": ["CD19 (murine scFv)", "CD19", "CD19", "BCMA", "not confirmed (MSC)"],
        "indication_group": ["LBCL", "B-ALL", "FL", "MM", "aGVHD"],
        "approval_date": pd.to_datetime(["2021-06-22", "2022-01-01", "2023-01-01", "2023-06-30", "2025-01-02"]),
        "date_precision": ["day", "month", "day", "not_later_than", "day"],
        "source_id": ["a1", "a2", "a3", "a4", "a5"], "product_source_id": ["p1", "p2", "p2", "p3", "p4"]})


def test_target_chart_has_a_segment_per_approved_indication():
    frame = approved()
    chart = tg.target_chart(frame)
    rows = chart.spec["data"]["values"]
    assert sorted((r["product_label"], r["indication_group"], r["source_id"]) for r in rows) == \
        sorted(zip(frame["product_label"], frame["indication_group"], frame["source_id"]))
    # bars in the static figure's order: CD19 (3 indications), then BCMA and not confirmed (1 each, by name)
    bar, text = chart.spec["layer"]
    assert bar["encoding"]["y"]["sort"] == ["CD19 (CAR-T)", "BCMA (CAR-T)", "not confirmed (stem cell)"]
    assert {r["bar"]: r["_label"] for r in text["data"]["values"]} == {
        "CD19 (CAR-T)": "2 products", "BCMA (CAR-T)": "1 product", "not confirmed (stem cell)": "1 product"}
    fields = [t["field"] for t in bar["encoding"]["tooltip"]]
    assert "source_id" in fields and not {"approval_id", "product_id"} & set(fields)
    assert [r["date_shown"] for r in rows if r["indication_group"] == "MM"] == ["by 2023-06-30"] or \
        "2023-06-30" in [r["date_shown"] for r in rows if r["indication_group"] == "MM"][0]


def test_target_chart_summary_names_the_target_with_most_indications():
    frame = approved()
    chart = tg.target_chart(frame)
    groups = frame.assign(g=frame["target"].str.split(" (", regex=False).str[0]).groupby(["g", "modality"])
    sizes = groups.size()
    (group, modality), n = sizes.idxmax(), sizes.max()
    products = groups["product_id"].nunique()[(group, modality)]
    assert f"most: {group} ({modality}) with {n} indications of {products} products" in chart.summary
    assert chart.summary.startswith(f"{len(sizes)} targets (by modality) with {len(frame)} approved indications")
    assert f"{int((groups['product_id'].nunique() == 1).sum())} of the {len(sizes)} targets have a single product" \
        in chart.summary
