"""Unit tests for review_utils.chapters.pipeline: figure-1 cells, IND clearance, reasons, CAR-T recount."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from review_utils.chapters import pipeline as pl


def stages(rows):
    return pd.DataFrame(rows, columns=["therapy_type", "stage", "count", "as_of_date", "source_id", "locator", "note"])


def test_missing_cells_are_not_given_never_zero():
    cells = pl.stage_cells(stages([
        ("CAR-T", "exploratory", 72, pd.Timestamp("2025-06-30"), "s1", "fig 1", None),
        ("stem cell", "approved", 0, pd.Timestamp("2025-06-30"), "s1", "fig 1", None),
    ]))
    assert len(cells) == 8 * 6  # every cell of the figure, given or not
    assert cells["given"].sum() == 2
    assert pl.cell_value(cells, "CAR-T", "exploratory") == 72
    assert pl.cell_value(cells, "stem cell", "approved") == 0          # a stated zero stays zero
    assert pl.cell_value(cells, "CAR-T", "approved") is None           # an absent cell is not zero
    matrix = pl.stage_matrix(cells)
    car_t = matrix.set_index("therapy_type").loc["CAR-T"]
    assert car_t["Exploratory trials"] == "72"
    assert car_t["Approved"] == pl.NOT_GIVEN
    assert matrix.set_index("therapy_type").loc["stem cell", "Approved"] == "0"
    assert matrix.set_index("therapy_type").loc["CAR-NK", "Approved"] == pl.NOT_GIVEN
    # the row's source travels for the caption; rows with nothing given cite nothing
    assert car_t["src0_source_id"] == "s1"
    assert pd.isna(matrix.set_index("therapy_type").loc["TCR-T", "src0_source_id"])
    # figure order, not alphabetical
    assert list(matrix["therapy_type"]) == pl.THERAPY_TYPES


def test_stage_summary_counts_given_cells_and_sums_them():
    cells = pl.stage_cells(stages([
        ("CAR-T", "exploratory", 72, None, "s1", "x", None),
        ("CAR-T", "confirmatory", 15, None, "s1", "x", None),
        ("gene therapy", "approved", 1, None, "s1", "x", None),
    ]))
    summary = pl.stage_summary(cells)
    assert summary["n_cells"] == 48
    assert summary["n_cells_given"] == 3
    assert summary["n_types_with_cells"] == 2
    assert summary["given_sum"] == {"CAR-T": 87, "gene therapy": 1}


def test_therapy_types_and_stages_match_the_data_package():
    from review_utils.core.paths import find_root
    from review_utils.data.package import DataPackage

    root = find_root()
    fields = {f["name"]: f for f in DataPackage(root / "data").resource("pipeline_stages").fields}
    assert pl.THERAPY_TYPES == fields["therapy_type"]["constraints"]["enum"]
    assert list(pl.STAGES) == fields["stage"]["constraints"]["enum"]


def ind(rows):
    return pd.DataFrame(rows, columns=["ind_id", "metric", "count", "period_end"])


def test_clearance_rate_is_computed_from_the_two_counts():
    result = pl.clearance(ind([("I01", "reviewed", 765, pd.Timestamp("2025-06-30")),
                               ("I02", "cleared", 553, pd.Timestamp("2025-06-30"))]),
                          reviewed_id="I01", cleared_id="I02")
    assert result["reviewed"] == 765 and result["cleared"] == 553
    assert result["not_cleared"] == 212
    assert result["rate"] == pytest.approx(0.72288, abs=1e-5)   # 553 / 765 by hand
    assert pl.percent(result["rate"]) == "72.3 %"


def test_clearance_in_an_early_edition_is_empty_not_an_error():
    result = pl.clearance(ind([]), reviewed_id="I01", cleared_id="I02")
    assert result["rate"] is None
    assert pl.percent(result["rate"]) == pl.MISSING


def test_clearance_refuses_swapped_or_impossible_rows():
    rows = ind([("I01", "cleared", 553, None), ("I02", "reviewed", 765, None)])
    with pytest.raises(ValueError):
        pl.clearance(rows, reviewed_id="I01", cleared_id="I02")
    rows = ind([("I01", "reviewed", 5, None), ("I02", "cleared", 6, None)])
    with pytest.raises(ValueError):
        pl.clearance(rows, reviewed_id="I01", cleared_id="I02")


def test_cart_recount_by_cutoff():
    approved = pd.DataFrame({
        "approval_id": ["A1", "A2", "A3", "A4"],
        "product_id": ["p", "p", "q", "r"],
        "modality": ["CAR-T", "CAR-T", "CAR-T", "stem cell"],
        "approval_date": pd.to_datetime(["2021-06-22", "2025-06-30", "2025-07-01", "2025-01-02"]),
    })
    shown, counts = pl.recount_cart(approved, dt.date(2025, 6, 30))
    assert counts == {"products": 1, "indications": 2}   # A1, A2 of product p; A3 is too late; A4 not CAR-T
    assert list(shown["approval_id"]) == ["A1", "A2"]


def test_cart_approved_statements_side_by_side():
    cells = pl.stage_cells(stages([("CAR-T", "approved", 9, None, "brief", "fig 1", None)]))
    findings = pd.DataFrame({"finding_id": ["F032", "F033", "F099"], "value": [6.0, 9.0, 1.0],
                             "quantity": ["products", "indications", "other"], "source_id": ["brief"] * 3,
                             "locator": ["t"] * 3})
    claims = pd.DataFrame({"claim_id": ["C055"], "status_label": ["differs"]})
    table = pl.cart_approved_statements(cells, findings, claims)
    assert list(table["count"]) == [9, 6, 9]
    assert table["check"].iloc[0] == "C055: differs"
    empty = pl.cart_approved_statements(pl.stage_cells(stages([])), findings.iloc[0:0], claims.iloc[0:0])
    assert empty.empty


def test_figures_draw_and_fall_back_to_a_placeholder():
    import matplotlib.pyplot as plt

    empty = pl.stage_cells(stages([]))
    fig = pl.stage_heatmap(empty)
    assert len(fig.axes) == 1 and not fig.axes[0].axison   # placeholder
    plt.close(fig)
    fig = pl.stage_heatmap(pl.stage_cells(stages([("CAR-T", "approved", 9, None, "s", "x", None)])))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count(pl.NOT_GIVEN) == 47 and "9" in texts
    plt.close(fig)
    fig = pl.clearance_figure({"reviewed": None})
    assert not fig.axes[0].axison
    plt.close(fig)


def test_reasons_follow_the_briefing_order_by_key_number():
    reasons = pd.DataFrame({"reason_id": ["NC10", "NC2", "NC1"], "reason": ["c", "b", "a"]})
    table = pl.reasons_table(reasons)
    assert table["reason"].tolist() == ["a", "b", "c"] and table["order"].tolist() == [1, 2, 10]


def ind_rows():
    return pd.DataFrame({
        "ind_id": ["I01", "I02", "I03"], "metric": ["reviewed", "cleared", "reviewed"], "count": [200, 150, 200],
        "scope": ["all CGT INDs", "cleared INDs", "other source"],
        "period_end": pd.to_datetime(["2025-06-30", "2025-06-30", "2025-06-30"]),
        "source_id": ["brief", "brief", "news"], "locator": ["p 2"] * 3, "note": [None] * 3})


def test_clearance_chart_draws_the_figures_two_rows_with_the_rate():
    chart = pl.clearance_chart(ind_rows(), reviewed_id="I01", cleared_id="I02")
    spec = chart.spec
    rows = spec["data"]["values"]
    assert [(r["bar"], r["count"], r["source_id"]) for r in rows] == [("INDs reviewed", 200, "brief"),
                                                                       ("INDs cleared", 150, "brief")]
    bar, labels = spec["layer"]
    assert {r["bar"]: r["_label"] for r in labels["data"]["values"]} == {"INDs reviewed": "200",
                                                                        "INDs cleared": "150 (75.0 % cleared)"}
    fields = [t["field"] for t in bar["encoding"]["tooltip"]]
    assert "source_id" in fields and "ind_id" not in fields
    assert chart.summary == "2 bars: INDs reviewed (200), INDs cleared (150); cleared / reviewed = 75.0 %."


def test_clearance_chart_is_none_without_both_rows():
    assert pl.clearance_chart(ind_rows().iloc[[0, 2]], reviewed_id="I01", cleared_id="I02") is None
