"""How the Audit chapter shows :func:`review_utils.chapters.shared.audit.audit`'s verdicts: tables, a figure and
plain-language notes. The rules themselves live in :mod:`review_utils.chapters.shared.audit`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared.audit import (  # noqa: F401 - used by the notebook
    ABOUT,
    FLAGGED,
    MATERIALITY_LABELS,
    NEARLY,
    STATUS_LABELS,
    STATUSES,
    half_unit,
)
from review_utils.render import charts, markup
from review_utils.render.figures import OKABE_ITO, placeholder

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS: dict[str, tuple[str, ...]] = {}

# One colour per status (Okabe-Ito, readable in grey and by colour-blind readers), and hatching
# so that the statuses stay apart in print.
STATUS_COLOURS = {"confirmed": OKABE_ITO[2], "consistent_dependent": OKABE_ITO[4], "internal_only": OKABE_ITO[0],
                  "date_dependent": OKABE_ITO[6], "differs": OKABE_ITO[1], "contradicted": OKABE_ITO[5],
                  "not_checkable": "#BBBBBB"}
STATUS_HATCHES = {"confirmed": "", "consistent_dependent": "\\\\", "internal_only": "--", "date_dependent": "++",
                  "differs": "//", "contradicted": "xx", "not_checkable": ".."}
TIER_ORDER = ("conclusion", "quoted_number", "wording")


def summary(verdicts: pd.DataFrame) -> dict[str, Any]:
    """The numbers the chapter's prose cites."""
    flagged = verdicts[verdicts["status"].isin(FLAGGED)]
    return {
        "n_claims": int(len(verdicts)),
        "n_documents": int(verdicts["source_id"].nunique()),
        **{f"n_{status}": int((verdicts["status"] == status).sum()) for status in STATUSES},
        "n_flagged": int(len(flagged)),
        "n_checked": int((verdicts["status"] != "not_checkable").sum()),
        "n_corrections": int((verdicts["correction"] != "").sum()),
        "n_counts": int((verdicts["holds_for"] != "").sum()),
        "n_internal": int(len(internal(verdicts))),
        "n_agreeing": int(verdicts["status"].isin(("confirmed", "consistent_dependent", "internal_only")).sum()),
        **{f"n_tier_{tier}": int((flagged["materiality"] == tier).sum()) for tier in TIER_ORDER},
        "n_definition": int(verdicts["why"].str.startswith("every check measures something else").sum()),
        "n_inherited": int((verdicts["inherited_from"] != "").sum()),
    }


def by_source(verdicts: pd.DataFrame, titles: dict[str, str] | None = None) -> pd.DataFrame:
    """Claims per document and status, documents in ledger order, with a total row."""
    import pandas as pd

    order = list(dict.fromkeys(verdicts["source_id"]))
    rows = []
    for source in order:
        part = verdicts[verdicts["source_id"] == source]
        rows.append({"source_id": source, "document": (titles or {}).get(source, source),
                     **{s: int((part["status"] == s).sum()) for s in STATUSES}, "total": int(len(part))})
    table = pd.DataFrame(rows, columns=["source_id", "document", *STATUSES, "total"])
    if len(table):
        total = {"source_id": None, "document": "all documents", **{s: int(table[s].sum()) for s in STATUSES},
                 "total": int(table["total"].sum())}
        table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    return table


def status_figure(table: pd.DataFrame) -> Figure:
    """Stacked horizontal bars: claims per document, split by status (``table`` from
    :func:`by_source`, without its total row)."""
    import matplotlib.pyplot as plt

    rows = table[table["source_id"].notna()]
    if rows.empty or int(rows["total"].sum()) == 0:
        return placeholder("No claims as of the edition date")
    fig, ax = plt.subplots(figsize=(7.5, 1.8 + 0.6 * len(rows)))
    labels = list(rows["document"])[::-1]
    left = [0] * len(rows)
    for status in STATUSES:
        values = [int(v) for v in rows[status]][::-1]
        ax.barh(labels, values, left=left, color=STATUS_COLOURS[status], hatch=STATUS_HATCHES[status],
                edgecolor="white", label=STATUS_LABELS[status])
        for y, (start, width) in enumerate(zip(left, values)):
            if width:
                ax.text(start + width / 2, y, str(width), ha="center", va="center", fontsize=8)
        left = [a + b for a, b in zip(left, values)]
    ax.set_xlabel("claims")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22 if len(rows) > 2 else -0.45), ncol=3, frameon=False,
              fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def status_chart(table: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`status_figure`, from the same rows (one per document,
    without the total row): a segment per document and status, in the figure's colours; hovering
    gives the document, the status, its claims, the document's total and the source; the legend
    filters statuses."""
    import pandas as pd

    rows = []
    for record in table[table["source_id"].notna()].to_dict("records"):
        for status in STATUSES:
            if int(record[status]):
                rows.append({"document": record["document"], "status_label": STATUS_LABELS[status],
                             "claims": int(record[status]), "total": int(record["total"]),
                             "source_id": record["source_id"]})
    frame = pd.DataFrame(rows, columns=["document", "status_label", "claims", "total", "source_id"])
    labels = [STATUS_LABELS[s] for s in STATUSES]
    chart = charts.bars(
        frame, value="claims", category="document", value_title="Claims", category_title="Document",
        colour="status_label", colour_title="Status", colour_domain=labels,
        tooltip={"document": "Document", "status_label": "Status", "claims": "Claims",
                 "total": "Claims in the document"},
        what="document")
    chart = charts.with_colours(charts.compact_rows(chart), "status_label", {STATUS_LABELS[s]: STATUS_COLOURS[s] for s in STATUSES})
    documents = table[table["source_id"].notna()]
    if documents.empty:
        return chart
    high, low = documents.loc[documents["total"].idxmax()], documents.loc[documents["total"].idxmin()]
    return dataclasses.replace(chart, summary=(
        f"Claims of {len(documents)} documents, split by status: most in {high['document']} ({high['total']}), "
        f"fewest in {low['document']} ({low['total']})."))


def flagged(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Claims that differ or are contradicted: by materiality tier (conclusion first), then
    contradicted before differing, then by id."""
    part = verdicts[verdicts["status"].isin(FLAGGED)].copy()
    part["_tier"] = part["materiality"].map({t: i for i, t in enumerate(TIER_ORDER)}).fillna(len(TIER_ORDER))
    part["_order"] = part["status"].map({s: i for i, s in enumerate(FLAGGED)})
    return part.sort_values(["_tier", "_order", "claim_id"]).drop(columns=["_tier", "_order"]).reset_index(drop=True)


def errors_box(verdicts: pd.DataFrame, titles: dict[str, str] | None = None) -> str:
    """The chapter's opening box: the flagged claims that change a conclusion or a number a
    reader would quote, one plain line each (what the document says, what the evidence says),
    and how many more are rounding or wording. Data text is escaped; sources are cited."""
    part = flagged(verdicts)
    serious = part[part["materiality"].isin(TIER_ORDER[:2])]
    minor = int((part["materiality"] == "wording").sum())
    lines = ["```{admonition} The errors that matter", ":class: important", ""]
    if serious.empty:
        lines.append("No claim that differs or is contradicted changes a conclusion or a number a reader would quote.")
    for tier in TIER_ORDER[:2]:
        rows = serious[serious["materiality"] == tier]
        if rows.empty:
            continue
        lines.append(f"**{markup.escape(MATERIALITY_LABELS[tier].capitalize())}:**")
        lines.append("")
        for _, row in rows.iterrows():
            doc = (titles or {}).get(row["source_id"], row["source_id"])
            cell = row["evidence_source_id"]
            others = [s.strip() for s in cell.split(";") if s.strip()] if isinstance(cell, str) else []
            text = (f"- {markup.escape(doc)} {markup.cite([row['source_id']])}: {markup.escape(row['quantity'])}, "
                    f"stated as {markup.escape(row['stated'])}; {markup.escape(row['status_label'])}")
            if row["difference"]:
                text += f" ({markup.escape(row['difference'])})"
            text += f" {markup.cite(others)}." if others else "."
            lines.append(text)
        lines.append("")
    if minor:
        lines.append(f"{markup.escape(minor)} further flagged claim{'s differ' if minor != 1 else ' differs'} only in "
                     "rounding or wording; all are listed, with the evidence, further down.")
    lines.append("```")
    return "\n".join(lines)


def notes_markdown(verdicts: pd.DataFrame) -> str:
    """One plain-language bullet per flagged claim: what was stated, what the evidence says, the
    gap, and our reading. Data text is escaped; sources are cited."""
    part = flagged(verdicts)
    if part.empty:
        return "No claim differs or is contradicted as of the edition date."
    lines = []
    for _, row in part.iterrows():
        cited = markup.cite([row["source_id"]])
        cell = row["evidence_source_id"]
        others = [] if not isinstance(cell, str) else [s.strip() for s in cell.split(";") if s.strip()]
        tier = f" ({markup.escape(row['materiality_label'])})" if row["materiality_label"] else ""
        text = (f"- **{markup.escape(row['claim_id'])}, {markup.escape(row['status_label'])}**{tier}. "
                f"{markup.escape(row['quantity'])}: stated as {markup.escape(row['stated'])} {cited}. "
                f"Why: {markup.escape(row['why'])}. Evidence: {markup.escape(row['evidence'])}")
        text += f" {markup.cite(others)}." if others else "."
        if row["difference"]:
            text += f" Gap: {markup.escape(row['difference'])}."
        if row["note"]:
            text += f" {markup.escape(row['note'])}"
        lines.append(text)
    return "\n".join(lines)


def corrections(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Claims where the public record corrects a name, an identifier or a date."""
    return verdicts[verdicts["correction"] != ""].reset_index(drop=True)


def internal(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Claims checked against the same document: restated figures, and percentages or totals
    recomputed from amounts the document gives beside them."""
    return verdicts[verdicts["internal"]].reset_index(drop=True)


def not_comparable(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Claims whose every check measures something else (another endpoint, population or scope)."""
    return verdicts[verdicts["why"].str.startswith("every check measures something else")].reset_index(drop=True)


def dated_counts(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Counts recounted from the approvals table, with the date each holds for."""
    return verdicts[verdicts["holds_for"] != ""].reset_index(drop=True)


def ledger_view(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The whole ledger with evidence, gap and data needed in one column, so that the table
    stays readable in print (the CSV download keeps them apart)."""
    frame = verdicts.copy()
    shown = []
    for _, row in frame.iterrows():
        if row["status"] == "not_checkable" and row["needed"]:
            text = f"Needed: {row['needed']}"
            if row["evidence"]:
                text = f"{row['evidence']}. {text}"
        else:
            text = f"{row['why'][:1].upper()}{row['why'][1:]}. {row['evidence']}" if row["evidence"] else row["why"]
            if row["difference"]:
                text += f". Gap: {row['difference']}"
        shown.append(text)
    frame["evidence_shown"] = shown
    return frame
