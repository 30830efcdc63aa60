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
        page.goto(f"{base}/{page_name}", wait_until="networkidle")
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
