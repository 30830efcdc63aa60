"""Unit tests for review_utils.chapters.market (and the target helpers that reuse it)."""

from __future__ import annotations

import pandas as pd

from review_utils.chapters import market as mk
from review_utils.chapters import targets as tg


def market(rows):
    cols = ["figure_id", "metric", "value", "value_low", "value_high", "qualifier", "unit", "as_of_date",
            "date_precision", "source_id"]
    return pd.DataFrame(rows, columns=cols)


ROWS = [
    ("MF12", mk.DEAL_SHARE_METRIC, 33.0, None, None, "exact", "percent", pd.Timestamp("2024-12-31"), "year", "news"),
    ("MF13", mk.DEAL_SHARE_METRIC, 12.0, None, None, "exact", "percent", pd.Timestamp("2022-12-31"), "year", "news"),
    ("MF02", "China share", 50.0, None, None, "over", "percent", pd.NaT, None, "news"),
    ("MF22", "upfront", 1e9, None, None, "about", "USD", pd.Timestamp("2024-02-22"), "day", "pr"),
]


def test_deal_shares_by_year_oldest_first():
    shares = mk.deal_shares(market(ROWS))
    assert list(shares["year"]) == [2022, 2024]
    assert list(shares["value_shown"]) == ["12 %", "33 %"]


def test_value_of_and_dates():
    frame = market(ROWS)
    assert mk.value_of(frame, "MF02") == "over 50 %"
    assert mk.value_of(frame, "MF22") == "about US$1.0 billion"
    assert mk.value_of(frame, "MF99") == mk.MISSING
    shown = mk.shown(frame).set_index("figure_id")["date_shown"]
    assert shown["MF12"] == "2024" and shown["MF02"] == "undated" and shown["MF22"] == "2024-02-22"


def test_select_keeps_the_requested_order_and_skips_absent_rows():
    picked = mk.select(market(ROWS), ("MF22", "MF99", "MF02"))
    assert list(picked["figure_id"]) == ["MF22", "MF02"]


def test_checks_match_claims_on_source_value_and_unit():
    claims = pd.DataFrame({"claim_id": ["C2", "C1", "C3"], "source_id": ["news", "news", "news"],
                           "stated_value": [33.0, 33.0, 50.0], "unit": ["percent", "percent", "count"],
                           "status_label": ["reproduced", "not checkable from available data", "reproduced"]})
    sources = pd.DataFrame({"source_id": ["news", "pr"], "kind": ["news", "company_release"]})
    checked = mk.with_checks(market(ROWS), claims, sources).set_index("figure_id")
    assert checked.loc["MF12", "check"] == "not checkable from available data (C1)"  # first by key
    assert checked.loc["MF02", "check"] == "not checked"         # 50 percent != 50 count
    assert checked.loc["MF22", "source_kind"] == "company release"


def test_deal_share_figure_marks_missing_years():
    import matplotlib.pyplot as plt

    fig = mk.deal_share_figure(mk.deal_shares(market(ROWS)))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2022", "2023", "2024"]
    assert "not given" in [t.get_text() for t in ax.texts]
    assert len(ax.patches) == 2                                     # no bar drawn for 2023
    plt.close(fig)
    fig = mk.deal_share_figure(mk.deal_shares(market([])))
    assert not fig.axes[0].axison
    plt.close(fig)


def test_target_groups_and_aggregation():
    assert tg.target_group("CD19 (humanised scFv)") == "CD19"
    assert tg.target_group("not confirmed (CD19 presumed)") == "not confirmed"
    assert tg.target_group(None) == "not recorded"
    approved = pd.DataFrame({
        "product_id": ["a", "a", "b", "c"], "product_label": ["a", "a", "b", "c"],
        "modality": ["CAR-T"] * 4, "target": ["CD19", "CD19", "CD19 (humanised scFv)", "BCMA"],
        "indication_group": ["LBCL", "FL", "B-ALL", "MM"],
        "source_id": ["s1", "s2", "s3", "s4"], "product_source_id": ["p1", "p1", "p2", "p3"],
    })
    table = tg.by_target(approved)
    assert list(table["target_group"]) == ["CD19", "BCMA"]
    cd19 = table.iloc[0]
    assert cd19["n_products"] == 2 and cd19["n_indications"] == 3
    assert cd19["indication_groups"] == "B-ALL, FL, LBCL"
    ids = sorted(cd19[[c for c in table.columns if c.endswith("_source_id")]].dropna())
    assert ids == ["p1", "p2", "s1", "s2", "s3"]
    assert tg.target_counts(table, "BCMA") == {"products": 1, "indications": 1}
    assert tg.target_counts(table, "GPC3") == {"products": 0, "indications": 0}
    assert tg.by_target(approved.iloc[0:0]).empty


def test_target_statements_keep_wording_and_evidence():
    findings = pd.DataFrame({"finding_id": ["F2", "F1"], "topic": ["antigen_expression", "toxicity"],
                             "quantity": ["GPC3 share", "x"], "value": [None, 28.0], "value_low": [40.0, None],
                             "value_high": [60.0, None], "qualifier": ["range", "exact"], "unit": ["percent", "percent"],
                             "evidence_level": ["not_stated", "clinical"], "source_id": ["r", "r"],
                             "locator": ["p4", "p4"], "note": ["", ""]})
    ind = pd.DataFrame({"ind_id": ["I04"], "metric": ["cleared"], "count": [14], "scope": ["eye GT"],
                        "source_id": ["b"], "locator": ["2c"], "note": [""]})
    table = tg.target_statements(findings, ind)
    assert list(table["key"]) == ["F2", "I04"]
    assert list(table["value_shown"]) == ["40–60 %", "14"]
    assert table["evidence"].iloc[0] == "not stated by the source"


def test_series_text_lists_every_stated_year_once():
    assert mk.series_text(mk.deal_shares(market(ROWS))) == "12 % (2022), 33 % (2024)"
    assert mk.series_text(mk.deal_shares(market(ROWS[1:2]))) == "12 % (2022)"
    assert mk.series_text(mk.deal_shares(market([]))) == mk.MISSING
