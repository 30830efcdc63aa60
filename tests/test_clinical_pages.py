"""The built efficacy and safety pages (and the introduction, in the whole-book build) show no
percentage range pooled over several results: every 'a–b %' on them is the range or interval of
one row of the data (a stated range, a source's confidence interval, or an exact interval from
one row's count). The allowed ranges are computed here from the CSVs with the csv module and
scipy, independently of review_utils."""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pytest
from conftest import REPO
from scipy.stats import beta

RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*–\s*(\d+(?:\.\d+)?)\s*%")


def rows(root: Path, name: str) -> list[dict[str, str]]:
    with open(root / "data" / f"{name}.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def exact(k: int, n: int) -> tuple[float, float]:
    low = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    high = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return 100 * low, 100 * high


def single_row_ranges(root: Path) -> list[tuple[float, float]]:
    """Every range one row of the data can show: stated low-high, a source's interval, and the
    exact interval from that row's count (stated, or value x n when that is a whole number)."""
    allowed = []
    for path in sorted((root / "data").glob("*.csv")):
        for row in rows(root, path.stem):
            for low, high in (("value_low", "value_high"), ("ci_low", "ci_high")):
                if row.get(low) and row.get(high):
                    allowed.append((float(row[low]), float(row[high])))
    for name, count, total in (("efficacy", "responders", "n"), ("safety", "events", "n"),
                               ("findings", "numerator", "denominator")):
        for row in rows(root, name):
            if not row.get(total) or float(row[total]) <= 0:
                continue
            n = int(float(row[total]))
            counts = {int(float(row[count]))} if row.get(count) else set()
            if row.get("value") and row.get("unit") == "percent":
                counts.add(round(float(row["value"]) * n / 100))
            allowed += [exact(k, n) for k in counts if 0 <= k <= n]
    return allowed


def page_text(root: Path, page: str) -> str:
    raw = (root / "_build" / "html" / page).read_text(encoding="utf-8")
    main = raw[raw.index("<main"):raw.index("</main>")]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


def pooled_ranges(text: str, allowed: list[tuple[float, float]]) -> list[str]:
    found = []
    for match in RANGE.finditer(text):
        low, high = float(match.group(1)), float(match.group(2))
        if not any(abs(low - a) <= 0.051 and abs(high - b) <= 0.051 for a, b in allowed):
            found.append(text[max(0, match.start() - 80):match.end() + 20])
    return found


def test_the_checker_flags_a_range_over_two_rows():
    allowed = [(55.9, 83.0), (64.9, 80.9)]
    assert pooled_ranges("ORR 70.8–100 % across products", allowed)
    assert not pooled_ranges("exact 55.9–83.0 % and 64.9–80.9 %", allowed)


def test_the_introduction_quotes_no_pooled_efficacy_headline():
    intro = (REPO / "book" / "intro.md").read_text(encoding="utf-8")
    assert not re.search(r"efficacy\.ipynb::eff_(n_)?orr_", intro)


@pytest.fixture(scope="module")
def clinical_book(built) -> Path:
    """The efficacy and safety pages as the whole book (the session's build) publishes them."""
    return built


@pytest.mark.slow
@pytest.mark.parametrize("page", ["book/efficacy.html", "book/safety.html"])
def test_clinical_pages_show_no_pooled_range(clinical_book, page):
    text = page_text(clinical_book, page)
    assert RANGE.search(text), "the page should show intervals at all"
    assert pooled_ranges(text, single_row_ranges(clinical_book)) == []


@pytest.mark.slow
def test_clinical_pages_carry_key_findings_and_marks(clinical_book):
    efficacy = page_text(clinical_book, "book/efficacy.html")
    safety = page_text(clinical_book, "book/safety.html")
    for text in (efficacy, safety):
        assert "Key findings" in text
    # every disease of the data has its own efficacy table, and randomised trials theirs
    diseases = {r["disease"] for r in rows(clinical_book, "efficacy")}
    assert efficacy.count("efficacy results of CAR-T trials in China and global benchmark trials") >= len(diseases) - 1
    assert "Randomised CAR-T trials: hazard ratios" in efficacy and "conference abstract" in efficacy
    n_unverified = sum("not verified" in r["note"].lower() for r in rows(clinical_book, "safety"))
    assert n_unverified == 0 or "not verified against the paper" in safety


@pytest.mark.slow
def test_whole_book_intro_efficacy_and_safety_show_no_pooled_range(built):
    allowed = single_row_ranges(built)
    for page in ("book/intro.html", "book/efficacy.html", "book/safety.html"):
        assert pooled_ranges(page_text(built, page), allowed) == [], page
