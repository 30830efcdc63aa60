"""Policy timeline, post-marketing requirements and seed corrections (review_utils.chapters.policy).

Expected values are worked out by hand from the small tables below."""

from __future__ import annotations

import pandas as pd
import pytest

from review_utils.chapters import policy as po


@pytest.fixture
def events():
    return pd.DataFrame({
        "event_id": ["E1", "E2", "E3", "E4", "E5"],
        "date": pd.to_datetime(["2024-07-31", "2020-07-01", None, "2017-01-01", None]),
        "date_precision": ["day", "month", None, "year", None],
        "jurisdiction": ["CN", "CN", "CN", "US", "CN-SH"],
        "agency": ["NMPA"] * 5,
        "kind": ["review_reform", "approval_pathway", "post_marketing", "product_approval", "review_reform"],
        "event": ["pilot 30 working days", "conditional pathway", "follow-up for life", "first CAR-T", "30-day review"],
        "source_id": ["s1", "s2", "s3", "s4", "s5"], "locator": ["x"] * 5, "note": [None] * 5,
    })



def test_events_table_puts_dated_events_in_order_then_undated(events):
    table = po.events_table(events)
    assert table["event_id"].tolist() == ["E4", "E2", "E1", "E5", "E3"]  # undated: review reform before post-marketing
    assert table["date_shown"].tolist() == ["2017", "2020-07", "2024-07-31", "undated", "undated"]
    assert table["kind_shown"].tolist()[0] == "Product approval"


def test_summary_counts_dated_and_undated(events):
    counts = po.summary(po.events_table(events))
    assert counts == {"n_events": 5, "n_dated": 3, "n_undated": 2, "n_kinds": 4, "n_cn": 4,
                      "first_date": "2017", "latest_date": "2024-07-31"}
    empty = po.summary(po.events_table(events.iloc[0:0]))
    assert empty["n_events"] == 0 and empty["first_date"] == "none"


def test_timeline_draws_dated_events_only(events):
    from review_utils.render.figures import apply_style

    apply_style()
    fig = po.timeline_figure(po.events_table(events), as_of="2026-01-01")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Approval pathway", "Review reform", "Product approval"]
    labels = sorted(t.get_text() for t in ax.texts if t.get_text().startswith("E"))
    assert labels == ["E1", "E2", "E4"]  # the undated E3 and E5 are not drawn
    undated_only = events[events["date"].isna()]
    assert "No dated events" in po.timeline_figure(po.events_table(undated_only), as_of="2026-01-01").axes[0].texts[0].get_text()


def test_quantity_text_keeps_the_qualifier():
    row = {"value": 4.0, "value_low": float("nan"), "value_high": float("nan"), "qualifier": "up_to", "unit": "years"}
    assert po.quantity_text(row) == "up to 4 years"
    row = {"value": float("nan"), "value_low": 79.0, "value_high": 89.0, "qualifier": "range", "unit": "percent"}
    assert po.quantity_text(row) == "79–89 %"  # the one range style of the book (an en dash)
    assert po.quantity_text({**row, "value": 0.0, "qualifier": "exact", "unit": "count"}) == "0"


def test_post_marketing_rows_and_missing_values(events):
    findings = pd.DataFrame({
        "finding_id": ["F031", "F040", "F001"], "quantity": ["confirmatory trial deadline", "T-cell lymphoma cases", "x"],
        "value": [4.0, 0.0, 50.0], "value_low": [float("nan")] * 3, "value_high": [float("nan")] * 3,
        "qualifier": ["up_to", "exact", "exact"], "unit": ["years", "count", "percent"],
        "date": pd.to_datetime([None, "2025-06-30", None]), "date_precision": [None, "quarter", None],
        "source_id": ["b", "b", "r"], "locator": ["p4"] * 3, "note": [None] * 3})
    events = events.assign(event_id=["E1", "E2", "E13", "E4", "E5"])
    post = po.post_marketing(findings, events)
    assert post["row_id"].tolist() == ["F031", "F040", "E13"]
    assert post["quantity"].tolist() == ["up to 4 years", "0", ""]
    assert post["when"].tolist() == ["undated", "2025 Q2", "undated"]
    assert po.finding_value(findings, "F031") == 4 and po.finding_value(findings, "F040") == 0
    assert po.finding_value(findings, "F030") == po.MISSING == "not available as of the edition date"
    assert po.post_marketing(findings.iloc[0:0], events.iloc[0:0]).empty


def test_corrections_pair_seed_with_record_rows(events, monkeypatch):
    monkeypatch.setattr(po, "CORRECTIONS", [("E5", ["E1", "E9"]), ("MF1", ["E1"]), ("E8", ["E1"])])
    market = pd.DataFrame({"figure_id": ["MF1"], "metric": ["IND review time"], "scope": ["China"], "value": [30.0],
                           "value_low": [float("nan")], "value_high": [float("nan")], "qualifier": ["exact"],
                           "unit": ["days"], "as_of_date": pd.to_datetime([None]), "date_precision": [None],
                           "source_id": ["n1"], "note": ["working days"]})
    fixes = po.corrections(po.events_table(events), market)
    assert fixes["seed_row"].tolist() == ["E5", "MF1"]  # E8 is not in this edition
    assert fixes["record_rows"].tolist() == ["E1", "E1"]  # E9 is missing, so only E1
    assert fixes.loc[1, "seed_says"] == "IND review time: 30 days (China)"
    assert fixes.loc[0, "record_says"] == "2024-07-31: pilot 30 working days"
    assert set(fixes["record_1_source_id"]) == {"s1"} and set(fixes["seed_source_id"]) == {"s5", "n1"}
    assert po.figure_value(market, "MF1") == 30 and po.figure_value(market, "MF2") == po.MISSING == "not available as of the edition date"


def test_record_phrase_says_when_the_record_is_missing():
    fixes = pd.DataFrame({"seed_row": ["E17", "E21"], "record_rows": ["E14, E16", "none in this edition"],
                          "record_says": ["2024-07-31: pilot | 2025-09-12: nationwide", ""]})
    phrase = po.record_phrase(fixes, "E17")
    assert "(2024-07-31: pilot | 2025-09-12: nationwide)" in phrase and "E14" not in phrase  # the record, not row ids
    assert po.record_phrase(fixes, "E21") == po.NO_RECORD
    assert po.record_phrase(fixes.iloc[0:0], "E17") == po.NO_RECORD


def _events(rows):
    columns = ["event_id", "date", "date_precision", "jurisdiction", "agency", "kind", "event", "source_id", "locator",
               "note", "rule_status", "legal_basis", "label"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_rules_status_counts_and_key_findings_count_chinese_rules_only():
    events = _events([
        ["E1", "2020-01-01", "day", "CN", "NMPA", "guidance", "g", "s", "", "", "in_force", "", "Guideline"],
        ["E2", "2023-08-25", "day", "CN", "NMPA", "approval_pathway", "d", "s", "", "", "draft", "", "Draft"],
        ["E3", "2024-01-01", "day", "US", "FDA", "post_marketing", "u", "s", "", "", "not_a_rule", "", "FDA"],
        ["E4", "2021-01-01", "year", "CN-SH", "SH", "reimbursement", "r", "s", "", "", "superseded", "", "Old"],
        ["E5", "2022-01-01", "day", "CN", "NMPA", "product_approval", "p", "s", "", "", "not_a_rule", "", "Approval"],
    ])
    counts = dict(zip(po.status_counts(events)["status"], po.status_counts(events)["rules"]))
    assert counts == {"in_force": 1, "final": 0, "draft": 1, "superseded": 1}
    found = po.key_findings(events)
    assert found["n_rules"] == 3 and found["latest_rule"] == "Draft (2023-08-25)"
    assert po.event_status(events, "E2") == "draft" and po.event_status(events, "E9") == po.MISSING


def test_tracks_table_keeps_each_tracks_rules_in_date_order():
    track = next(iter(po.TRACKS))
    first, second = po.TRACKS[track][:2]
    events = _events([
        [second, "2019-01-01", "day", "CN", "NHC", "legislation", "b", "s", "", "", "in_force", "", "B"],
        [first, "2021-01-01", "day", "CN", "NHC", "legislation", "a", "s", "", "", "draft", "", "A"],
    ])
    table = po.tracks_table(events)
    assert table["event_id"].tolist() == [second, first] and set(table["track"]) == {track}
    assert table["status_shown"].tolist() == ["in force", "draft"]


def test_rules_figure_names_each_rule_on_its_own_line():
    events = _events([
        ["E1", "2020-01-01", "day", "CN", "NMPA", "guidance", "g", "s", "", "", "in_force", "", "Guideline one"],
        ["E2", "2023-08-25", "month", "CN", "NMPA", "approval_pathway", "d", "s", "", "", "draft", "", "Draft two"],
    ])
    fig = po.rules_figure(events, as_of="2026-01-01")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Guideline one", "Draft two"]


def test_rules_chart_has_the_figures_rules_with_status_and_zoom():
    from chart_helpers import assert_reader_tooltips, legend_filters, values, zooms

    events = _events([
        ["E1", "2020-01-01", "day", "CN", "NMPA", "guidance", "g", "s1", "", "", "in_force", "", "Guideline one"],
        ["E2", "2023-08-25", "month", "CN", "NMPA", "approval_pathway", "d", "s2", "", "", "draft", "", "Draft two"],
        ["E3", None, None, "CN", "NMPA", "guidance", "u", "s3", "", "", "in_force", "", "Undated"],
        ["E4", "2022-01-01", "day", "US", "FDA", "guidance", "f", "s4", "", "", "in_force", "", "FDA rule"],
    ])
    chart = po.rules_chart(events, as_of="2026-01-01")
    data = values(chart)
    assert [(r["rule_shown"], r["status_shown"], r["approximate"]) for r in data] == [
        ("Guideline one", "in force", False), ("Draft two", "draft", True)]
    assert data[0]["date"] == "2020-01-01"
    assert_reader_tooltips(chart)
    assert legend_filters(chart) and zooms(chart)
    # E2's date is known to the month only
    assert chart.summary == "2 dated rules; earliest: 2020-01-01 (Guideline one); latest: 2023-08 (Draft two)."
