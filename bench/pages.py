"""Page weight and paint time of the built site, against the budgets.

    .venv/bin/python bench/pages.py                  # the site in _build/html (build it first)
    .venv/bin/python bench/pages.py --site DIR --repeat 5 --out bench/results/pages.json

Serves the site on localhost as a static host would (Tornado's static file handler with gzip for
text types; fonts, images already compressed are sent as they are), opens every page in headless
Chromium (Debian's, driven by Playwright) with an empty cache, and records per page:

  transferred   bytes on the wire: each response's headers and (compressed) body, HTML and
                everything the page loads (scripts, styles, fonts, images), as Chromium counts them
  decoded       the same resources' bytes after decompression (what the browser holds)
  requests      how many resources the page loaded
  fcp_ms        time to first contentful paint (the Paint Timing API), median over ``--repeat`` loads

A page is a *chart page* when it holds an interactive chart. Budgets (transferred): chart pages
1.5 MB, other pages 600 kB. It measures and reports; it asserts nothing (the exit code is 0 even
over budget, so that a slow machine never fails a build). Results: bench/results/pages.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUDGET_CHART = 1_500_000
BUDGET_OTHER = 600_000
CHART_MARKER = 'class="review-chart"'


def serve(site: Path) -> tuple[str, callable]:
    """A gzip-compressing static server on a free localhost port, in a thread; returns its base URL
    and a function that stops it."""
    import tornado.httpserver
    import tornado.netutil
    import tornado.web

    ready = threading.Event()
    holder: dict = {}

    def run() -> None:
        async def main() -> None:
            app = tornado.web.Application(
                [(r"/(.*)", tornado.web.StaticFileHandler, {"path": str(site), "default_filename": "index.html"})],
                compress_response=True)
            sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
            server = tornado.httpserver.HTTPServer(app)
            server.add_sockets(sockets)
            holder["port"] = sockets[0].getsockname()[1]
            holder["stop"] = asyncio.Event()
            holder["loop"] = asyncio.get_running_loop()
            ready.set()
            await holder["stop"].wait()
            server.stop()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)

    def stop() -> None:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)

    return f"http://127.0.0.1:{holder['port']}", stop


def pages_of(site: Path) -> list[str]:
    return ["index.html", "search.html"] + sorted(p.relative_to(site).as_posix() for p in (site / "book").glob("*.html"))


def measure_page(browser, url: str) -> dict:
    """One load with an empty cache (a new browser context): bytes, requests, first paint."""
    context = browser.new_context()
    page = context.new_page()
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    page.goto(url, wait_until="networkidle")
    fcp = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
    transferred = decoded = 0
    for request in responses:
        sizes = request.sizes()
        transferred += sizes["responseHeadersSize"] + sizes["responseBodySize"]
        response = request.response()
        try:
            decoded += len(response.body()) if response is not None else 0
        except Exception:  # a body the browser no longer holds (e.g. a redirect)
            pass
    context.close()
    return {"transferred": transferred, "decoded": decoded, "requests": len(responses), "fcp_ms": fcp}


def measure(site: Path, repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    base, stop = serve(site)
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name in pages_of(site):
                loads = [measure_page(browser, f"{base}/{name}") for _ in range(repeat)]
                chart = CHART_MARKER in (site / name).read_text(encoding="utf-8")
                budget = BUDGET_CHART if chart else BUDGET_OTHER
                paints = [x["fcp_ms"] for x in loads if x["fcp_ms"] is not None]
                first = loads[0]  # bytes do not vary between loads; paint times do
                rows.append({"page": name, "chart_page": chart, "transferred": first["transferred"],
                             "decoded": first["decoded"], "requests": first["requests"], "budget": budget,
                             "within_budget": first["transferred"] <= budget,
                             "fcp_ms": round(statistics.median(paints), 1) if paints else None})
                print(f"  {name:32} {first['transferred'] / 1e3:8.1f} kB sent {first['decoded'] / 1e3:8.1f} kB decoded "
                      f"{first['requests']:3} requests  FCP {rows[-1]['fcp_ms']} ms"
                      f"{'' if rows[-1]['within_budget'] else '  OVER BUDGET'}", file=sys.stderr, flush=True)
            browser.close()
    finally:
        stop()
    largest = max(rows, key=lambda r: r["transferred"])
    paints = [r["fcp_ms"] for r in rows if r["fcp_ms"] is not None]
    return {
        "format": 1,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "repeat": repeat,
        "budgets": {"chart_page": BUDGET_CHART, "other_page": BUDGET_OTHER},
        "pages": rows,
        "summary": {
            "pages": len(rows),
            "over_budget": [r["page"] for r in rows if not r["within_budget"]],
            "largest_page": largest["page"], "largest_transferred": largest["transferred"],
            "largest_chart_page": max((r["transferred"] for r in rows if r["chart_page"]), default=None),
            "largest_other_page": max((r["transferred"] for r in rows if not r["chart_page"]), default=None),
            "median_fcp_ms": round(statistics.median(paints), 1) if paints else None,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--site", type=Path, default=REPO / "_build/html", help="built site (default _build/html)")
    parser.add_argument("--repeat", type=int, default=3, help="loads per page for the paint time (default 3)")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/pages.json", help="results file")
    args = parser.parse_args()
    if not (args.site / "index.html").is_file():
        sys.exit(f"{args.site}/index.html not found: build the site first (bash run.sh build)")
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    results = measure(args.site, args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    summary = results["summary"]
    print(f"{summary['pages']} pages; largest {summary['largest_page']} {summary['largest_transferred'] / 1e3:.1f} kB; "
          f"median first contentful paint {summary['median_fcp_ms']} ms; over budget: {summary['over_budget'] or 'none'}; "
          f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
