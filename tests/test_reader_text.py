"""Reader text of the built book: no build vocabulary, every abbreviation in the glossary, one
verdict per claim, a key-findings box opening the chapters that have one, figures that say what
question they answer.

The checks read the *built* site, so they cover every chapter listed in ``_toc.yml`` (the review
part; the appendices describe the build and may name it). They run on the whole book built once
per session (the ``built`` fixture); ``REVIEW_TEST_SITE=/path/to/project`` points them at a project
that is already built (a small book, while drafting). The scanners themselves are unit-tested on
small inputs first, so a test here can fail for the right reason.

What counts as build vocabulary (:data:`JARGON`): words that name the machinery rather than the
subject (seed document, glued, notebook, papermill, kernel, data frame, None/NaN), the data
package's file and column names (``data/…``, ``….csv``, ``source_id``, ``as_of``) and row ids of the
data package (``R14``, ``RB05``, ``MF11``, ``E17``, ``C065``: a capital prefix of the package's key
columns followed by two or three digits). Tables are not scanned: their id columns are the keys into
the CSV downloads.

What counts as an abbreviation (:func:`abbreviations`): a token (letters and digits, joined by
hyphens or dots) one of whose hyphen-separated parts holds two capital Latin letters in a row
(``NMPA``, ``CAR-T``, ``CD19``, ``INDs``, ``aGVHD``, ``FUMANBA-1``); so names in camel case
(``AstraZeneca``, ``Clopper-Pearson``) are not, nor are Roman numerals (``II``). A token is
defined when the glossary lists it, or each such part, or the part's stem: the part without a
trailing number (with a letter after it) or plural ``s`` (``CD19`` -> ``CD``, ``IL-12`` -> ``IL``,
``CT103A`` -> ``CT``, ``INDs`` -> ``IND``).
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO

# --------------------------------------------------------------------------- what is scanned
JARGON = [
    (re.compile(r"\bseeds?\b", re.I), "'seed' (say which document: the review, a news piece)"),
    (re.compile(r"\bglu(e|ed|es|ing)\b", re.I), "'glue' (a build step)"),
    (re.compile(r"\bnotebooks?\b", re.I), "'notebook' (a build file)"),
    (re.compile(r"\bpapermill\b", re.I), "'papermill'"),
    (re.compile(r"\bkernels?\b", re.I), "'kernel'"),
    (re.compile(r"\bdata ?frames?\b", re.I), "'data frame'"),
    (re.compile(r"\b(NaN|nan|NaT)\b"), "a missing value of the code"),
    (re.compile(r"\bdata/\w"), "a file path in data/"),
    (re.compile(r"\w\.(csv|json|py)\b"), "a file name"),
    (re.compile(r"\b\w+_id\b|\bas_of\b"), "a column or parameter name"),
    (re.compile(r"\brow ids?\b|\bevent ids?\b", re.I), "'row id'"),
    (re.compile(r"\bpara \d"), "a document locator ('para 1')"),
    (ROW_ID := re.compile(r"(?<![\w-])(?:RB|MF|HB|REC|NR|[ACEFGIPR])\d{2,3}[a-d]?(?![\w-])"), "a row id of the data package"),
]
# The audit chapter is a ledger: its evidence names the rows and the places in each document
# (``para 3``) it checks against. Until its rewrite words the evidence for readers, only those two
# patterns are allowed there; every other build word is not.
LEDGER_PAGES = {"book/audit.html"}
LEDGER_ALLOWED = {"a row id of the data package", "a document locator ('para 1')"}
ROMAN = re.compile(r"^[IVX]+$")
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")


def jargon(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """Each build word in ``text`` (but those of the kinds ``allowed``), with its context and
    what it is."""
    found = []
    for pattern, what in JARGON:
        if what in allowed:
            continue
        for match in pattern.finditer(text):
            context = text[max(0, match.start() - 50):match.end() + 50]
            found.append(f"{what}: …{context}…")
    return found


def _capitals(token: str) -> int:
    return sum(1 for c in token if "A" <= c <= "Z")


def _stem(token: str) -> str:
    stem = re.sub(r"(?<=[A-Z])s$", "", token)
    return re.sub(r"\d[\d.]*[A-Za-z]?$", "", stem).rstrip("-.")


def _abbreviated(part: str) -> bool:
    return bool(re.search(r"[A-Z]{2}", part)) and not ROMAN.match(part)


def abbreviations(text: str) -> set[str]:
    """Tokens of ``text`` with a part holding two capitals in a row (not Roman numerals; not row
    ids, which the build-vocabulary test reports)."""
    return {t for t in TOKEN.findall(text) if any(_abbreviated(p) for p in t.split("-")) and not ROW_ID.fullmatch(t)}


def undefined(tokens: set[str], defined: set[str]) -> set[str]:
    """The tokens the glossary does not define, whole, or part by part (by stem)."""
    def known(part: str) -> bool:
        return part in defined or _stem(part) in defined

    return {t for t in tokens if not known(t) and not all(known(p) for p in t.split("-") if _abbreviated(p))}


def glossary_terms(markdown: str) -> set[str]:
    """The terms of the glossary: the first cell of each row of its table (a table, not Sphinx's
    ``{glossary}`` directive, whose index entries the PDF would need makeindex for)."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(rows) > 2, "book/glossary.md has no table of abbreviations"
    terms = {row.split("|")[1].strip() for row in rows[2:]}  # after the header and its rule
    assert all(terms), "a glossary row has an empty term"
    return terms


def prose(page_html: str) -> str:
    """The reader's text of a built page: the main column without tables, code blocks, the
    page's toolbar and navigation, the download links and citation brackets (inline code stays:
    a file name in the prose is shown to readers)."""
    main = page_html[page_html.index("<main"):page_html.index("</main>")] if "<main" in page_html else page_html
    for pattern in (r"<table.*?</table>", r"<pre.*?</pre>", r"<nav.*?</nav>",
                    r'<div class="header-article.*?</div>\s*</div>\s*</div>', r"<script.*?</script>",
                    r'<a class="reference download[^"]*".*?</a>'):
        main = re.sub(pattern, " ", main, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", main))
    text = re.sub(r"\[\s*[\d,\s]+\]", " ", text)
    return re.sub(r"\s+", " ", text)


# --------------------------------------------------------------------------- the scanners
def test_jargon_scanner_flags_build_words_and_row_ids_only():
    assert jargon("Of the products approved in China, the review counts six (Table 3.1).") == []
    assert jargon("CD19 and BCMA; CT041, CT103A and BBM-H901; E1B-deleted H101; ZUMA-1") == []
    for text in ("as the seed states", "glued from the data", "the notebook computes", "row R14 says",
                 "rows RB05 and MF11", "claim C065", "event E17", "see data/prices.csv", "its source_id",
                 "para 1 (same text)", "value NaN"):
        assert jargon(text), text


def test_abbreviation_scanner_uses_stems_and_parts():
    tokens = abbreviations("The NMPA approved CAR-T for r/r B-ALL after two INDs; CD19-directed cells, IL-12, "
                           "phase II, Yescarta by AstraZeneca, Clopper-Pearson, aGVHD, CT103A.")
    assert tokens == {"NMPA", "CAR-T", "B-ALL", "INDs", "CD19-directed", "IL-12", "aGVHD", "CT103A"}
    defined = {"NMPA", "CAR-T", "ALL", "IND", "CD", "IL", "aGVHD", "CT"}
    assert undefined(tokens, defined) == set()
    assert undefined({"NHSA", "CD19", "PD-L1"}, defined) == {"NHSA", "PD-L1"}


def test_glossary_terms_are_the_first_column_of_its_table():
    page = "# Glossary\n\n| Abbreviation | Meaning |\n| --- | --- |\n| CAR-T | T cells with a CAR |\n| IL | Interleukin |\n"
    assert glossary_terms(page) == {"CAR-T", "IL"}


def test_prose_leaves_out_tables_code_and_citation_numbers():
    page = ('<main><p>The NMPA said [ 12 , 13 ].</p><table><tr><td>R14</td></tr></table>'
            '<pre>data/x.csv</pre><p>See <code>data/y.csv</code>.</p></main>')
    text = prose(page)
    assert "NMPA" in text and "R14" not in text and "12" not in text and "data/x" not in text
    assert jargon(text) and "data/y.csv" in text
    assert jargon("claim C065 (para 3)", allowed=LEDGER_ALLOWED) == []


# --------------------------------------------------------------------------- the built book
def review_pages(root: Path) -> list[str]:
    """The chapters of the review part, as built HTML paths: every file of ``_toc.yml`` except
    the appendices of the real book (the build and its data are their subject)."""
    appendices = set()
    for part in yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))["parts"]:
        if part.get("caption") == "Appendices":
            appendices.update(entry["file"] for entry in part["chapters"])
    files = []
    for part in yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))["parts"]:
        files += [entry["file"] for entry in part["chapters"] if entry["file"] not in appendices]
    return [f"{name}.html" for name in files]


@pytest.fixture(scope="module")
def site(request) -> Path:
    given = os.environ.get("REVIEW_TEST_SITE")
    if given:
        return Path(given)
    return request.getfixturevalue("built")


@pytest.mark.slow
def test_no_build_vocabulary_in_the_chapters(site):
    problems = []
    for page in review_pages(site):
        text = prose((site / "_build" / "html" / page).read_text(encoding="utf-8"))
        problems += [f"{page}: {p}" for p in jargon(text, LEDGER_ALLOWED if page in LEDGER_PAGES else set())]
    assert not problems, "build vocabulary shown to readers (reword the prose):\n" + "\n".join(problems)


@pytest.mark.slow
def test_every_abbreviation_in_the_chapters_is_in_the_glossary(site):
    glossary = site / "book" / "glossary.md"
    assert glossary.is_file(), "book/glossary.md is missing"
    assert (site / "_build" / "html" / "book" / "glossary.html").is_file(), "the glossary page was not built"
    defined = glossary_terms(glossary.read_text(encoding="utf-8"))
    problems = []
    for page in review_pages(site):
        text = prose((site / "_build" / "html" / page).read_text(encoding="utf-8"))
        for token in sorted(undefined(abbreviations(text), defined)):
            where = text.find(token)
            problems.append(f"{page}: {token!r} (…{text[max(0, where - 40):where + 40]}…)")
    assert not problems, "abbreviations not defined in book/glossary.md (add an entry):\n" + "\n".join(problems)


def _glued(notebook: Path) -> dict[str, str]:
    values = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = output.get("data", {})
                raw = data.get("application/papermill.record/text/plain", data.get("text/plain", ""))
                values[name] = raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] and raw[0] in "'\"" else raw
    return values


@pytest.mark.slow
def test_every_chapter_shows_the_audits_verdict_for_the_claims_it_discusses(site):
    """One place decides: a chapter's verdict on a claim (glued ``verdict_<claim id>``) is the
    audit's status for that claim in the same edition, and each verdict glued is shown."""
    import datetime as dt

    from review_utils.chapters.shared import audit
    from review_utils.data.package import DataPackage

    edition = dt.date.fromisoformat(str(yaml.safe_load((site / "params.yml").read_text())["as_of"]["default"]))
    package = DataPackage(site / "data")
    keys = {name: package.resource(name).descriptor["schema"]["primaryKey"] for name in audit.RESOURCES_NEEDED}
    verdicts = audit.audit(audit.load_tables(lambda n: package.load(n, as_of=edition), package.load, keys, edition))
    labels = dict(zip(verdicts["claim_id"], verdicts["status_label"]))
    problems, shown = [], 0
    for page in review_pages(site):
        notebook = site / "_build" / "html" / "_sources" / page.replace(".html", ".ipynb")
        if not notebook.is_file():
            continue
        source = json.loads(notebook.read_text(encoding="utf-8"))
        markdown = "".join("".join(c["source"]) for c in source["cells"] if c["cell_type"] == "markdown")
        for name, value in _glued(notebook).items():
            match = re.fullmatch(r"verdict_(C\w+)", name)
            if not match:
                continue
            shown += 1
            claim = match.group(1)
            if value != labels.get(claim):
                problems.append(f"{page}: claim {claim} shown as {value!r}, the audit says {labels.get(claim)!r}")
            if f"`{name}`" not in markdown:
                problems.append(f"{page}: the verdict on claim {claim} is computed but not shown in the text")
    assert shown, "no chapter shows an audit verdict"
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_every_figure_caption_states_its_question(site):
    problems = []
    for page in review_pages(site):
        raw = (site / "_build" / "html" / page).read_text(encoding="utf-8")
        for caption in re.findall(r'<figcaption>(.*?)</figcaption>', raw, re.S):
            text = html.unescape(re.sub(r"<[^>]+>", " ", caption))
            if "?" not in text:
                problems.append(f"{page}: {' '.join(text.split())[:120]}")
    assert not problems, "figure captions that ask no question (say what the figure answers):\n" + "\n".join(problems)


# Every chapter of the review opens with a key-findings box, except those named here: the
# introduction (itself the summary of findings) and chapters being rewritten on other branches,
# which should be taken off this list once they have their box.
KEY_FINDINGS_PENDING = {"book/intro", "book/efficacy", "book/audit"}


@pytest.mark.slow
def test_chapters_open_with_key_findings_whose_numbers_come_from_data(site):
    problems = []
    for page in review_pages(site):
        if page.removesuffix(".html") in KEY_FINDINGS_PENDING:
            continue
        raw = (site / "_build" / "html" / page).read_text(encoding="utf-8")
        main = raw[raw.index("<main"):]
        box = re.search(r'<div class="[^"]*\badmonition\b[^"]*">\s*<p class="admonition-title">Key findings</p>(.*?)</div>',
                        main, re.S)
        if not box:
            problems.append(f"{page}: no key findings box")
            continue
        inner_sections = [m.start() for m in re.finditer(r'<section\b[^>]*\bid="', main)][1:]
        if inner_sections and box.start() > inner_sections[0]:
            problems.append(f"{page}: the key findings box does not open the chapter")
        if not re.search(r"\d", box.group(1)):
            problems.append(f"{page}: the key findings box states no number")
    assert not problems, "\n".join(problems)


def test_source_words_flag_a_row_resting_on_one_low_tier_source():
    import pandas as pd

    from review_utils.data.support import support_of

    sources = pd.DataFrame({"source_id": ["blog", "paper", "wire"], "tier": ["secondary", "peer_reviewed", "news"]})
    rows = pd.DataFrame({"source_id": ["blog", "blog", "paper", "wire", "gone"],
                         "corroborating_source_id": [None, "paper", "", "blog", None]})
    assert support_of(rows, sources).tolist() == ["single secondary source", "secondary, corroborated", "peer-reviewed",
                                                  "news, corroborated", "tier not recorded"]
    lone_news = pd.DataFrame({"source_id": ["wire"], "corroborating_source_id": [None]})
    assert support_of(lone_news, sources).tolist() == ["single news source"]
