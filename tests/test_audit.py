"""The claims audit: tolerance rules, evidence syntax, each status on small made-up ledgers, the
validation of evidence cells, and the real ledger (every claim gets a status)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import REPO, copy_project, edit_csv, first_row, run_review, set_cell

from review_utils.chapters import audit as report
from review_utils.chapters.shared import audit
from review_utils.data.package import DataPackage

EDITION = dt.date(2026, 1, 1)
KEYS = {"claims": ["claim_id"], "sources": ["source_id"], "findings": ["finding_id"], "products": ["product_id"],
        "approvals": ["approval_id"], "pipeline_stages": ["therapy_type", "stage", "source_id"], "efficacy": ["result_id"],
        "evidence_rows": ["resource", "row_key"]}


# ----------------------------------------------------------------------------- tolerance rules
def test_rounding_follows_the_last_written_digit():
    assert audit.half_unit(28) == 0.5
    assert audit.half_unit(41.7) == pytest.approx(0.05)
    assert audit.half_unit(78.85) == pytest.approx(0.005)
    assert audit.half_unit(1200000) == 0.5


@pytest.mark.parametrize("stated, evidence, expected", [
    ((28, None, None, "exact", "percent"), 100 * 10 / 36, True),      # 27.78 rounds to 28
    ((28, None, None, "exact", "percent"), 27.4, False),
    ((41.7, None, None, "exact", "percent"), 41.666, True),
    ((41.7, None, None, "exact", "percent"), 41.6, False),
    ((36, None, None, "exact", "count"), 36.4, False),                  # counts are exact
    ((50, None, None, "over", "percent"), 50.0, False),                 # "over" excludes the number
    ((50, None, None, "over", "percent"), 50.01, True),
    ((50, None, None, "up_to", "percent"), 50.0, True),
    ((60, None, None, "nearly", "count"), 60, False),                   # "nearly" is below, never at
    ((60, None, None, "nearly", "count"), 55, True),
    ((60, None, None, "nearly", "count"), 53, False),                   # more than NEARLY below
    ((2000, None, None, "about", "count"), 2199, True),
    ((2000, None, None, "about", "count"), 2250, False),
    ((None, 79, 89, "range", "percent"), 89.4, True),
    ((None, 79, 89, "range", "percent"), 70.8, False),
])
def test_agreement_of_a_stated_value_with_an_exact_one(stated, evidence, expected):
    assert audit.agrees(audit.allowed(*stated[:4], unit=stated[4]), audit.Interval(evidence, evidence)) is expected


def test_strict_wordings_around_the_same_number_exclude_each_other():
    nearly = audit.allowed(60, None, None, "nearly", unit="count")
    over = audit.allowed(60, None, None, "over", unit="count")
    assert not audit.agrees(nearly, over)
    assert audit.agrees(audit.allowed(50, None, None, "up_to"), audit.allowed(50, None, None, "exact"))


def test_gap_between_written_values_and_from_a_range():
    about = audit.nominal(1.0e9, None, None, "about")
    assert audit.gap(audit.nominal(1.2e9, None, None, "exact"), 1.2e9, about, 1.0e9) == pytest.approx(-0.2e9)
    assert audit.gap(audit.nominal(None, 79, 89, "range"), None, audit.Interval(70.8, 70.8), 70.8) == pytest.approx(-8.2)
    assert audit.gap_words(-8.2, "percent", None) == "8.2 percentage points lower"
    assert audit.gap_words(1, "count", 36) == "1 more"
    assert audit.gap_words(-2, "year", 2023) == "2 years earlier"
    assert audit.gap_words(-2e8, "USD", 1.2e9) == "200,000,000 USD lower (16.67 % of the stated value)"


def test_amounts_and_wordings():
    assert audit.worded(None, 79, 89, "range", "percent") == "79–89 %"
    assert audit.worded(3.3e7, None, None, "over", "CNY") == "over 33,000,000 CNY"
    assert audit.worded(2, None, None, "exact", "table number") == "Table 2"


# ----------------------------------------------------------------------------- evidence syntax
def test_parse_every_kind_of_item():
    items = audit.parse_evidence("row findings:F1; claim C002;calc 100 * {findings:F1.numerator} / {findings:F1.denominator};"
                                 " count products modality=CAR-T, origin=domestic|imported")
    assert [i.kind for i in items] == ["row", "claim", "calc", "count"]
    assert items[0].refs == (audit.Ref("findings", "F1"),)
    assert items[1].claim_id == "C002"
    assert [str(r) for r in items[2].refs] == ["findings:F1.numerator", "findings:F1.denominator"]
    assert items[3].unit == "products" and items[3].filters == (("modality", ("CAR-T",)), ("origin", ("domestic", "imported")))
    assert audit.parse_evidence(None) == [] and audit.parse_evidence(" ; ") == []


@pytest.mark.parametrize("text, fragment", [
    ("lookup findings:F1", "starts with row, claim, calc, count or registry"),
    ("claim F001", "names one claim id"),
    ("calc 100 * 3", "needs at least one cell"),
    ("calc __import__('os') + {findings:F1.value}", "only numbers, cells"),
    ("count drugs modality=CAR-T", "count products"),
    ("count products modality", "FIELD=VALUE"),
    ("row findings", "row resource:KEY"),
])
def test_bad_items_say_what_to_write(text, fragment):
    with pytest.raises(audit.EvidenceError) as caught:
        audit.parse_evidence(text)
    assert fragment in str(caught.value)


# ----------------------------------------------------------------------------- made-up ledgers
def claims_frame(rows: list[dict]) -> pd.DataFrame:
    base = {"locator": "p1", "quantity": "q", "stated_value": None, "value_low": None, "value_high": None,
            "qualifier": "exact", "unit": "percent", "claim_date": None, "date_precision": None, "evidence": None,
            "needed": None, "correction": None, "correction_source_id": None, "note": None,
            "measure": "share", "population": "trial X", "materiality": None}
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame["claim_date"] = pd.to_datetime(frame["claim_date"])
    return frame


# Made-up sources: 'doc' and 'other' undated and independent; 'dated' published on a day;
# 'news' and 'brief' both derive from 'origin' (so they depend on each other); 'copy' derives
# from 'news' (so, transitively, from 'origin'); 'annual' is known only by its year.
SOURCES = pd.DataFrame({
    "source_id": ["doc", "other", "dated", "origin", "news", "brief", "copy", "annual"],
    "published": pd.to_datetime([None, None, "2024-06-01", None, None, None, None, "2025-01-01"]),
    "date_precision": [None, None, "day", None, None, None, None, "year"],
    "derives_from": [None, None, None, None, "origin", "origin", "news", None]})
ROW_DEFINITION = {"measure": "share", "population": "trial X", "inferred_from_claim": None, "note": None}


def tables(claims: pd.DataFrame, *, findings: list[dict] = (), approvals: list[dict] = (), products: list[dict] = (),
           hidden_findings: list[dict] = (), efficacy: list[dict] = (), evidence_rows: list[dict] | None = None,
           edition: dt.date = EDITION) -> audit.Tables:
    """Frames for a made-up audit. Unless ``evidence_rows`` is given, every finding measures
    what the made-up claims measure by default ('share' of 'trial X')."""
    finding_cols = ["finding_id", "value", "value_low", "value_high", "qualifier", "unit", "numerator", "denominator",
                    "source_id", "locator"]
    shown = pd.DataFrame(list(findings), columns=finding_cols)
    whole = pd.DataFrame(list(findings) + list(hidden_findings), columns=finding_cols)
    products = pd.DataFrame(list(products), columns=["product_id", "modality", "origin", "source_id", "locator", "note",
                                                       "brand_en"])
    approvals = pd.DataFrame(list(approvals), columns=["approval_id", "product_id", "approval_date", "date_precision",
                                                         "approval_type", "source_id", "locator", "note"])
    approvals["approval_date"] = pd.to_datetime(approvals["approval_date"])
    efficacy = pd.DataFrame(list(efficacy), columns=["result_id", "endpoint", "disease", "value", "value_low", "value_high",
                                                     "qualifier", "unit", "source_id", "locator"])
    if evidence_rows is None:
        evidence_rows = [{"resource": "findings", "row_key": f["finding_id"], **ROW_DEFINITION}
                         for f in list(findings) + list(hidden_findings)]
    rows = pd.DataFrame(list(evidence_rows), columns=["resource", "row_key", "measure", "population",
                                                      "inferred_from_claim", "note"])
    frames = {"claims": claims, "sources": SOURCES, "findings": shown, "products": products, "approvals": approvals,
              "efficacy": efficacy, "evidence_rows": rows}
    everything = {**frames, "findings": whole}
    return audit.Tables(frames, everything, KEYS, edition)


def status(frame: pd.DataFrame, claim_id: str) -> pd.Series:
    return frame.set_index("claim_id").loc[claim_id]


def test_own_arithmetic_is_internally_consistent_only():
    claims = claims_frame([{"claim_id": "C001", "source_id": "doc", "stated_value": 28, "check_method": "recompute",
                            "evidence": "calc 100 * {findings:F1.numerator} / {findings:F1.denominator}"}])
    found = audit.audit(tables(claims, findings=[{"finding_id": "F1", "numerator": 10, "denominator": 36,
                                                  "source_id": "doc", "unit": "percent"}]))
    row = status(found, "C001")
    # the document's own numerator and denominator: agreement shows consistency, not confirmation
    assert row["status"] == "internal_only" and row["status_label"] == "internally consistent only"
    assert row["evidence"] == "recomputed 100 × 10 ÷ 36 = 27.78 %" and row["difference"] == ""
    assert bool(row["internal"]) is True


def test_differs_when_the_percentage_does_not_follow_from_the_amounts():
    claims = claims_frame([{"claim_id": "C001", "source_id": "doc", "stated_value": 50, "check_method": "recompute",
                            "evidence": "calc 100 * {findings:F1.numerator} / {findings:F1.denominator}"}])
    found = audit.audit(tables(claims, findings=[{"finding_id": "F1", "numerator": 5, "denominator": 12,
                                                  "source_id": "doc", "unit": "percent"}]))
    row = status(found, "C001")
    assert row["status"] == "differs"
    assert row["difference"].startswith("8.33 percentage points lower")


def test_the_same_quantity_stated_twice_differently_differs():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 60, "qualifier": "nearly", "unit": "count",
         "check_method": "compare", "evidence": "claim C002"},
        {"claim_id": "C002", "source_id": "doc", "stated_value": 60, "qualifier": "over", "unit": "count",
         "check_method": "compare", "evidence": "claim C001"},
        {"claim_id": "C003", "source_id": "doc", "stated_value": 60, "qualifier": "over", "unit": "count",
         "check_method": "compare", "evidence": "claim C002"},
    ])
    found = audit.audit(tables(claims))
    assert status(found, "C001")["status"] == "differs" and status(found, "C002")["status"] == "differs"
    assert "wordings exclude each other" in status(found, "C001")["difference"]
    # C003 agrees with C002, but C002 differs: a claim checked through a claim takes the weaker status
    assert status(found, "C003")["status"] == "differs" and status(found, "C003")["inherited_from"] == "C002"


def test_contradicted_names_both_sources_and_outranks_differs():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 89.6, "check_method": "compare",
         "evidence": "row findings:F2; calc {findings:F1.value} + 1", "correction": "registered as NCT0",
         "correction_source_id": "other"},
        {"claim_id": "C002", "source_id": "doc", "stated_value": 96, "check_method": "compare", "evidence": "row findings:F2"},
    ])
    findings = [{"finding_id": "F1", "value": 50, "source_id": "doc", "unit": "percent", "qualifier": "exact"},
                {"finding_id": "F2", "value": 96.0, "source_id": "other", "unit": "percent", "qualifier": "exact",
                 "locator": "table 2"}]
    found = audit.audit(tables(claims, findings=findings))
    row = status(found, "C001")
    assert row["status"] == "contradicted" and row["status_label"] == "contradicted by an independent source"
    assert row["source_id"] == "doc" and row["evidence_source_id"] == "other"
    assert "other F2 (table 2): 96 %" in row["evidence"]
    assert "6.4 percentage points higher (other F2 (table 2))" in row["difference"]
    assert row["correction"] == "registered as NCT0" and row["correction_source_id"] == "other"
    assert status(found, "C002")["status"] == "confirmed"  # agreeing with an independent source


def test_not_checkable_by_ledger_and_when_evidence_is_after_the_edition():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 65, "check_method": "not_checkable",
         "needed": "the preclinical data"},
        {"claim_id": "C002", "source_id": "doc", "stated_value": 96, "check_method": "compare", "evidence": "row findings:F9"},
    ])
    later = [{"finding_id": "F9", "value": 90.0, "source_id": "other", "unit": "percent", "qualifier": "exact"}]
    found = audit.audit(tables(claims, hidden_findings=later))
    assert status(found, "C001")["status"] == "not_checkable" and status(found, "C001")["needed"] == "the preclinical data"
    assert status(found, "C002")["status"] == "not_checkable"
    assert "not known by the edition date" in status(found, "C002")["evidence"]


PRODUCTS = [{"product_id": "a", "modality": "CAR-T", "origin": "imported", "source_id": "other"},
            {"product_id": "b", "modality": "CAR-T", "origin": "domestic", "source_id": "other"},
            {"product_id": "c", "modality": "gene therapy", "origin": "domestic", "source_id": "other"}]
APPROVALS = [{"approval_id": "A1", "product_id": "a", "approval_date": "2021-06-22", "approval_type": "full", "source_id": "other"},
             {"approval_id": "A2", "product_id": "b", "approval_date": "2023-03-01", "approval_type": "conditional", "source_id": "other"},
             {"approval_id": "A3", "product_id": "b", "approval_date": "2024-03-01", "approval_type": "conditional", "source_id": "other"},
             {"approval_id": "A4", "product_id": "c", "approval_date": "2025-01-01", "approval_type": "full", "source_id": "other"}]


def test_recounts_hold_for_a_date():
    claims = claims_frame([
        # dated claim: two CAR-T products by 2024-12-31 -> confirmed (the approvals come from 'other')
        {"claim_id": "C001", "source_id": "doc", "stated_value": 2, "unit": "count", "measure": "approved products", "claim_date": "2024-12-31",
         "date_precision": "year", "check_method": "recount", "evidence": "count products modality=CAR-T"},
        # the same number dated earlier -> differs, with the period in which it held
        {"claim_id": "C002", "source_id": "doc", "stated_value": 2, "unit": "count", "measure": "approved products", "claim_date": "2022-12-31",
         "date_precision": "year", "check_method": "recount", "evidence": "count products modality=CAR-T"},
        # undated claim from a dated source: counted on the source's publication date
        {"claim_id": "C003", "source_id": "dated", "stated_value": 3, "unit": "count", "measure": "approved indications", "check_method": "recount",
         "evidence": "count indications modality=CAR-T"},
        # undated claim, undated source: the document is no earlier than what its dated claim C001
        # refers to (2024), and then the count was 2, at both ends: it held once, but not then
        {"claim_id": "C004", "source_id": "doc", "stated_value": 1, "unit": "count", "measure": "approved products", "check_method": "recount",
         "evidence": "count products modality=CAR-T, origin=imported|domestic"},
    ])
    found = audit.audit(tables(claims, products=PRODUCTS, approvals=APPROVALS))
    assert status(found, "C001")["status"] == "confirmed"
    assert status(found, "C001")["holds_for"] == "2024-12-31 (stated (year))"
    assert "held 2023-03-01 to 2026-01-01" in status(found, "C001")["evidence"]
    assert status(found, "C002")["status"] == "differs" and status(found, "C002")["difference"].startswith("1 fewer")
    assert status(found, "C003")["status"] == "confirmed"
    assert status(found, "C003")["holds_for"] == "2024-06-01 (its publication date)"
    c004 = status(found, "C004")
    assert c004["status"] == "differs"  # the old rule called it reproduced: the count held in 2021-2023
    assert "2 on 2024-01-01 and 2 on 2026-01-01" in c004["evidence"]
    assert "held 2021-06-22 to 2023-02-28" in c004["evidence"]


def test_counts_by_status_and_source_cover_every_status():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 1, "check_method": "not_checkable", "needed": "x"},
        {"claim_id": "C002", "source_id": "other", "stated_value": 1, "check_method": "not_checkable", "needed": "x"}])
    found = audit.audit(tables(claims))
    assert audit.counts(found).iloc[0].to_dict() == {**{s: 0 for s in audit.STATUSES}, "not_checkable": 2}
    table = report.by_source(found, {"doc": "Document"})
    assert list(table["document"]) == ["Document", "other", "all documents"]
    assert list(table["total"]) == [1, 1, 2]


# ----------------------------------------------------------------------------- dependence
def finding(fid: str, value: float, source: str) -> dict:
    return {"finding_id": fid, "value": value, "source_id": source, "unit": "percent", "qualifier": "exact"}


def test_dependence_follows_derives_from_transitively():
    claims = claims_frame([
        # 'news' and 'brief' both derive from 'origin': agreement is consistency with a dependent source
        {"claim_id": "C001", "source_id": "news", "stated_value": 40, "check_method": "compare", "evidence": "row findings:F1"},
        # 'copy' derives from 'news', which derives from 'origin': still dependent on 'origin'
        {"claim_id": "C002", "source_id": "copy", "stated_value": 40, "check_method": "compare", "evidence": "row findings:F2"},
        # a dependent source that disagrees does not contradict: the claim differs
        {"claim_id": "C003", "source_id": "news", "stated_value": 50, "check_method": "compare", "evidence": "row findings:F1"},
        # an independent source that disagrees contradicts
        {"claim_id": "C004", "source_id": "news", "stated_value": 50, "check_method": "compare", "evidence": "row findings:F3"},
        # an independent agreement outweighs a dependent one
        {"claim_id": "C005", "source_id": "news", "stated_value": 40, "check_method": "compare",
         "evidence": "row findings:F1; row findings:F3"},
    ])
    found = audit.audit(tables(claims, findings=[finding("F1", 40, "brief"), finding("F2", 40, "origin"),
                                                 finding("F3", 40, "other")]))
    assert status(found, "C001")["status"] == "consistent_dependent"
    assert "[dependent source]" in status(found, "C001")["evidence"]
    assert status(found, "C002")["status"] == "consistent_dependent"
    assert status(found, "C003")["status"] == "differs" and "a dependent source" in status(found, "C003")["why"]
    assert status(found, "C004")["status"] == "contradicted"
    assert status(found, "C005")["status"] == "confirmed"
    assert audit.tie("copy", "brief", {"copy": ("news",), "news": ("origin",), "brief": ("origin",)}) == "dependent"
    assert audit.tie("doc", "other", {"copy": ("news",)}) == "independent"
    assert audit.tie("doc", "doc", {}) == "same"


def test_a_calculation_is_as_independent_as_its_least_independent_cell():
    claims = claims_frame([{"claim_id": "C001", "source_id": "doc", "stated_value": 80, "check_method": "recompute",
                            "evidence": "calc {findings:F1.value} + {findings:F2.value}"}])
    found = audit.audit(tables(claims, findings=[finding("F1", 40, "doc"), finding("F2", 40, "other")]))
    assert status(found, "C001")["status"] == "internal_only"


# ----------------------------------------------------------------------------- propagation
def test_a_claim_checked_through_a_claim_takes_the_weaker_status():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 64, "check_method": "compare", "evidence": "claim C002"},
        {"claim_id": "C002", "source_id": "doc", "stated_value": 64, "check_method": "compare", "evidence": "claim C003"},
        {"claim_id": "C003", "source_id": "doc", "stated_value": 64, "check_method": "compare", "evidence": "row findings:F1"},
        # agreeing with a claim that is itself only checked by its own document stays internal
        {"claim_id": "C004", "source_id": "other", "stated_value": 64, "check_method": "compare", "evidence": "claim C005"},
        {"claim_id": "C005", "source_id": "doc", "stated_value": 64, "check_method": "compare", "evidence": "claim C006"},
        {"claim_id": "C006", "source_id": "doc", "stated_value": 64, "check_method": "compare", "evidence": "claim C005"},
        # a claim that cannot be checked weakens nothing
        {"claim_id": "C007", "source_id": "doc", "stated_value": 64, "check_method": "compare", "evidence": "claim C008"},
        {"claim_id": "C008", "source_id": "doc", "stated_value": 64, "check_method": "not_checkable", "needed": "x"},
    ])
    found = audit.audit(tables(claims, findings=[finding("F1", 78.8, "other")]))
    assert status(found, "C003")["status"] == "contradicted"
    for claim_id, through in (("C001", "C002"), ("C002", "C003")):  # a chain: both inherit the contradiction
        row = status(found, claim_id)
        assert row["status"] == "contradicted" and row["inherited_from"] == through
        assert f"takes the status of claim {through}" in row["why"]
    assert status(found, "C004")["status"] == "internal_only"  # another document agreeing, but only internally checked
    assert status(found, "C005")["status"] == "internal_only" and status(found, "C006")["status"] == "internal_only"
    assert status(found, "C007")["status"] == "internal_only"
    assert audit.weaker("confirmed", "differs") == "differs" and audit.weaker("not_checkable", "confirmed") == "confirmed"


# ----------------------------------------------------------------------------- definitions
def test_evidence_that_measures_something_else_neither_confirms_nor_contradicts():
    claims = claims_frame([
        # efficacy rows are read by their own endpoint and disease: a month-3 rate is not the ORR
        {"claim_id": "C001", "source_id": "doc", "stated_value": 85, "measure": "ORR", "population": "B-ALL",
         "check_method": "compare", "evidence": "context row efficacy:R1"},
        # an entry in evidence_rows says what a row measures, also for efficacy rows
        {"claim_id": "C002", "source_id": "doc", "stated_value": 82, "measure": "ORR", "population": "B-ALL",
         "check_method": "compare", "evidence": "row efficacy:R2; context row efficacy:R1"},
        # a calc may say it measures something else (a worked example against a maximum)
        {"claim_id": "C003", "source_id": "doc", "stated_value": 50, "qualifier": "up_to", "check_method": "recompute",
         "evidence": "context calc 100 * {findings:F1.value} / {findings:F2.value} as share in one example @ trial X"},
        # another population: a disagreeing row does not contradict
        {"claim_id": "C004", "source_id": "doc", "stated_value": 10, "population": "all trials", "check_method": "compare",
         "evidence": "context row findings:F3"},
    ])
    efficacy = [{"result_id": "R1", "endpoint": "ORR_M3", "disease": "B-ALL", "value": 70.8, "qualifier": "exact",
                 "unit": "percent", "source_id": "other"},
                {"result_id": "R2", "endpoint": "ORR_M3", "disease": "B-ALL", "value": 82.1, "qualifier": "exact",
                 "unit": "percent", "source_id": "other"}]
    rows = [{"resource": "efficacy", "row_key": "R2", "measure": "ORR", "population": "B-ALL"},
            {"resource": "findings", "row_key": "F3", "measure": "share", "population": "trial X"}]
    found = audit.audit(tables(claims, findings=[finding("F1", 5, "doc"), finding("F2", 12, "doc"),
                                                 finding("F3", 40, "other")], efficacy=efficacy, evidence_rows=rows))
    c001 = status(found, "C001")
    assert c001["status"] == "not_checkable"
    assert c001["why"].startswith("every check measures something else") and "ORR_M3 (B-ALL)" in c001["why"]
    assert "so it does not count" in c001["evidence"] and c001["difference"] == ""
    assert status(found, "C002")["status"] == "confirmed"  # R2 matches; R1 (70.8 %) does not count
    assert status(found, "C003")["status"] == "not_checkable"
    assert status(found, "C004")["status"] == "not_checkable"
    assert list(report.not_comparable(found)["claim_id"]) == ["C001", "C003", "C004"]


def test_validation_names_claim_and_item_for_a_definition_mismatch():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 85, "measure": "ORR", "population": "B-ALL",
         "check_method": "compare", "evidence": "row efficacy:R1"},
        {"claim_id": "C002", "source_id": "doc", "stated_value": 85, "measure": "ORR_M3", "population": "B-ALL",
         "check_method": "compare", "evidence": "context row efficacy:R1"},
        {"claim_id": "C003", "source_id": "doc", "stated_value": 85, "check_method": "compare", "evidence": "row findings:F1"},
        {"claim_id": "C004", "source_id": "doc", "stated_value": 85, "measure": None, "check_method": "compare",
         "evidence": "row efficacy:R1"},
    ])
    efficacy = pd.DataFrame([{"result_id": "R1", "endpoint": "ORR_M3", "disease": "B-ALL", "value": 70.8, "value_low": None,
                              "value_high": None, "qualifier": "exact", "unit": "percent", "source_id": "other"}])
    findings = pd.DataFrame([{"finding_id": "F1", "value": 3.0, "unit": "percent", "qualifier": "exact", "source_id": "o",
                              "value_low": None, "value_high": None}])
    frames = {"claims": claims, "findings": findings, "efficacy": efficacy, "sources": SOURCES,
              "evidence_rows": pd.DataFrame(columns=["resource", "row_key", "measure", "population", "inferred_from_claim"])}
    found = [(p.row, p.column, p.rule, p.message) for p in audit.evidence_problems(claims, frames, KEYS)]
    assert (2, "evidence", "claim-definition",
            "claim C001 measures ORR (B-ALL), but item 'row efficacy:R1' measures ORR_M3 (B-ALL); such evidence can "
            "neither confirm nor contradict the claim: start the item with 'context' to show it beside the claim, or "
            "choose evidence that measures the same") in found
    assert (3, "evidence", "claim-definition", "claim C002: item 'context row efficacy:R1' is marked context but "
            "measures what the claim measures (ORR_M3 (B-ALL)); drop 'context' so that it counts") in found
    assert (4, "evidence", "claim-definition", "claim C003: what 'row findings:F1' measures is not recorded; add a row "
            "of data/evidence_rows.csv with resource findings and row_key F1") in found
    assert any(p[:3] == (5, "measure", "claim-definition") and "does not say what it measures" in p[3] for p in found)


def test_as_and_context_parse():
    [item] = audit.parse_evidence("context count products modality=gene therapy as approved products @ gene therapy, all years")
    assert item.context and item.kind == "count" and item.filters == (("modality", ("gene therapy",)),)
    assert item.definition == audit.Definition("approved products", "gene therapy, all years")
    with pytest.raises(audit.EvidenceError, match="only a calc or count item"):
        audit.parse_evidence("row findings:F1 as share @ trial X")
    with pytest.raises(audit.EvidenceError, match="MEASURE @ POPULATION"):
        audit.parse_evidence("calc {findings:F1.value} as share")


# ----------------------------------------------------------------------------- dating
def test_an_undated_count_is_checked_at_both_ends_of_its_documents_dates():
    claims = claims_frame([
        # published 'in 2025': the count is 1 on 1 January and 2 on 31 December
        {"claim_id": "C001", "source_id": "annual", "stated_value": 1, "unit": "count", "measure": "approved products",
         "check_method": "recount", "evidence": "count products modality=CAR-T"},
        {"claim_id": "C002", "source_id": "annual", "stated_value": 2, "unit": "count", "measure": "approved products",
         "check_method": "recount", "evidence": "count products modality=CAR-T"},
        {"claim_id": "C003", "source_id": "annual", "stated_value": 3, "unit": "count", "measure": "approved products",
         "check_method": "recount", "evidence": "count products modality=CAR-T"},
    ])
    products = [{"product_id": "a", "modality": "CAR-T", "source_id": "other"},
                {"product_id": "b", "modality": "CAR-T", "source_id": "other"}]
    approvals = [{"approval_id": "A1", "product_id": "a", "approval_date": "2024-03-01", "approval_type": "full", "source_id": "other"},
                 {"approval_id": "A2", "product_id": "b", "approval_date": "2025-06-01", "approval_type": "full", "source_id": "other"}]
    found = audit.audit(tables(claims, products=products, approvals=approvals))
    for claim_id in ("C001", "C002"):
        row = status(found, claim_id)
        assert row["status"] == "date_dependent" and row["status_label"] == "differs (date-dependent)"
        assert "1 on 2025-01-01 and 2 on 2025-12-31" in row["evidence"]
        assert row["holds_for"] == "2025-01-01 to 2025-12-31 (published in 2025)"
        assert bool(row["date_dependent"]) is True
    assert status(found, "C003")["status"] == "differs"  # false at both ends
    assert audit.period(pd.Timestamp("2025-06-30"), "quarter") == (pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30"))


# ----------------------------------------------------------------------------- circularity
def test_a_row_inferred_from_a_claim_is_never_its_evidence():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 9, "unit": "count", "measure": "approved indications",
         "claim_date": "2025-06-30", "date_precision": "quarter", "check_method": "recount",
         "evidence": "count indications modality=CAR-T"},
        {"claim_id": "C002", "source_id": "doc", "stated_value": 2025, "unit": "year", "measure": "year of event",
         "check_method": "compare", "evidence": "row approvals:A2.approval_date"},
    ])
    products = [{"product_id": "a", "modality": "CAR-T", "source_id": "other"}]
    approvals = [{"approval_id": "A1", "product_id": "a", "approval_date": "2024-03-01", "approval_type": "full", "source_id": "other"},
                 {"approval_id": "A2", "product_id": "a", "approval_date": "2025-06-30", "approval_type": "full", "source_id": "other"}]
    rows = [{"resource": "approvals", "row_key": "A2", "measure": "year of event", "population": "trial X",
             "inferred_from_claim": "C001; C002"}]
    built = tables(claims, products=products, approvals=approvals, evidence_rows=rows)
    found = audit.audit(built)
    c001 = status(found, "C001")  # the recount leaves A2 out (its date came from this claim): 1, not 2
    assert "approved by 2025-06-30: 1" in c001["evidence"] and "A2 left out, its date inferred from this claim" in c001["evidence"]
    problems = audit.evidence_problems(claims, built.frames, KEYS)
    circular = [(p.row, p.rule, p.message) for p in problems if p.rule == "claim-circular"]
    assert circular == [(3, "claim-circular", "approvals:A2 was inferred from claim C002 (data/evidence_rows.csv, "
                         "inferred_from_claim), so it cannot be evidence for claim C002; remove the item or check the "
                         "claim another way")]


# ----------------------------------------------------------------------------- materiality
def test_materiality_tiers_are_required_exactly_on_flagged_claims():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 64, "check_method": "compare", "evidence": "row findings:F1",
         "materiality": "conclusion"},
        {"claim_id": "C002", "source_id": "doc", "stated_value": 61, "check_method": "compare", "evidence": "row findings:F1"},
        {"claim_id": "C003", "source_id": "doc", "stated_value": 78.8, "check_method": "compare", "evidence": "row findings:F1",
         "materiality": "wording"},
        {"claim_id": "C004", "source_id": "doc", "stated_value": 80, "check_method": "compare", "evidence": "row findings:F1",
         "materiality": "wording"},
        {"claim_id": "C005", "source_id": "doc", "stated_value": 1, "check_method": "not_checkable", "needed": "x",
         "materiality": "wording"},
    ])
    found = audit.audit(tables(claims, findings=[finding("F1", 78.8, "other")]))
    problems = [(p.row, p.column, p.rule, p.message) for p in audit.materiality_problems(found, claims)]
    assert problems[0][:3] == (3, "materiality", "claimMateriality") and "claim C002 is contradicted" in problems[0][3]
    assert problems[1][:3] == (4, "materiality", "claimMateriality") and "claim C003 is confirmed independently" in problems[1][3]
    assert problems[2][:3] == (6, "materiality", "claimMateriality") and "claim C005 is not checkable" in problems[2][3]
    assert len(problems) == 3
    ledger = audit.evidence_problems(claims, {"claims": claims, "findings": pd.DataFrame(columns=["finding_id"])}, KEYS)
    assert [(p.row, p.rule) for p in ledger if p.column == "materiality"] == [(6, "claim-materiality")]
    # the flagged claims, the errors that matter first; the box lists tiers one and two, counts the rest
    assert list(report.flagged(found)["claim_id"]) == ["C001", "C004", "C002"]
    box = report.errors_box(found, {"doc": "The document"})
    assert box.startswith("```{admonition} The errors that matter") and "Changes a conclusion" in box
    assert "q, stated as 64 \\%" in box and box.count("stated as") == 1  # C001; C004 is wording, C002 has no tier
    assert "1 further flagged claim differs only in rounding or wording" in box


# ----------------------------------------------------------------------------- validation of evidence cells
def test_every_unreadable_evidence_cell_is_a_problem_naming_row_and_rule():
    claims = claims_frame([
        {"claim_id": "C001", "source_id": "doc", "stated_value": 1, "check_method": "compare", "evidence": "row findings:F404"},
        {"claim_id": "C002", "source_id": "doc", "stated_value": 1, "check_method": "compare", "evidence": "row findings:F1"},
        {"claim_id": "C003", "source_id": "doc", "stated_value": 1, "check_method": "not_checkable"},
        {"claim_id": "C004", "source_id": "doc", "stated_value": 1, "check_method": "compare", "evidence": "claim C004"},
        {"claim_id": "C005", "source_id": "doc", "stated_value": 1, "check_method": "recompute",
         "evidence": "calc {findings:F1.numerator} / 2"},
        {"claim_id": "C006", "source_id": "doc", "stated_value": 1, "unit": "count", "check_method": "recount",
         "evidence": "count products colour=red"},
        {"claim_id": "C007", "source_id": "doc", "stated_value": 1, "check_method": "recount", "evidence": ""},
        {"claim_id": "C008", "source_id": "doc", "stated_value": 1, "check_method": "compare", "evidence": "row nowhere:X1"},
    ])
    findings = pd.DataFrame([{"finding_id": "F1", "value": 3.0, "unit": "count", "qualifier": "exact", "source_id": "o",
                              "numerator": None, "value_low": None, "value_high": None, "denominator": None}])
    frames = {"claims": claims, "findings": findings, "products": pd.DataFrame(columns=["product_id", "modality"]),
              "approvals": pd.DataFrame(columns=["approval_id", "product_id"]), "sources": pd.DataFrame(columns=["source_id"])}
    problems = audit.evidence_problems(claims, frames, KEYS)
    found = [(p.row, p.column, p.rule, p.message) for p in problems]
    assert found == [
        (2, "evidence", "claim-evidence", "no row 'F404' in findings (key: finding_id)"),
        (3, "evidence", "claim-evidence", "findings:F1 is in count, this claim in percent; compare like with like"),
        (4, "needed", "claim-needed", "say what data would be needed to check this claim (check_method is not_checkable)"),
        (5, "evidence", "claim-evidence", "a claim cannot be its own evidence"),
        (6, "evidence", "claim-evidence", "findings:F1.numerator is empty; a calc needs a number there"),
        (7, "evidence", "claim-evidence", "count filter 'colour' is not a column of products.csv or approvals.csv"),
        (8, "evidence", "claim-evidence",
         "check_method recount needs evidence items (row, claim, calc or count), or use not_checkable"),
        (9, "evidence", "claim-evidence",
         "'nowhere' is not a resource the audit reads (" + ", ".join(audit.RESOURCES_NEEDED) + ")"),
    ]
    assert all(p.file == "data/claims.csv" for p in problems)


def test_review_validate_reports_a_broken_evidence_cell(tmp_path):
    project = copy_project(tmp_path / "project")
    path = project / "data/claims.csv"
    number, _ = first_row(path, lambda r: r["evidence"].startswith("row efficacy:"))
    edit_csv(path, set_cell(number, "evidence", "row efficacy:R999"))
    result = run_review(project, "validate")
    assert result.returncode == 1
    assert (f"data/claims.csv row {number}, column evidence: no row 'R999' in efficacy (key: result_id) "
            "[claim-evidence]") in result.stderr


def test_review_validate_reports_definition_mismatch_and_missing_tier(tmp_path):
    project = copy_project(tmp_path / "project")
    path = project / "data/claims.csv"
    # the upfront payment shown beside the headline deal value: without 'context' it would count
    number, row = first_row(path, lambda r: r["evidence"] == "context row market_figures:MF22")
    edit_csv(path, set_cell(number, "evidence", "row market_figures:MF22"))
    # a contradicted claim without its tier
    tiered, tiered_row = first_row(path, lambda r: r["claim_id"] == "C004")
    edit_csv(path, set_cell(tiered, "materiality", ""))
    result = run_review(project, "validate")
    assert result.returncode == 1
    assert (f"data/claims.csv row {number}, column evidence: claim {row['claim_id']} measures {row['measure']} "
            f"({row['population']}), but item 'row market_figures:MF22' measures deal value, upfront cash") in result.stderr
    assert "[claim-definition]" in result.stderr
    # the tier is checked once the package is otherwise valid
    edit_csv(path, set_cell(number, "evidence", "context row market_figures:MF22"))
    result = run_review(project, "validate")
    assert result.returncode == 1
    assert (f"data/claims.csv row {tiered}, column materiality: claim C004 is contradicted by an independent source; "
            "give it a tier") in result.stderr and "[claimMateriality]" in result.stderr


# ----------------------------------------------------------------------------- the real ledger
@pytest.fixture(scope="module")
def real_verdicts() -> tuple[pd.DataFrame, pd.DataFrame]:
    package = DataPackage(REPO / "data")
    edition = dt.date.fromisoformat("2026-11-23")
    keys = {n: package.resource(n).descriptor["schema"]["primaryKey"] for n in audit.RESOURCES_NEEDED}
    verdicts = audit.audit(audit.load_tables(lambda n: package.load(n, as_of=edition), package.load, keys, edition,
                                               REPO / "data"))
    return verdicts, package.load("claims", as_of=edition)


def test_every_real_claim_gets_a_status_with_its_evidence(real_verdicts):
    verdicts, claims = real_verdicts
    assert sorted(verdicts["claim_id"]) == sorted(claims["claim_id"])
    assert set(verdicts["status"]) <= set(audit.STATUSES)
    checked = verdicts[verdicts["status"] != "not_checkable"]
    assert (checked["evidence"] != "").all()
    unchecked = verdicts[verdicts["status"] == "not_checkable"]
    by_ledger = unchecked["check_method"] == "not checkable"
    assert (unchecked.loc[by_ledger, "needed"] != "").all()
    # the others say why: every check measures something else
    assert unchecked.loc[~by_ledger, "why"].str.startswith("every check measures something else").all()
    assert (verdicts["why"] != "").all()
    flagged = verdicts[verdicts["status"].isin(audit.FLAGGED)]
    assert ((flagged["difference"] != "") | (flagged["inherited_from"] != "")).all()
    assert (flagged["materiality"] != "").all()  # every flagged claim has a tier (rule claimMateriality)
    contradicted = verdicts[verdicts["status"] == "contradicted"]
    assert contradicted["evidence_source_id"].notna().all()
    assert all(set(other.split("; ")) - {src}   # another source is named beside the claim's own
               for src, other in zip(contradicted["source_id"], contradicted["evidence_source_id"]))


def test_real_ledger_statuses_follow_the_data(real_verdicts, tmp_path):
    """Changing the evidence row changes the status: the status is computed, not stored."""
    verdicts, _ = real_verdicts
    c004 = status(verdicts, "C004")
    assert c004["status"] == "contradicted"  # FUMANBA-1: stated 89.6 %, public report 96 %
    project = copy_project(tmp_path / "project")
    path = project / "data/efficacy.csv"
    number, _ = first_row(path, lambda r: r["result_id"] == "R14")
    edit_csv(path, set_cell(number, "value", "89.6"))
    package = DataPackage(project / "data")
    keys = {n: package.resource(n).descriptor["schema"]["primaryKey"] for n in audit.RESOURCES_NEEDED}
    edition = dt.date(2026, 11, 23)
    again = audit.audit(audit.load_tables(lambda n: package.load(n, as_of=edition), package.load, keys, edition))
    assert status(again, "C004")["status"] == "confirmed"


def test_an_early_edition_audits_only_claims_known_then(real_verdicts):
    package = DataPackage(REPO / "data")
    keys = {n: package.resource(n).descriptor["schema"]["primaryKey"] for n in audit.RESOURCES_NEEDED}
    edition = dt.date(2024, 12, 31)
    early = audit.audit(audit.load_tables(lambda n: package.load(n, as_of=edition), package.load, keys, edition))
    assert 0 < len(early) < len(real_verdicts[0])
    assert set(early["status"]) <= set(audit.STATUSES)


# ----------------------------------------------------------------------------- in the built book
def test_audit_chapter_in_the_site_and_the_pdf(built):
    import re
    import subprocess

    from test_book_build import default_as_of, page_text

    package = DataPackage(built / "data")
    edition = dt.date.fromisoformat(default_as_of(built))
    keys = {n: package.resource(n).descriptor["schema"]["primaryKey"] for n in audit.RESOURCES_NEEDED}
    verdicts = audit.audit(audit.load_tables(lambda n: package.load(n, as_of=edition), package.load, keys, edition,
                                             built / "data"))
    n = audit.counts(verdicts).iloc[0]
    sentence = (f"the ledger holds {len(verdicts)} claims from {verdicts['source_id'].nunique()} documents. Of these, "
                f"{n['confirmed']} are confirmed by an independent source, {n['consistent_dependent']} agree only with a "
                f"source that shares their origin, and {n['internal_only']} agree only with the same document's own "
                f"figures or arithmetic. {n['differs']} differ from what the data give, {n['date_dependent']} differ "
                f"depending on the date the document is read at, {n['contradicted']} are contradicted by an independent "
                f"source, and {n['not_checkable']} cannot be checked")
    text = page_text(built, "book/audit.html")
    assert sentence in text
    notes = text[text.index("Claims that differ or are contradicted #"):text.index("Evidence that measures something else #")]
    assert sorted(set(re.findall(r"\bC\d{3}[a-z]?(?=, (?:differs|contradicted))", notes))) == sorted(report.flagged(verdicts)["claim_id"])
    assert "The errors that matter" in text
    raw = (built / "_build/html/book/audit.html").read_text(encoding="utf-8")
    ledger = raw[raw.index('id="tbl-audit-claims"'):].split("</table>")[0]
    assert ledger.count("<tr") == len(verdicts) + 1
    pdf = subprocess.run(["pdftotext", str(built / "_build/pdf/cart-china-review.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", re.sub(r"(\w)-\n(\w)", r"\1\2", pdf))  # undo LaTeX's hyphenation at line ends
    assert "Audit: do the sources" in flat and sentence in flat


# ----------------------------------------------------------------------------- interactive figure
def test_status_chart_segments_add_up_to_each_documents_claims():
    verdicts = pd.DataFrame({"source_id": ["doc", "doc", "doc", "other", "other"],
                             "status": ["confirmed", "differs", "differs", "not_checkable", "contradicted"]})
    table = report.by_source(verdicts, {"doc": "The document"})
    chart = report.status_chart(table)
    rows = chart.spec["data"]["values"]
    per_doc = {}
    for r in rows:
        per_doc[r["document"]] = per_doc.get(r["document"], 0) + r["claims"]
        assert r["claims"] > 0
    assert per_doc == {"The document": 3, "other": 2}  # no "all documents" row
    differs = [r for r in rows if r["status_label"] == audit.STATUS_LABELS["differs"]]
    assert [(d["document"], d["claims"], d["source_id"]) for d in differs] == [("The document", 2, "doc")]
    scale = chart.spec["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"]))[audit.STATUS_LABELS["contradicted"]] == \
        report.STATUS_COLOURS["contradicted"]
    assert chart.summary == "Claims of 2 documents, split by status: most in The document (3), fewest in other (2)."
    fields = [t["field"] for t in chart.spec["encoding"]["tooltip"]]
    assert "source_id" in fields and "status" not in fields
