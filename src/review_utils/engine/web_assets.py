"""Sphinx extension: the site's own scripts and styles, and the npm files it serves.

Everything a page loads comes from the site itself (no CDN): the npm packages pinned in
``web/package-lock.json`` (installed by ``run.sh``) are copied into ``_static/vendor-review/``,
only the files listed in :data:`VENDOR_FILES`. A page gets the chart scripts only when it holds
an interactive chart, the table script (scroll cue of wide tables) only when it holds a table, and
simple-datatables only when it holds a sortable table, so other pages stay light (the benchmark
measures each page's weight). The table styles (review-tables.css) are on every page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from review_utils.core.paths import web_modules
from review_utils.engine.site import SITE_ASSETS as ASSETS
from review_utils.engine.site import STAGED_SITE_ASSETS


# site path (below _static/vendor-review/) -> file in web/node_modules
VENDOR_FILES = {
    "vega.min.js": "vega/build/vega.min.js",
    "vega-lite.min.js": "vega-lite/build/vega-lite.min.js",
    "vega-embed.min.js": "vega-embed/build/vega-embed.min.js",
    "simple-datatables.js": "simple-datatables/dist/umd/simple-datatables.js",
    "css/fontawesome.min.css": "@fortawesome/fontawesome-free/css/fontawesome.min.css",
    "css/solid.min.css": "@fortawesome/fontawesome-free/css/solid.min.css",
    "css/regular.min.css": "@fortawesome/fontawesome-free/css/regular.min.css",
    "webfonts/fa-solid-900.woff2": "@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2",
    "webfonts/fa-regular-400.woff2": "@fortawesome/fontawesome-free/webfonts/fa-regular-400.woff2",
}
# ... and their licences, published beside them
VENDOR_LICENCES = {
    "LICENSE-vega.txt": "vega/LICENSE",
    "LICENSE-vega-lite.txt": "vega-lite/LICENSE",
    "LICENSE-vega-embed.txt": "vega-embed/LICENSE",
    "LICENSE-simple-datatables.txt": "simple-datatables/LICENSE",
    "LICENSE-fontawesome.txt": "@fortawesome/fontawesome-free/LICENSE.txt",
}

# a marker the page body holds -> scripts it needs, in load order (all deferred: order kept)
CHART_MARKER = 'class="review-chart"'
CHART_SCRIPTS = ["vendor-review/vega.min.js", "vendor-review/vega-lite.min.js",
                 "vendor-review/vega-embed.min.js", "review-charts.js"]
SORTABLE_MARKER = "review-sortable"
SORTABLE_SCRIPTS = ["vendor-review/simple-datatables.js"]
TABLE_MARKER = "<table"  # every table: its scroll cue (and, after the above, sorting and filters)
TABLE_SCRIPTS = ["review-tables.js"]


def vendor_sources() -> dict[str, Path]:
    """Every file to publish, checked to exist (a clear error names the missing file)."""
    modules = web_modules()
    wanted = {name: modules / rel for name, rel in {**VENDOR_FILES, **VENDOR_LICENCES}.items()}
    missing = [str(path) for path in wanted.values() if not path.is_file()]
    if missing:
        raise ExtensionError(
            f"the site's JavaScript packages are missing ({missing[0]}"
            f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''}): run `bash run.sh setup`, "
            "which installs web/package-lock.json with npm ci (or set REVIEW_WEB_MODULES to a node_modules folder)")
    return wanted


def _on_config(app: Sphinx, config) -> None:
    # relative to the book when the build staged them there (review build), so that the
    # configuration (and Sphinx's .buildinfo) does not depend on where the code is installed
    staged = Path(app.confdir) / STAGED_SITE_ASSETS
    base = STAGED_SITE_ASSETS if staged.is_dir() else str(ASSETS)
    config.templates_path = [f"{base}/templates", *config.templates_path]
    config.html_static_path = [*config.html_static_path, f"{base}/static"]


def _on_builder(app: Sphinx) -> None:
    if app.builder.format == "html":
        app.env.review_vendor = vendor_sources()  # fail before reading a page, not after writing all
        app.add_css_file("review.css")
        app.add_css_file("review-tables.css")


def _on_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    body = context.get("body", "")
    # docutils marks bibliography entries with DPUB-ARIA's doc-biblioentry, which ARIA 1.1
    # deprecated: inside role="list" assistive technology (and axe-core) then finds no list items
    if 'role="doc-biblioentry"' in body:
        context["body"] = body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    # add_js_file inside html-page-context adds the file to this page only
    for marker, scripts in ((CHART_MARKER, CHART_SCRIPTS), (SORTABLE_MARKER, SORTABLE_SCRIPTS),
                            (TABLE_MARKER, TABLE_SCRIPTS)):
        if marker in body:
            for script in scripts:
                app.add_js_file(script, loading_method="defer")


def _on_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "vendor-review"
    for name, source in sorted(vendor_sources().items()):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _on_config)
    app.connect("builder-inited", _on_builder)
    app.connect("html-page-context", _on_page)
    app.connect("build-finished", _on_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
