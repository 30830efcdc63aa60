"""Check the built site's links without a network: every internal link and anchor must resolve;
external links are only listed (they cannot be fetched here, and a dead remote page is not a
reason to refuse a build)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src", "iframe": "src"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key])
        wanted = LINK_ATTRIBUTES.get(tag)
        if wanted and values.get(wanted):
            self.links.append(values[wanted])


@dataclass
class Report:
    broken: list[str] = field(default_factory=list)      # "page: link (reason)"
    external: dict[str, set[str]] = field(default_factory=dict)  # url -> pages

    def render(self) -> str:
        lines = [f"Broken internal links: {len(self.broken)}"] + [f"  {b}" for b in self.broken]
        lines.append(f"External links (not checked offline): {len(self.external)}")
        lines += [f"  {url}  (on {', '.join(sorted(pages))})" for url, pages in sorted(self.external.items())]
        return "\n".join(lines)


def check_site(html_dir: Path) -> Report:
    pages: dict[Path, _Page] = {}
    for path in sorted(html_dir.rglob("*.html")):
        if path.relative_to(html_dir).parts[0] in ("_static", "_sources"):
            continue  # theme template fragments and page sources, not pages
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path.resolve()] = parser
    report = Report()
    for path, parser in pages.items():
        page_name = path.relative_to(html_dir.resolve()).as_posix()
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https"):
                report.external.setdefault(link, set()).add(page_name)
                continue
            if parts.scheme or link.startswith("//"):  # mailto:, data:, javascript: ...
                continue
            target_part, anchor = urldefrag(link)
            target = (path.parent / unquote(urlsplit(target_part).path)).resolve() if target_part else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                report.broken.append(f"{page_name}: {link} (no such file)")
            elif anchor and target.suffix == ".html" and unquote(anchor) not in pages[target].ids:
                report.broken.append(f"{page_name}: {link} (no element with id {anchor!r})")
    return report
