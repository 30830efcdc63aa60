"""The site as readers use it, in Debian's Chromium: interactive charts, their text alternatives,
what each page loads, and accessibility measured with axe-core on every page in both themes.

axe-core comes from the npm registry (web/package-lock.json, installed by run.sh) and is injected
from that file: the page never asks another host for anything.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from review_utils.core.paths import web_modules
from test_browser import browser, site, site_pages  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.slow

AXE = web_modules() / "axe-core" / "axe.min.js"
# Table rows after the third repeat the styles of the first three (the theme stripes odd and
# even rows; cell styles are per column), so colour contrast is checked on three rows per table
# and on every other element: the check takes a third of the time on the long tables. Every
# other rule sees every element.
CONTRAST_SAMPLE_EXCLUDE = [["table tbody tr:nth-child(n+4)"], [".citation-list > *:nth-child(n+6)"]]
# Started without waiting (the promise is kept on the page), so that several pages are checked at
# once: each page's checks run in its own renderer process, one per core.
# Started without waiting (the promise is kept on the page), so that several pages are checked at
# once: each page's checks run in its own renderer process, one per core. On one page, axe runs
# one check at a time: every rule but colour contrast on the whole page, then colour contrast on
# the sample. The dark theme changes colours only, so there only colour contrast is checked again.
AXE_START = """([exclude, contrastOnly]) => {
    const options = {resultTypes: ['violations']};
    const serious = (results) => results.violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.length} element(s), first ${v.nodes[0].target.join(' ')}`);
    const contrast = () => axe.run({include: [document], exclude: exclude}, {...options, runOnly: ['color-contrast']});
    window.reviewAxe = contrastOnly
        ? contrast().then(serious)
        : axe.run(document, {...options, rules: {'color-contrast': {enabled: false}}})
            .then(all => contrast().then(c => [...serious(all), ...serious(c)]));
}"""
AXE_AT_ONCE = 3  # pages checked at the same time


def open_page(browser, base: str, name: str, *, theme: str = "light", width: int = 1400):
    context = browser.new_context(viewport={"width": width, "height": 900})
    # the theme's own switch stores the reader's choice under "mode" (pydata-sphinx-theme)
    context.add_init_script(f"localStorage.setItem('mode', '{theme}');")
    page = context.new_page()
    page.goto(f"{base}/{name}", wait_until="networkidle")
    return context, page


def wait_for_charts(page) -> None:
    page.wait_for_function("() => Array.from(document.querySelectorAll('div.review-chart')).every(d => d.dataset.state)")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation_on_any_page(site, browser, theme):
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `bash run.sh setup` installs web/package-lock.json")
    base, root = site
    problems = []
    names = site_pages(root)
    for start in range(0, len(names), AXE_AT_ONCE):
        batch = []
        for name in names[start:start + AXE_AT_ONCE]:
            context, page = open_page(browser, base, name, theme=theme)
            assert page.evaluate("document.documentElement.dataset.theme") == theme, f"{name}: theme {theme} not applied"
            wait_for_charts(page)
            page.add_script_tag(path=str(AXE))
            page.evaluate(AXE_START, [CONTRAST_SAMPLE_EXCLUDE, theme == "dark"])
            batch.append((name, context, page))
        for name, context, page in batch:
            problems += [f"{name}: {v}" for v in page.evaluate("window.reviewAxe")]
            context.close()
    assert problems == []


def figure_download(root, label: str) -> list[dict[str, str]]:
    path = next((root / "_build/html/_downloads").rglob(f"{label}.csv"))
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def tooltip(page) -> dict[str, str]:
    page.wait_for_selector("#vg-tooltip-element.visible")
    cells = page.eval_on_selector_all("#vg-tooltip-element tr", "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])")
    return dict(cells)


def test_hovering_a_forest_plot_marker_shows_its_result_trial_n_and_source(site, browser):
    base, root = site
    label = "fig-efficacy-forest-lymphoma"
    context, page = open_page(browser, base, "book/efficacy.html")
    page.wait_for_selector(f"#{label}.review-chart-drawn")
    rows = {row["result_id"]: row for row in figure_download(root, label)}
    markers = page.query_selector_all(f"#{label} .review-chart-view svg g.mark-symbol.role-mark path")
    assert len(markers) == len(rows)  # one marker per row of the figure's download
    checked = 0
    for marker in markers[:: max(1, len(markers) // 4)]:
        marker.hover()
        shown = tooltip(page)
        row = rows[shown["Result"]]  # the tooltip names a row of the download ...
        assert shown["Trial"] == row["trial"]  # ... and shows that row's trial, n and rate
        if row["n"]:
            assert shown["n"] == str(int(float(row["n"])))
        assert float(shown["Patients with the outcome (%)"]) == pytest.approx(float(row["value"]))
        assert shown["Source"] and shown["Source"] != row["source_id"]  # a citation, not the data's key
        page.mouse.move(0, 0)  # away: the tooltip hides before the next marker is hovered
        page.wait_for_selector("#vg-tooltip-element:not(.visible)", state="attached")
        checked += 1
    assert checked >= 3
    context.close()


def test_clicking_a_legend_entry_keeps_only_its_markers_in_full_colour(site, browser):
    base, _ = site
    label = "fig-efficacy-forest-lymphoma"
    context, page = open_page(browser, base, "book/efficacy.html")
    page.wait_for_selector(f"#{label}.review-chart-drawn")
    opacity = (f"() => Array.from(document.querySelectorAll('#{label} .review-chart-view svg g.mark-symbol.role-mark path'))"
               ".map(p => [p.getAttribute('fill'), p.getAttribute('opacity') || '1'])")
    before = page.evaluate(opacity)
    assert {o for _, o in before} == {"1"}
    names = [t.text_content() for t in page.query_selector_all(f"#{label} svg g.role-legend-label text")]
    page.query_selector_all(f"#{label} svg g.role-legend-symbol path")[names.index("Global benchmark")].click()
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('#{label} .review-chart-view svg g.mark-symbol.role-mark path')).some(p => p.getAttribute('opacity') === '0.15')")
    after = page.evaluate(opacity)
    faded = {fill for fill, o in after if o == "0.15"}
    kept = {fill for fill, o in after if o == "1"}
    assert faded and kept and not faded & kept  # one colour (China) faded, the other kept
    context.close()


def test_every_chart_is_drawn_with_a_text_alternative_and_its_data_as_a_table(site, browser):
    base, root = site
    problems, charts = [], 0
    for name in site_pages(root):
        html = (root / "_build/html" / name).read_text(encoding="utf-8")
        if 'class="review-chart"' not in html:
            continue
        context, page = open_page(browser, base, name, width=390)
        wait_for_charts(page)
        for holder in page.query_selector_all("div.review-chart"):
            charts += 1
            figure = holder.get_attribute("data-figure")
            if holder.get_attribute("data-state") != "drawn":
                problems.append(f"{name} {figure}: not drawn")
                continue
            alt = page.get_attribute(f"#{figure} img", "alt")
            label = holder.eval_on_selector("svg", "s => s.getAttribute('aria-label')")
            if not alt or label != alt:
                problems.append(f"{name} {figure}: the chart's accessible name differs from the image's alt text")
            if not re.search(r"\d", alt or ""):
                problems.append(f"{name} {figure}: alt text has no figure from the data: {alt!r}")
            holder.eval_on_selector("details.review-chart-data", "d => d.open = true")
            n_rows = holder.eval_on_selector("details.review-chart-data table", "t => t.tBodies[0].rows.length")
            headers = holder.eval_on_selector_all("details.review-chart-data th[scope=col]", "ths => ths.length")
            if n_rows == 0 or headers == 0:
                problems.append(f"{name} {figure}: empty data table ({n_rows} rows, {headers} headers)")
            width = holder.eval_on_selector("svg", "s => s.getBoundingClientRect().right")
            if width > 390 + 1:
                problems.append(f"{name} {figure}: the chart is wider than a 390 px screen ({width:.0f} px)")
        context.close()
    assert charts >= 3
    assert problems == []


def test_without_javascript_every_figure_shows_its_static_image(site, browser):
    base, _ = site
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/book/efficacy.html", wait_until="load")
    images = page.eval_on_selector_all(
        "figure img", "imgs => imgs.map(i => [i.getAttribute('alt'), i.getBoundingClientRect().width, i.naturalWidth])")
    assert len(images) >= 2
    assert all(alt and width > 0 and natural > 0 for alt, width, natural in images)
    assert page.query_selector_all("div.review-chart svg") == []  # nothing drawn, nothing hidden
    context.close()
