"""The built site in a real browser: Debian's Chromium driven by Playwright, served on localhost.

On every page: no console errors, no failed requests (so nothing needs the network), every
figure drawn with a size, the glued numbers present, and no <script> the theme did not put
there. Also: search finds a product, and the PDF link serves the PDF. Finally, links resolve.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# The only inline scripts the theme writes (anchored: anything else on a page fails the test).
THEME_INLINE_SCRIPTS = [
    r"^document\.documentElement\.dataset\.mode = localStorage\.getItem\(\"mode\"\) \|\| \"\w*\";",
    r"^DOCUMENTATION_OPTIONS\.pagename = '[\w/-]+';$",
    r"^DOCUMENTATION_OPTIONS\.search_as_you_type = (true|false);$",
    r"^// Activate the search field on page load",
]


@pytest.fixture(scope="module")
def site(built):
    handler = functools.partial(QuietHandler, directory=str(built / "_build/html"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", built
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `bash run.sh test` installs the Debian package 'chromium'")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def site_pages(root: Path) -> list[str]:
    html = root / "_build/html"
    return ["index.html", "search.html"] + sorted(p.relative_to(html).as_posix() for p in (html / "book").glob("*.html"))


def glued_values(root: Path) -> dict[str, list[str]]:
    """Glued texts per page, from the executed notebooks (what the pages must show)."""
    import ast
    import json

    values: dict[str, list[str]] = {}
    for notebook in (root / "_build/.review/cache").glob("*/*.ipynb"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        texts = []
        for cell in cells:
            for output in cell.get("outputs", []):
                if output.get("metadata", {}).get("scrapbook"):
                    raw = next(v for k, v in output["data"].items() if k.endswith("text/plain"))
                    texts.append(str(ast.literal_eval(raw)))
        values[f"book/{notebook.stem}.html"] = texts
    return values


def test_every_page_loads_cleanly_with_figures_glue_and_theme_scripts_only(site, browser, built):
    base, root = site
    glued = glued_values(root)
    pages_with_glue = set(glued) | {"book/intro.html", "book/methods.html", "index.html"}
    problems = []
    for page_name in site_pages(root):
        page = browser.new_page()
        errors, failed = [], []
        # the location names the resource behind "Failed to load resource" (a request the browser
        # makes itself, such as /favicon.ico, raises no request event on the page)
        page.on("console", lambda m, errors=errors: errors.append(f"{m.text} ({m.location.get('url', '')})")
                if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.on("requestfailed", lambda r, failed=failed: failed.append(r.url))
        page.on("response", lambda r, failed=failed: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        requested = []
        page.on("request", lambda r, requested=requested: requested.append(r.url))
        page.goto(f"{base}/{page_name}", wait_until="networkidle")
        # the chart scripts load only where a chart is; icons come from the web font, never the
        # theme's 1.5 MB icon script
        has_chart = 'class="review-chart"' in (root / "_build/html" / page_name).read_text(encoding="utf-8")
        if has_chart != any("/vendor-review/vega" in u for u in requested):
            problems.append(f"{page_name}: chart scripts {'missing' if has_chart else 'loaded without a chart'}")
        if any(u.split("?")[0].endswith("fontawesome.js") for u in requested):
            problems.append(f"{page_name}: loads the Font Awesome script")
        if errors or failed:
            problems.append(f"{page_name}: console errors {errors}, failed requests {failed}")
        # an interactive chart replaces its figure's image once drawn (the image stays for print
        # and readers without JavaScript): then the chart must be drawn, with a width, instead
        page.wait_for_function("() => [...document.querySelectorAll('div.review-chart')].every(d => d.dataset.state)",
                               timeout=30000)
        charts = page.eval_on_selector_all("div.review-chart", "ds => ds.map(d => [d.dataset.figure, d.dataset.state])")
        problems += [f"{page_name}: chart of {label} is {state}" for label, state in charts if state != "drawn"]
        sizes = page.eval_on_selector_all(
            "figure img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth, i.getBoundingClientRect().width,"
                          " i.closest('figure.review-chart-drawn') ? (i.closest('figure').querySelector("
                          "'div.review-chart-view svg') || {getBoundingClientRect: () => ({width: 0})})"
                          ".getBoundingClientRect().width : null])")
        problems += [f"{page_name}: figure {src} is not drawn" for src, natural, width, chart in sizes
                     if not (natural > 0 and (width > 0 if chart is None else chart > 0))]
        text = page.inner_text("main") if page.query_selector("main") else page.inner_text("body")
        if page_name in pages_with_glue:
            shown = page.eval_on_selector_all("span.pasted-text", "spans => spans.map(s => s.textContent)")
            if not shown:
                problems.append(f"{page_name}: no glued value on the page")
            expected = [v for v in glued.get(page_name, []) if len(v) > 1]
            if expected and not any(v in text for v in expected):
                problems.append(f"{page_name}: none of its notebook's glued values is shown")
        for src, body, spec in page.eval_on_selector_all(
                "script", "ss => ss.map(s => [s.getAttribute('src'), s.textContent,"
                          " s.type === 'application/json' && !!s.closest('div.review-chart')])"):
            if spec:  # a chart's Vega-Lite specification: data, never run
                continue
            if src:
                if not re.match(r"^(\.\./)*(_static/|searchindex\.js)", src):
                    problems.append(f"{page_name}: script from {src}")
            elif not any(re.search(pattern, body.strip()) for pattern in THEME_INLINE_SCRIPTS):
                problems.append(f"{page_name}: unexpected inline script {body[:80]!r}")
        page.close()
    assert problems == []


def test_search_finds_a_product(site, browser):
    base, _ = site
    page = browser.new_page()
    page.goto(f"{base}/search.html?q=Carteyva", wait_until="networkidle")
    page.wait_for_selector("#search-results li", timeout=15000)
    hits = page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.getAttribute('href'))")
    assert any("approvals" in href for href in hits)
    page.close()


def test_pdf_link_serves_the_pdf(site, browser):
    base, _ = site
    page = browser.new_page()
    page.goto(f"{base}/book/index.html", wait_until="networkidle")
    href = page.get_attribute("a[href$='.pdf']", "href")
    response = page.request.get(f"{base}/book/{href}")
    assert response.status == 200 and response.body()[:5] == b"%PDF-"
    page.close()


def test_internal_links_resolve(built):
    from review_utils.engine.linkcheck import check_site

    report = check_site(built / "_build/html")
    assert report.broken == []
    assert any("doi.org" in url for url in report.external)  # listed, not fetched


def test_the_site_root_serves_what_browsers_request_on_their_own(site):
    """A browser asks for /favicon.ico by itself (no request event on the page, only a console
    error on a 404); the site answers it, so no page can fail at random on that request."""
    import urllib.request

    base, _ = site
    with urllib.request.urlopen(f"{base}/favicon.ico", timeout=10) as response:
        assert response.status == 200
        assert response.read(4) == b"\x00\x00\x01\x00"  # an ICO file


# --- tables that fit, and long tables readers can sort and filter -------------------------------

TABLES_READY = """() => [...document.querySelectorAll('div.pst-scrollable-table-container')]
    .every(box => box.parentElement.classList.contains('review-table-frame'))
  && [...document.querySelectorAll('table.review-sortable')].every(t => t.classList.contains('review-sortable-ready'))"""

# per table: is its caption cut, and does its box overflow without showing the cue?
TABLE_FIT = """() => [...document.querySelectorAll('main table')].filter(t => t.checkVisibility()).map(t => {
  const caption = t.querySelector(':scope > caption');
  const box = t.closest('div.pst-scrollable-table-container') || t.parentElement;
  const fit = box.closest('.review-table-fit');
  const b = box.getBoundingClientRect();
  const c = caption ? caption.getBoundingClientRect() : null;
  const hint = fit && fit.querySelector('.review-table-hint');
  const shadow = fit && getComputedStyle(fit.querySelector('.review-table-frame'), '::after');
  return {
    id: t.id || '(no id)',
    caption: caption ? caption.textContent.slice(0, 40) : null,
    captionCut: caption ? (caption.scrollWidth > caption.clientWidth + 1 || c.right > Math.min(innerWidth, b.right) + 1
                           || c.left < b.left - 1) : false,
    overflows: box.scrollWidth > box.clientWidth + 1,
    cue: !!(fit && fit.classList.contains('review-table-overflows') && hint && hint.offsetHeight > 0
            && hint.getBoundingClientRect().right <= innerWidth + 1
            && shadow.content !== 'none' && parseFloat(shadow.width) > 0),
  };
})"""


@pytest.mark.parametrize("width", [1400, 390])
def test_no_table_caption_is_cut_and_every_wide_table_shows_it_scrolls(site, browser, width):
    base, root = site
    problems, overflowing = [], 0
    page = browser.new_page(viewport={"width": width, "height": 900})
    for page_name in site_pages(root):
        page.goto(f"{base}/{page_name}", wait_until="networkidle")
        if not page.query_selector("main table"):
            continue
        page.wait_for_function(TABLES_READY, timeout=20000)
        wide = page.eval_on_selector_all(".review-table-controls *", "els => els.filter(e => e.checkVisibility()"
                                         " && e.getBoundingClientRect().right > innerWidth + 1).map(e => e.tagName)")
        if wide:
            problems.append(f"{page_name} at {width} px: table filters wider than the page ({wide})")
        for table in page.evaluate(TABLE_FIT):
            where = f"{page_name} at {width} px, table {table['id']} ({table['caption']!r})"
            if table["captionCut"]:
                problems.append(f"{where}: caption cut off")
            if table["overflows"]:
                overflowing += 1
                if not table["cue"]:
                    problems.append(f"{where}: wider than its box but shows no scroll cue")
    page.close()
    assert problems == []
    assert overflowing > 0  # the book has wide tables at both widths: the cue was checked on some


def _ledger(page, base):
    page.goto(f"{base}/book/audit.html", wait_until="networkidle")
    page.wait_for_selector("table#tbl-audit-claims.review-sortable-ready", timeout=20000)
    headers = page.eval_on_selector_all("#tbl-audit-claims thead th", "ths => ths.map(th => th.textContent.trim())")
    return headers


COLUMN_TEXTS = """([id, column]) => [...document.querySelectorAll('#' + id + ' tbody > tr')]
    .filter(tr => tr.children.length > column).map(tr => tr.children[column].textContent.trim())"""


def test_the_ledger_filters_by_status_and_document_and_clearing_brings_every_row_back(site, browser):
    base, root = site
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    headers = _ledger(page, base)
    status, document = headers.index("Status"), headers.index("Document")
    # what the page shows before any filter: every row of the built page
    import html as html_lib
    built_html = (root / "_build/html/book/audit.html").read_text(encoding="utf-8")
    ledger_html = built_html[built_html.index('id="tbl-audit-claims"'):]
    ledger_html = ledger_html[:ledger_html.index("</table>")]
    built_rows = len(re.findall(r"<tr[ >]", ledger_html.split("<tbody>")[1]))
    statuses = page.evaluate(COLUMN_TEXTS, ["tbl-audit-claims", status])
    documents = page.evaluate(COLUMN_TEXTS, ["tbl-audit-claims", document])
    assert len(statuses) == built_rows > 15
    contradicted = sorted({s for s in statuses if s.startswith("contradicted")})
    assert len(contradicted) == 1, f"one contradicted status expected in the ledger, found {contradicted}"
    chosen = contradicted[0]
    assert html_lib.escape(chosen) in ledger_html

    select = page.locator("select.review-table-filter[aria-controls='tbl-audit-claims']")
    labels = page.eval_on_selector_all("select.review-table-filter[aria-controls='tbl-audit-claims']",
                                       "ss => ss.map(s => document.querySelector(`label[for='${s.id}']`).textContent.trim())")
    assert labels == ["Document", "Status"]
    status_select, document_select = select.nth(1), select.nth(0)
    status_select.select_option(value=chosen)
    page.wait_for_function("""([column, value]) => {
        const rows = [...document.querySelectorAll('#tbl-audit-claims tbody > tr')];
        return rows.length > 0 && rows.every(tr => tr.children.length > column && tr.children[column].textContent.trim() === value);
      }""", arg=[status, chosen], timeout=10000)
    shown = page.evaluate(COLUMN_TEXTS, ["tbl-audit-claims", status])
    assert shown == [chosen] * statuses.count(chosen) and len(shown) >= 1

    # combined with the document filter: rows with both
    first_document = documents[statuses.index(chosen)]
    both = sum(1 for s, d in zip(statuses, documents) if s == chosen and d == first_document)
    document_select.select_option(value=first_document)
    page.wait_for_function("""([id, n]) => document.querySelectorAll('#' + id + ' tbody > tr').length === n""",
                           arg=["tbl-audit-claims", both], timeout=10000)
    assert set(page.evaluate(COLUMN_TEXTS, ["tbl-audit-claims", document])) == {first_document}

    # cleared, every row is back; the caption, id, link target and header cells survive
    document_select.select_option(value="")
    status_select.select_option(value="")
    page.wait_for_function("""([id, n]) => document.querySelectorAll('#' + id + ' tbody > tr[data-review-row]').length === n""",
                           arg=["tbl-audit-claims", built_rows], timeout=10000)
    assert sorted(page.evaluate(COLUMN_TEXTS, ["tbl-audit-claims", status])) == sorted(statuses)
    table = page.evaluate("""() => { const t = document.getElementById('tbl-audit-claims');
        return {tag: t.tagName, caption: t.querySelector(':scope > caption').textContent,
                headers: t.querySelectorAll(':scope > thead > tr > th').length,
                link: !!t.querySelector("caption a.headerlink[href='#tbl-audit-claims']")}; }""")
    assert table["tag"] == "TABLE" and re.match(r"Table 14\.\d+ The claims ledger", table["caption"])
    assert table["headers"] == len(headers) and table["link"]
    page.close()


def test_clicking_a_header_sorts_the_rows_and_a_reference_still_lands_on_the_table(site, browser):
    base, _ = site
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    headers = _ledger(page, base)
    claim = headers.index("Claim")
    original = page.evaluate(COLUMN_TEXTS, ["tbl-audit-claims", claim])
    header = page.locator("#tbl-audit-claims thead th").nth(claim)
    for direction, expected in (("ascending", sorted(original)), ("descending", sorted(original, reverse=True))):
        header.locator("button").click()
        page.wait_for_function("""([column, dir]) => document.querySelectorAll('#tbl-audit-claims thead th')[column]
            .getAttribute('aria-sort') === dir""", arg=[claim, direction], timeout=10000)
        assert page.evaluate(COLUMN_TEXTS, ["tbl-audit-claims", claim]) == expected
    assert expected != original  # the order really changed
    # the text's numbered reference ("Table 14.n") still lands on the enhanced table, also from another page
    reference = page.locator("main p a[href='#tbl-audit-claims']").first
    assert re.fullmatch(r"Table 14\.\d+", reference.inner_text().strip())
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    reference.click()
    page.wait_for_function("() => location.hash === '#tbl-audit-claims'", timeout=10000)
    page.wait_for_function("() => { const top = document.getElementById('tbl-audit-claims').getBoundingClientRect().top;"
                           " return top >= 0 && top < innerHeight / 2; }", timeout=10000)
    page.goto(f"{base}/book/audit.html#tbl-audit-claims", wait_until="networkidle")
    page.wait_for_selector("table#tbl-audit-claims.review-sortable-ready", timeout=20000)
    page.wait_for_function("() => { const top = document.getElementById('tbl-audit-claims').getBoundingClientRect().top;"
                           " return top >= 0 && top < innerHeight / 2; }", timeout=10000)
    page.close()


def test_a_column_of_numbers_sorts_by_number_not_as_text(site, browser):
    base, _ = site
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base}/book/data_appendix.html", wait_until="networkidle")
    page.wait_for_selector("table#tbl-data-provenance.review-sortable-ready", timeout=20000)
    headers = page.eval_on_selector_all("#tbl-data-provenance thead th", "ths => ths.map(th => th.textContent.trim())")
    rows = headers.index("Rows")
    original = [int(v) for v in page.evaluate(COLUMN_TEXTS, ["tbl-data-provenance", rows])]
    assert len(set(original)) > 2 and max(original) >= 10 > min(original)  # text order would differ
    page.locator("#tbl-data-provenance thead th").nth(rows).locator("button").click()
    page.wait_for_function("""c => document.querySelectorAll('#tbl-data-provenance thead th')[c]
        .getAttribute('aria-sort') === 'ascending'""", arg=rows, timeout=10000)
    assert [int(v) for v in page.evaluate(COLUMN_TEXTS, ["tbl-data-provenance", rows])] == sorted(original)
    page.close()
