"""What changed between two editions, on made-up tables (the built page is tested in test_book_build)."""

import datetime as dt

import pandas as pd

from review_utils.chapters import changes
from review_utils.engine.site import late_citations

T = pd.Timestamp


def test_the_earlier_date_defaults_to_one_year_before():
    assert changes.earlier_date(dt.date(2026, 11, 30), None) == dt.date(2025, 11, 30)
    assert changes.earlier_date(dt.date(2024, 2, 29), None) == dt.date(2023, 2, 28)
    assert changes.earlier_date(dt.date(2026, 11, 30), dt.date(2020, 1, 1)) == dt.date(2020, 1, 1)


def approvals(ids):
    return pd.DataFrame({"approval_id": ids, "product_label": [f"p{i}" for i in ids], "indication": "LBCL",
                         "approval_date_shown": "2024-01-02", "source_id": "s"})


def test_approvals_added_are_those_known_now_and_not_then():
    rows = changes.approvals_added(approvals(["A1", "A2", "A3"]), approvals(["A1"]))
    assert [r["row"] for r in rows] == ["data/approvals.csv A2", "data/approvals.csv A3"]


def results(rows):
    cols = ["result_id", "trial", "product_name", "endpoint", "value", "value_low", "value_high", "qualifier", "unit",
            "data_cut", "published", "source_id"]
    return pd.DataFrame(rows, columns=cols)


def test_a_later_cut_of_the_same_trial_and_endpoint_supersedes_the_earlier():
    then = results([("R1", "T", "x-cel", "ORR", 70.0, None, None, "exact", "percent", T("2020-01-01"), T("2020-06-01"), "a")])
    now = results([("R1", "T", "x-cel", "ORR", 70.0, None, None, "exact", "percent", T("2020-01-01"), T("2020-06-01"), "a"),
                   ("R2", "T", "x-cel", "ORR", 74.5, None, None, "exact", "percent", T("2021-01-01"), T("2021-06-01"), "b"),
                   ("R3", "T", "x-cel", "CR", 50.0, None, None, "exact", "percent", T("2021-01-01"), T("2021-06-01"), "b")])
    rows = changes.results_changed(now, then)
    kinds = [(r["kind"], r["row"]) for r in rows]
    assert ("trial result added", "data/efficacy.csv R2") in kinds and ("trial result added", "data/efficacy.csv R3") in kinds
    assert ("trial result superseded", "data/efficacy.csv R1 → R2") in kinds
    superseded = next(r for r in rows if r["kind"] == "trial result superseded")
    assert "70 %" in superseded["before"] and "74.5 %" in superseded["after"]
    assert len(kinds) == 3  # CR has no earlier result to supersede


def prices(rows):
    cols = ["price_id", "product_id", "product_name", "scope", "value", "value_low", "value_high", "qualifier",
            "currency", "price_date", "date_precision", "source_id"]
    return pd.DataFrame(rows, columns=cols)


def test_a_new_price_for_the_same_product_and_scope_is_a_change_with_both_values():
    then = prices([("P1", "x", "x-cel", "list", 1_200_000.0, None, None, "exact", "CNY", T("2022-05-01"), "month", "a")])
    now = prices([("P1", "x", "x-cel", "list", 1_200_000.0, None, None, "exact", "CNY", T("2022-05-01"), "month", "a"),
                  ("P2", "x", "x-cel", "list", 999_000.0, None, None, "exact", "CNY", T("2025-11-01"), "month", "b"),
                  ("P3", "y", "y-cel", "list", 1_000_000.0, None, None, "exact", "CNY", T("2025-11-01"), "month", "b")])
    rows = {r["row"]: r for r in changes.prices_changed(now, then)}
    assert rows["data/prices.csv P2"]["kind"] == "price changed"
    assert rows["data/prices.csv P2"]["before"] == "1,200,000 CNY (2022-05)" and rows["data/prices.csv P2"]["after"] == "999,000 CNY (2025-11)"
    assert rows["data/prices.csv P3"]["kind"] == "price added" and rows["data/prices.csv P3"]["before"] == ""


def verdicts(pairs):
    return pd.DataFrame([{"claim_id": c, "status_label": s, "quantity": "q", "source_id": "seed"} for c, s in pairs])


def test_claims_whose_status_changed_and_claims_new_since():
    rows = changes.statuses_changed(verdicts([("C1", "reproduced"), ("C2", "differs"), ("C3", "differs")]),
                                    verdicts([("C1", "reproduced"), ("C2", "not checkable")]))
    assert [(r["what"][:2], r["before"], r["after"]) for r in rows] == [
        ("C2", "not checkable", "differs"), ("C3", "not in the earlier edition", "differs")]


def test_the_page_says_plainly_when_nothing_changed_and_when_there_is_nothing_to_compare():
    empty = changes.changes([[], []])
    assert changes.summary_sentence(empty, dt.date(2024, 1, 1), dt.date(2023, 1, 1)) == (
        "Nothing in the data changed between 2023-01-01 and 2024-01-01.")
    assert "no earlier edition to compare with" in changes.summary_sentence(empty, dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert set(changes.counts(empty).values()) == {0}
    some = changes.changes([changes.approvals_added(approvals(["A1", "A2"]), approvals([]))])
    assert changes.summary_sentence(some, dt.date(2024, 1, 1), dt.date(2023, 1, 1)).endswith("approval added: 2.")


def test_late_citations_are_found_in_prose_and_in_computed_output():
    import json

    sources = pd.DataFrame({"source_id": ["old", "new", "undated"], "published": [T("2020-01-01"), T("2025-01-01"), pd.NaT]})
    notebook = {"cells": [
        {"cell_type": "markdown", "source": ["As the review says {cite:p}`new`."]},
        {"cell_type": "code", "source": "x", "outputs": [{"data": {"text/markdown": "Sources: {cite:p}`old,new`."}}]}]}
    files = {"book/a.md": b"As said {cite:p}`old,new` and {cite:t}`undated`.",
             "book/b.ipynb": json.dumps(notebook).encode(), "book/c.png": b"{cite:p}`new`"}
    assert late_citations(files, sources, dt.date(2021, 1, 1)) == [
        ("book/a.md", "new", "2025-01-01", "prose"), ("book/b.ipynb", "new", "2025-01-01", "output"),
        ("book/b.ipynb", "new", "2025-01-01", "prose")]
    assert late_citations(files, sources, dt.date(2025, 6, 1)) == []
