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


def to_bibtex(sources: pd.DataFrame) -> str:
    from pybtex.database import BibliographyData, Entry, Person

    entries = {}
    for row in sources.sort_values("source_id").itertuples(index=False):
        kind = ENTRY_TYPES.get(row.kind, "misc")
        fields = {"title": "{" + str(row.title) + "}"}  # braces keep the title's capitals
        if _present(row.published):
            fields["year"] = str(row.published.year)
            if row.date_precision in ("day", "month"):
                fields["month"] = str(row.published.month)
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
        entries[str(row.source_id)] = Entry(kind, fields=fields, persons=persons)
    return BibliographyData(entries=entries).to_string("bibtex")
