"""``data/sources.csv`` → BibTeX, so the bibliography and the data's sources are one list.

Written at build time into the staging copy (never committed); sphinxcontrib-bibtex reads it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

ENTRY_TYPES = {
    "journal_article": "article",
    "book": "book",
}


def _present(value) -> bool:
    import pandas as pd

    return not pd.isna(value) and str(value).strip() != ""


_INITIALS = re.compile(r"^([A-Z][\w'-]+) ([A-Z]{1,3})$")


def authors(text: str) -> list:
    """The data's author convention (see datapackage.json) as pybtex persons: 'Family, Given',
    'Family Initials', '{Organisation}' (kept whole), and a trailing 'et al.' as 'and others'."""
    from pybtex.database import Person

    people = []
    for name in (part.strip() for part in text.split(";")):
        if not name:
            continue
        etal = name.endswith(" et al.")
        name = name.removesuffix(" et al.").strip()
        match = _INITIALS.match(name)
        people.append(Person(f"{match.group(1)}, {match.group(2)}" if match else name))
        if etal:
            people.append(Person("others"))
    return people


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def entry(row) -> tuple[str, dict[str, str], dict[str, list]]:
    """One ``sources.csv`` row (a namedtuple from ``itertuples``) as BibTeX type, fields and
    persons: the one reading of a source that the bibliography and the downloads' full
    citations (:func:`full_citation`) share."""
    from pybtex.database import Person

    kind = ENTRY_TYPES.get(row.kind, "misc")
    fields = {"title": str(row.title)}
    if _present(row.published):
        fields["year"] = str(row.published.year)
        if row.date_precision in ("day", "month"):
            fields["month"] = str(row.published.month)
        if row.date_precision == "day":
            fields["day"] = str(row.published.day)
    else:
        fields["year"] = "n.d."  # undated web pages and news items: cited as "no date"
    if _present(row.container):
        fields["journal" if kind == "article" else "howpublished"] = str(row.container)
    if _present(row.publisher):
        fields["publisher"] = str(row.publisher)
    if _present(row.doi):
        fields["doi"] = str(row.doi)
    if _present(row.url):
        fields["url"] = str(row.url)
    if _present(row.language):
        fields["language"] = str(row.language)
    persons = {}
    if _present(row.authors):
        persons["author"] = authors(str(row.authors))
    else:
        # A corporate author (the issuer, else the outlet), braced so that it is not split
        # into first and last names; the styles need some author to sort and label by.
        issuer = next((str(v) for v in (row.publisher, row.container) if _present(v)), "Anonymous")
        persons["author"] = [Person("{" + issuer + "}")]
    return kind, fields, persons


def to_bibtex(sources: pd.DataFrame) -> str:
    from pybtex.database import BibliographyData, Entry

    entries = {}
    for row in sources.sort_values("source_id").itertuples(index=False):
        kind, fields, persons = entry(row)
        fields = {k: v for k, v in fields.items() if k != "day"}  # BibTeX has no day field
        fields["title"] = "{" + fields["title"] + "}"  # braces keep the title's capitals
        entries[str(row.source_id)] = Entry(kind, fields=fields, persons=persons)
    return BibliographyData(entries=entries).to_string("bibtex")


def _person(person) -> str:
    """A pybtex person as written in a reference list: 'Neelapu SS', 'Liu, Wei', 'JW Therapeutics'."""
    text = str(person)
    if text == "others":
        return "et al."
    if text.startswith("{") and text.endswith("}"):
        return text[1:-1]
    last, _, first = text.partition(", ")
    return f"{last} {first}" if first and re.fullmatch(r"[A-Z]{1,3}", first) else text


def full_citation(row) -> str:
    """A plain-text reference for one ``sources.csv`` row: authors, year (and date where known),
    title, journal or outlet, publisher, DOI and URL; built from :func:`entry`, the same fields
    the bibliography uses."""
    _, fields, persons = entry(row)
    names = [_person(p) for p in persons["author"]]
    if names and names[-1] == "et al.":
        who = "; ".join(names[:-1]) + " et al."
    else:
        who = "; ".join(names)
    when = fields["year"]
    if "month" in fields:
        when += f", {MONTHS[int(fields['month']) - 1]}"
        if "day" in fields:
            when += f" {fields['day']}"
    if _present(row.authors) or who != "Anonymous":
        parts = [f"{who} ({when}).", _sentence(fields["title"])]
    else:  # no author, issuer or outlet known: the title leads, as reference lists do
        parts = [f"{_sentence(fields['title'])[:-1]} ({when})."]
    container = fields.get("journal") or fields.get("howpublished")
    if container and container != who:
        parts.append(_sentence(container))
    if fields.get("publisher") and fields.get("publisher") not in (container, who):
        parts.append(_sentence(fields["publisher"]))
    doi_url = f"https://doi.org/{fields['doi']}" if "doi" in fields else None
    if doi_url:
        parts.append(f"DOI: {fields['doi']} ({doi_url}).")
    if fields.get("url") and fields["url"] != doi_url:
        parts.append(f"URL: {fields['url']}")
    return " ".join(parts)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!", "。", "？", "！")) else text + "."
