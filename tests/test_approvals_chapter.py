"""The CGT landscape counts and the stated-versus-recomputed comparison (review_utils.chapters.approvals).

Expected values are worked out by hand from the small tables below."""

from __future__ import annotations

import pandas as pd
import pytest

from review_utils.chapters import approvals as ap


@pytest.fixture
def table():
    products = pd.DataFrame({
        "product_id": ["c1", "c2", "c3", "s1", "g1", "n1"],
        "brand_en": ["One", None, "Three", None, None, None], "brand_zh": [None] * 6,
        "modality": ["CAR-T", "CAR-T", "CAR-T", "stem cell", "gene therapy", "small nucleic acid"],
        "target": ["CD19", "CD19", "BCMA", "MSC", "F9", "SMN2"],
        "origin": ["imported", "domestic", "domestic", "domestic", "domestic", "imported"],
        "source_id": ["p1", "p2", "p3", "p4", "p5", "p6"], "locator": ["x"] * 6, "note": [None] * 6})
    approvals = pd.DataFrame({
        "approval_id": ["A1", "A2", "A3", "A4", "A5", "A6", "A7"],
        "product_id": ["c1", "c1", "c2", "c3", "s1", "g1", "n1"],
        "indication_group": ["LBCL", "LBCL", "B-ALL", "MM", "aGVHD", "haemophilia B", "SMA"],
        "approval_date": pd.to_datetime(["2021-06-22", "2023-07-18", "2022-10-01", "2024-02-23", "2025-01-02",
                                         "2025-04-01", "2019-02-01"]),
        "date_precision": ["day", "day", "month", "not_later_than", "day", "month", "month"],
        "approval_type": ["not_stated", "conditional", "not_stated", "full", "conditional", "not_stated",
                          "not_stated"],
        "source_id": ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]})
    return ap.approved(products, approvals)


def test_landscape_by_modality_counts_products_indications_origin_and_type(table):
    by = ap.landscape_by(table, "modality", ap.MODALITY_ORDER)
    assert by["modality"].tolist() == ["CAR-T", "stem cell", "gene therapy", "small nucleic acid"]
    cart = by.iloc[0]
    # c1 (2 indications) + c2 + c3: 3 products, 4 indications; c1 imported
    assert (cart["products"], cart["indications"], cart["domestic"], cart["imported"]) == (3, 4, 2, 1)
    assert (cart["conditional"], cart["full"], cart["not_stated"]) == (1, 1, 2)
    assert cart["first_approval"] == "2021-06-22"
    # every source behind the CAR-T row (approvals and products) is cited, one id per column
    cited = {v for c in by.columns if c.endswith("_source_id") for v in by[c].iloc[:1] if isinstance(v, str)}
    assert cited == {"a1", "a2", "a3", "a4", "p1", "p2", "p3"}


def test_landscape_summary_share_of_unstated_types(table):
    counts = ap.landscape_summary(table)
    assert counts["n_products"] == 6 and counts["n_indications"] == 7
    assert counts["n_type_not_stated"] == 4 and counts["share_type_not_stated"] == pytest.approx(4 / 7)
    assert counts["n_modalities"] == 4 and counts["n_non_cart_products"] == 3
    assert counts["n_targets"] == 5 and counts["first_approval"] == "2019-02"


def test_empty_landscape_does_not_crash(table):
    empty = table.iloc[0:0]
    assert ap.landscape_by(empty, "modality", ap.MODALITY_ORDER).empty
    assert ap.landscape_summary(empty)["share_type_not_stated"] == 0.0
    assert ap.grouped_overview(empty, "target").empty


def test_grouped_overview_by_target(table):
    by = ap.grouped_overview(table, "target")
    cd19 = by[by["target"] == "CD19"].iloc[0]
    assert (cd19["products"], cd19["indications"]) == (2, 3)
    assert cd19["origin"] == "domestic, imported" and cd19["approval_types"] == "conditional, not stated"
    # CAR-T targets come first (modality order), then the other classes
    assert by["target"].tolist()[:2] == ["BCMA", "CD19"] and by["target"].tolist()[-1] == "SMN2"


def test_count_as_of_uses_the_statement_date(table):
    assert ap.count_as_of(table, "2023-12-31", modality="CAR-T") == 2
    assert ap.count_as_of(table, "2023-12-31", modality="CAR-T", unit="indications") == 3
    assert ap.count_as_of(table, "2024-02-23", modality="CAR-T", origin="domestic") == 2
    assert ap.count_as_of(table, "2030-01-01", approval_type="conditional", unit="indications") == 2
    assert ap.count_as_of(table, "2018-12-31") == 0


def test_matching_spans_date_a_stated_count(table):
    # CAR-T products: 1 from 2021-06-22, 2 from 2022-10-01, 3 from 2024-02-23
    spans = ap.matching_spans(table, 2, "2026-01-01", modality="CAR-T")
    assert spans == [(pd.Timestamp("2022-10-01"), pd.Timestamp("2024-02-22"))]
    assert ap.matching_spans(table, 7, "2026-01-01", modality="CAR-T") == []


def test_stated_vs_recomputed_picks_the_right_date(table, monkeypatch):
    monkeypatch.setattr(ap, "STATED_COUNTS", {
        "X1": {"modality": "CAR-T", "unit": "products"},
        "X2": {"modality": "CAR-T", "unit": "products", "origin": "domestic"},
        "X3": {"modality": None, "unit": "products"},
    })
    stated = pd.DataFrame({
        "row_id": ["X1", "X2", "X3", "X9"], "quantity": ["q"] * 4, "value": [3.0, 2.0, 5.0, 1.0],
        "date": pd.to_datetime(["2023-06-30", None, None, None]),
        "date_precision": ["quarter", None, None, None], "source_id": ["s1", "s2", "s3", "s1"]})
    out = ap.stated_vs_recomputed(stated, table, {"s2": pd.Timestamp("2024-03-01")}, "2025-12-31")
    rows = out.set_index("row_id")
    assert "X9" not in rows.index  # not a known stated count
    # X1: own cut-off 2023-06-30 -> c1, c2 = 2 products, stated 3
    assert (rows.loc["X1", "as_of"], rows.loc["X1", "recomputed"], rows.loc["X1", "agrees"]) == ("2023-06-30", 2, "no")
    assert rows.loc["X1", "matched"] == "2024-02-23 to 2025-12-31"
    # X2: undated, source published 2024-03-01 -> domestic CAR-T c2, c3 = 2
    assert (rows.loc["X2", "as_of"], rows.loc["X2", "recomputed"], rows.loc["X2", "agrees"]) == ("2024-03-01", 2, "yes")
    # X3: undated source -> edition date, all six products
    assert (rows.loc["X3", "as_of"], rows.loc["X3", "recomputed"]) == ("2025-12-31", 6)
    assert out["as_of"].tolist() == sorted(out["as_of"])


def test_stated_rows_and_type_statement():
    findings = pd.DataFrame({"finding_id": ["F034", "F999"], "quantity": ["a", "b"], "value": [7.0, 1.0],
                             "date": pd.to_datetime(["2025-06-30", None]), "date_precision": ["quarter", None],
                             "source_id": ["s", "s"]})
    market = pd.DataFrame({"figure_id": ["MF05"], "metric": ["m"], "value": [7.0],
                           "as_of_date": pd.to_datetime(["2025-09-16"]), "date_precision": ["not_later_than"],
                           "source_id": ["t"]})
    rows = ap.stated_rows(findings, market)
    assert rows["row_id"].tolist() == ["F034", "MF05"]
    comparison = pd.DataFrame({"row_id": ["F034", "F035"], "as_of": ["2025-06-30"] * 2, "stated": [7, 2],
                               "recomputed": [1, 0]})
    sentence = ap.type_statement(comparison)
    assert "7 conditional and 2 full" in sentence and "1 conditional and 0 full" in sentence
    assert "predates" in ap.type_statement(comparison.iloc[0:0])


def test_landscape_figure_has_a_bar_per_class_and_placeholder_when_empty(table):
    from review_utils.render.figures import apply_style

    apply_style()
    fig = ap.landscape_figure(table)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["CAR-T", "stem cell", "gene therapy",
                                                               "small nucleic acid"]
    # products: domestic + imported bars per class; widths add up to the product counts 3, 1, 1, 1
    totals = [0] * 4
    for patch in left.patches:
        totals[round(patch.get_y() + patch.get_height() / 2)] += patch.get_width()
    assert totals == [3, 1, 1, 1]
    assert ap.landscape_figure(table.iloc[0:0]).axes[0].texts  # placeholder message


# ----------------------------------------------------------------------------- interactive landscape
def _tooltip_fields(spec) -> list[str]:
    return [t["field"] for t in spec["encoding"]["tooltip"]]


def test_landscape_chart_has_a_segment_per_product_and_per_indication(table):
    chart = ap.landscape_chart(table)
    rows = chart.spec["data"]["values"]
    products = [r for r in rows if r["bar"] == "Products"]
    indications = [r for r in rows if r["bar"] == "Approved indications"]
    # the figure's rows by key: each approval once (label, indication, source), each product once
    assert sorted((r["product_label"], r["indication_shown"], r["source_id"]) for r in indications) == \
        sorted(zip(table["product_label"], table["indication_group"], table["source_id"]))
    assert sorted(r["product_label"] for r in products) == sorted(table["product_label"].unique())
    # a product's segment cites the product's source, an indication's the approval's
    c1 = [r for r in products if r["product_label"] == table.loc[table["product_id"] == "c1", "product_label"].iloc[0]]
    assert [r["source_id"] for r in c1] == ["p1"] and c1[0]["indication_shown"] == "LBCL"
    assert c1[0]["part"] == "licensed or imported"
    by_class = pd.Series([r["modality"] for r in indications]).value_counts()
    assert by_class.to_dict() == table["modality"].value_counts().to_dict()
    fields = _tooltip_fields(chart.spec)
    assert "source_id" in fields and not {"approval_id", "product_id"} & set(fields)
    assert {t["title"] for t in chart.spec["encoding"]["tooltip"]} >= {"Source", "Product", "Therapy class"}


def test_landscape_chart_summary_names_the_largest_class_and_colours_follow_the_figure(table):
    chart = ap.landscape_chart(table)
    products = table.groupby("modality")["product_id"].nunique()
    indications = table.groupby("modality").size()
    top_p, top_i = products.idxmax(), indications.idxmax()
    assert f"most products: {top_p} ({products.max()})" in chart.summary
    assert f"most approved indications: {top_i} ({indications.max()})" in chart.summary
    assert chart.summary.startswith(f"{table['modality'].nunique()} therapy classes")
    scale = chart.spec["encoding"]["color"]["scale"]
    colours = dict(zip(scale["domain"], scale["range"]))
    assert colours["approval type not stated"] == "#BBBBBB"
    assert colours["developed in China"] == ap.OKABE_ITO[0]
    assert chart.spec["encoding"]["y"]["sort"] == [m for m in ap.MODALITY_ORDER if m in set(table["modality"])]
