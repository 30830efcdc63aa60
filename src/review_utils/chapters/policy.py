"""Regulation and policy events: a dated timeline, undated statements, post-marketing rules and
the places where the public record corrects a seed document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_utils.data.support import with_support as sourced  # noqa: F401 - the tables' Source column
from review_utils.data.values import value_by_key
from review_utils.render import charts
from review_utils.render.text import NOT_IN_EDITION as MISSING
from review_utils.render.text import as_given, dated, stated

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "findings": ("F030", "F031", "F034", "F035", "F040", "F062"),
    "market_figures": ("MF11", "MF15", "MF16"),
    "policy_events": (
        "E01", "E02", "E04", "E05", "E07", "E08", "E09", "E11", "E12", "E13", "E14", "E16", "E17", "E20", "E21",
        "E25", "E27", "E31", "E32", "E33", "E34", "E35", "E36", "E37", "E38", "E39", "E40", "E41", "E42", "E43",
        "E46", "E47", "E51", "E52", "E53", "E54", "E56", "E57", "E60",
    ),
}

# Claims of the sources that this chapter discusses; it shows the audit's status for each.
CLAIMS = ("C062c", "C062d", "C064", "C065", "C066", "C082", "C083", "C093")
ROWS["claims"] = CLAIMS

# The two tracks a cell therapy can take in China, each with the events that set its rules.
TRACKS: dict[str, tuple[str, ...]] = {
    "clinical research and clinical use in hospitals (health authorities: NHC)": (
        "E31", "E33", "E46", "E47", "E52", "E53", "E54"),
    "registration trials and marketing authorisation as a drug (NMPA, CDE)": (
        "E32", "E34", "E35", "E38", "E40", "E41", "E43", "E56"),
}
# The expedited pathways: the law, the registration provisions, the procedures and the 2026 regulation.
PATHWAY_EVENTS = ("E34", "E35", "E36", "E11", "E60", "E37", "E56", "E57")
# Conditional approval: the procedure, its guideline, the draft revision and its status.
CONDITIONAL_EVENTS = ("E11", "E37", "E12", "E13", "E51")
# Post-marketing risk management of CAR-T.
RISK_EVENTS = ("E39", "E42", "E41", "E27")

STATUS_ORDER = ["in_force", "final", "draft", "superseded"]
STATUS_LABELS = {"draft": "draft", "final": "final, not yet in force", "in_force": "in force",
                 "superseded": "superseded", "not_a_rule": "not a rule"}

# Rows of the timeline, top to bottom: how a product reaches patients, then the rules around it.
KIND_ORDER = ["approval_pathway", "review_reform", "guidance", "pilot_zone", "post_marketing", "reimbursement",
              "product_approval"]
KIND_LABELS = {
    "approval_pathway": "Approval pathway", "review_reform": "Review reform", "guidance": "Guidance",
    "pilot_zone": "Pilot zone", "post_marketing": "Post-marketing", "reimbursement": "Reimbursement",
    "product_approval": "Product approval",
}

# Seed statements that the public record corrects or dates: (seed row, record rows). Row ids are
# event_id (policy_events.csv) or figure_id (market_figures.csv); the reasoning is in each row's note.
CORRECTIONS: list[tuple[str, list[str]]] = [
    ("E17", ["E14", "E16"]),   # "30-day" IND review: 30 working days, pilot 2024, nationwide 2025
    ("MF11", ["E14", "E16"]),  # the same claim as a number
    ("E21", ["E20"]),          # pilot zones: the notice names fewer areas than the news piece
    ("MF15", ["E20"]),         # the same claim as a number
    ("E08", ["E07", "E09"]),   # Hu Hui Bao launch year
    ("E01", ["E02"]),          # first FDA CAR-T approval: year only in the review
    ("E04", ["E05"]),          # first Chinese CAR-T approval: year only in the review
]


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, str(kind).replace("_", " ").capitalize())


def events_table(events: pd.DataFrame) -> pd.DataFrame:
    """Every event, dated ones first in date order, then undated ones by kind and id; with
    display columns ``date_shown`` and ``kind_shown``."""
    import pandas as pd

    frame = events.copy()
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    frame["_undated"] = frame["date"].isna()
    frame["_kind_rank"] = frame["kind"].map(lambda k: rank.get(k, len(rank)))
    frame = frame.sort_values(["_undated", "date", "_kind_rank", "event_id"], na_position="last")
    frame = frame.drop(columns=["_undated", "_kind_rank"]).reset_index(drop=True)
    frame["date_shown"] = [dated(d, p) for d, p in zip(frame["date"], frame["date_precision"])]
    frame["kind_shown"] = [kind_label(k) for k in frame["kind"]]
    return frame if len(frame) else pd.DataFrame(columns=[*events.columns, "date_shown", "kind_shown"])


def summary(events: pd.DataFrame) -> dict[str, Any]:
    """Counts for the prose, from :func:`events_table` output."""
    dated = events[events["date"].notna()]
    return {
        "n_events": int(len(events)),
        "n_dated": int(len(dated)),
        "n_undated": int(len(events) - len(dated)),
        "n_kinds": int(events["kind"].nunique()),
        "n_cn": int(events["jurisdiction"].astype(str).str.startswith("CN").sum()),
        "first_date": dated["date_shown"].iloc[0] if len(dated) else "none",
        "latest_date": dated["date_shown"].iloc[-1] if len(dated) else "none",
    }


def timeline_figure(events: pd.DataFrame, *, as_of: Any) -> Figure:
    """Dated events only: one row per kind, one marker per event at its date, labelled with its
    event id (the key into the table). Filled markers: exact day; hollow: month, quarter or year
    (the first day of the period is plotted). Colour and marker shape both encode the kind."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from review_utils.render.figures import MARKERS, OKABE_ITO, placeholder

    dated = events[events["date"].notna()].sort_values(["date", "event_id"])
    if dated.empty:
        return placeholder("No dated events as of the edition date")
    present = set(dated["kind"])
    kinds = [k for k in KIND_ORDER if k in present] + sorted(present - set(KIND_ORDER))
    fig, ax = plt.subplots(figsize=(7.5, 1.3 + 0.55 * len(kinds)))
    for i, kind in enumerate(kinds):
        colour, marker = OKABE_ITO[i % len(OKABE_ITO)], MARKERS[i % len(MARKERS)]
        rows = dated[dated["kind"] == kind]
        exact = rows["date_precision"] == "day"
        for hollow, part in ((False, rows[exact]), (True, rows[~exact])):
            if part.empty:
                continue
            ax.scatter(part["date"], [i] * len(part), marker=marker, s=60, zorder=3,
                       facecolor="white" if hollow else colour, edgecolor=colour, linewidth=1.4 if hollow else 0.6)
        for j, (_, row) in enumerate(rows.iterrows()):
            ax.annotate(row["event_id"], (row["date"], i), xytext=(0, 7 if j % 2 == 0 else -12),
                        textcoords="offset points", ha="center", fontsize=7.5)
    ax.set_yticks(range(len(kinds)), [kind_label(k) for k in kinds])
    ax.set_ylim(len(kinds) - 0.4, -0.7)
    ax.axvline(pd.Timestamp(as_of), color="#555555", linestyle="--", linewidth=1)
    ax.annotate("edition date", (pd.Timestamp(as_of), 1.0), xycoords=("data", "axes fraction"),
                xytext=(-4, -2), textcoords="offset points", ha="right", va="top", fontsize=8, color="#555555")
    ax.scatter([], [], marker="o", facecolor="#555555", edgecolor="#555555", label="exact day")
    ax.scatter([], [], marker="o", facecolor="white", edgecolor="#555555", linewidth=1.4,
               label="month, quarter or year only")
    ax.legend(loc="lower left", fontsize=8, frameon=False, ncol=2, bbox_to_anchor=(0, 1.0), borderaxespad=0.2)
    ax.set_xlabel("")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def rules_chart(events: pd.DataFrame, *, as_of: Any) -> charts.Chart:
    """The interactive version of :func:`rules_figure`, from the same dated Chinese rules: one
    line per rule, named, a marker at its date coloured by status (the legend filters by status;
    hollow: known only to the month or year); the date axis zooms; the tooltip gives the rule,
    its date as known, kind, status and the source."""
    import dataclasses

    chinese = rules(events)
    frame = chinese[chinese["date"].notna()].sort_values(["date", "event_id"]).reset_index(drop=True)
    frame = frame.assign(rule_shown=[str(x) for x in frame["label"]],
                         kind_shown=[kind_label(k) for k in frame["kind"]],
                         status_shown=[status_label(s) for s in frame["rule_status"]],
                         date_shown=[dated(d, p) for d, p in zip(frame["date"], frame["date_precision"])],
                         approximate=frame["date_precision"] != "day")
    chart = charts.fit_labels(charts.timeline(
        frame, date="date", row="rule_shown", row_title="Rule", date_title="Date issued",
        colour="status_shown", colour_title="Status", hollow="approximate",
        marker_date=as_of, marker_label="edition date",
        tooltip={"rule_shown": "Rule", "date_shown": "Issued", "kind_shown": "Kind", "status_shown": "Status"},
        what="rule"))
    return dataclasses.replace(chart, summary=_span(frame, "rule_shown", f"dated rule{'' if len(frame) == 1 else 's'}"))


def _span(frame: pd.DataFrame, name: str, what: str) -> str:
    """'33 dated rules; earliest: by 2015-07-31 (A); latest: 2026-01-27 (B).': the count, the
    first and the last by date, each date worded as known (a 'by' date is an upper bound)."""
    text = f"{len(frame)} {what}"
    if len(frame):
        ordered = frame.sort_values(["date", "event_id"])
        first, last = ordered.iloc[0], ordered.iloc[-1]
        if len(frame) == 1:
            return f"{text}: {first['date_shown']} ({first[name]})."
        text += f"; earliest: {first['date_shown']} ({first[name]}); latest: {last['date_shown']} ({last[name]})"
    return text + "."


def quantity_text(row: Any) -> str:
    """A stated number with its qualifier and unit as the source words it: 'up to 4 years'."""
    return stated(row["value"], row.get("value_low"), row.get("value_high"), row["qualifier"], row["unit"], number=as_given)


# Post-marketing requirements for CAR-T (findings rows with a number; events rows with the rule).
POST_MARKETING_FINDINGS = ["F031", "F030", "F040"]
POST_MARKETING_EVENTS = ["E13", "E27", "E25"]


def post_marketing(findings: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The post-marketing and evidence requirements: quantified rules from findings, then the
    qualitative ones from policy events, each with its source."""
    import pandas as pd

    rows = []
    for fid in POST_MARKETING_FINDINGS:
        hit = findings[findings["finding_id"] == fid]
        if len(hit):
            row = hit.iloc[0]
            rows.append({"row_id": fid, "requirement": row["quantity"], "quantity": quantity_text(row),
                         "when": dated(row["date"], row["date_precision"]),
                         "source_id": row["source_id"], "locator": row["locator"], "note": row["note"]})
    for eid in POST_MARKETING_EVENTS:
        hit = events[events["event_id"] == eid]
        if len(hit):
            row = hit.iloc[0]
            rows.append({"row_id": eid, "requirement": row["event"], "quantity": "",
                         "when": dated(row["date"], row["date_precision"]),
                         "source_id": row["source_id"], "locator": row["locator"], "note": row["note"]})
    return pd.DataFrame(rows, columns=["row_id", "requirement", "quantity", "when", "source_id", "locator", "note"])


def finding_value(findings: pd.DataFrame, finding_id: str, missing: str = MISSING) -> Any:
    """The number a finding states (an int when whole), or ``missing``."""
    value = value_by_key(findings, "finding_id", finding_id)
    return missing if value is None else value


def corrections(events: pd.DataFrame, market_figures: pd.DataFrame) -> pd.DataFrame:
    """Seed statements beside the public-record rows that correct or date them (pairs in
    :data:`CORRECTIONS`); a pair is shown only when the seed row is in this edition."""
    import pandas as pd

    said: dict[str, dict[str, Any]] = {}
    for _, row in events.iterrows():
        said[row["event_id"]] = {"text": row["event"], "when": dated(row["date"], row["date_precision"]),
                                 "source_id": row["source_id"], "note": row["note"]}
    for _, row in market_figures.iterrows():
        said[row["figure_id"]] = {"text": f"{row['metric']}: {quantity_text(row)} ({row['scope']})",
                                  "when": dated(row["as_of_date"], row["date_precision"]),
                                  "source_id": row["source_id"], "note": row["note"]}
    records = []
    for seed_id, record_ids in CORRECTIONS:
        if seed_id not in said:
            continue
        seed = said[seed_id]
        found = [r for r in record_ids if r in said]
        records.append({
            "seed_row": seed_id, "seed_says": seed["text"], "seed_date": seed["when"], "seed_source_id": seed["source_id"],
            "record_rows": ", ".join(found) if found else "none in this edition",
            "record_says": " | ".join(f"{said[r]['when']}: {said[r]['text']}" for r in found),
            "note": seed["note"],
            **{f"record_{i + 1}_source_id": said[r]["source_id"] for i, r in enumerate(found)},
        })
    columns = ["seed_row", "seed_says", "seed_date", "seed_source_id", "record_rows", "record_says", "note"]
    frame = pd.DataFrame(records)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    extra = sorted(c for c in frame.columns if c not in columns)
    return frame[columns + extra]


def figure_value(market_figures: pd.DataFrame, figure_id: str, missing: str = MISSING) -> Any:
    """The number a market figure states (an int when whole), or ``missing``."""
    value = value_by_key(market_figures, "figure_id", figure_id)
    return missing if value is None else value


# What the public record says about two seed claims, written once here so that the prose of an
# edition that lacks the record rows says so instead of stating facts from its future.
RECORD_PHRASES = {
    "E17": ("The rule counts working days, not calendar days; it began as a pilot in Beijing and Shanghai "
             "that at first left out cell and gene therapies, and became a nationwide pathway only with a "
             "later NMPA announcement ({rows})."),
    "E21": ("The notice itself names fewer areas: the Beijing, Shanghai and Guangdong free-trade zones and "
             "the Hainan free-trade port ({rows})."),
}
NO_RECORD = "No public-record row in this edition dates or checks this claim."


def record_phrase(fixes: pd.DataFrame, seed_id: str) -> str:
    """The sentence about the public record for one seed claim, or :data:`NO_RECORD` when this
    edition holds no record row for it."""
    hit = fixes[fixes["seed_row"] == seed_id]
    if hit.empty or not str(hit.iloc[0]["record_rows"]).startswith(("E", "MF", "F")):
        return NO_RECORD
    return RECORD_PHRASES[seed_id].format(rows=hit.iloc[0]["record_says"])


def status_label(status: Any) -> str:
    return STATUS_LABELS.get(str(status), str(status).replace("_", " "))


def with_status(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with a reader's wording of the rule's status (``status_shown``)."""
    frame = events.copy()
    frame["status_shown"] = [status_label(s) for s in frame["rule_status"]]
    return frame


def pick(events: pd.DataFrame, ids: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The rows of ``events`` with these ids, in the order given (ids absent from the edition are
    skipped)."""
    import pandas as pd

    by_id = {row["event_id"]: row for _, row in events.iterrows()}
    rows = [by_id[i] for i in ids if i in by_id]
    return pd.DataFrame(rows, columns=events.columns).reset_index(drop=True)


def tracks_table(events: pd.DataFrame) -> pd.DataFrame:
    """One row per event that sets the rules of a track, with the track named; dated in order."""
    import pandas as pd

    parts = []
    for track, ids in TRACKS.items():
        part = pick(events, ids)
        part.insert(0, "track", track)
        parts.append(part.sort_values(["date", "event_id"], na_position="last"))
    frame = pd.concat(parts, ignore_index=True) if parts else events.iloc[0:0].assign(track=[])
    return with_status(frame)


def rules(events: pd.DataFrame) -> pd.DataFrame:
    """China's rules, guidelines and procedures (not product approvals, trends or statements)."""
    mask = events["jurisdiction"].astype(str).str.startswith("CN") & (events["rule_status"] != "not_a_rule")
    return events[mask]


def status_counts(events: pd.DataFrame) -> pd.DataFrame:
    """China's rules per status (in force, final, draft, superseded), for the table and prose."""
    import pandas as pd

    chinese = rules(events)
    counts = [{"status": s, "status_shown": status_label(s), "rules": int((chinese["rule_status"] == s).sum())}
              for s in STATUS_ORDER]
    return pd.DataFrame(counts, columns=["status", "status_shown", "rules"])


def approval_types(approvals: pd.DataFrame) -> dict[str, int]:
    """Approved indications by the approval type the sources state (conditional, full, not stated)."""
    kinds = approvals["approval_type"].astype(str)
    return {"n_conditional": int((kinds == "conditional").sum()), "n_full": int((kinds == "full").sum()),
            "n_type_not_stated": int((kinds == "not_stated").sum()), "n_indications": int(len(approvals))}


def key_findings(events: pd.DataFrame) -> dict[str, Any]:
    """Numbers for the box that opens the chapter."""
    counts = {row["status"]: row["rules"] for _, row in status_counts(events).iterrows()}
    chinese = rules(events)
    dated_rows = chinese[chinese["date"].notna()].sort_values("date")
    return {
        "n_rules": int(len(chinese)),
        "n_in_force": int(counts.get("in_force", 0)),
        "n_draft": int(counts.get("draft", 0)),
        "n_superseded": int(counts.get("superseded", 0)),
        "latest_rule": (f"{dated_rows.iloc[-1]['label']} ({dated(dated_rows.iloc[-1]['date'], dated_rows.iloc[-1]['date_precision'])})"
                        if len(dated_rows) else "none"),
    }


STATUS_STYLE = {"in_force": ("#009E73", "o"), "final": ("#0072B2", "s"), "draft": ("#E69F00", "D"),
                "superseded": ("#999999", "X")}


def rules_figure(events: pd.DataFrame, *, as_of: Any) -> Figure:
    """China's dated rules, one line each, named, at their date; colour and marker give the
    status as of the newest edition; hollow markers are dates known only to the month or year."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from review_utils.render.figures import placeholder

    chinese = rules(events)
    chinese = chinese[chinese["date"].notna()].sort_values(["date", "event_id"]).reset_index(drop=True)
    if chinese.empty:
        return placeholder("No dated rules as of the edition date")
    fig, ax = plt.subplots(figsize=(8.0, 1.2 + 0.24 * len(chinese)))
    for i, row in chinese.iterrows():
        colour, marker = STATUS_STYLE.get(row["rule_status"], ("#000000", "o"))
        hollow = row["date_precision"] != "day"
        ax.scatter([row["date"]], [i], marker=marker, s=42, zorder=3, facecolor="white" if hollow else colour,
                   edgecolor=colour, linewidth=1.4 if hollow else 0.6)
    ax.set_yticks(range(len(chinese)), [str(label) for label in chinese["label"]], fontsize=7.5)
    ax.set_ylim(len(chinese) - 0.5, -0.8)
    ax.axvline(pd.Timestamp(as_of), color="#555555", linestyle="--", linewidth=1)
    for status in STATUS_ORDER:
        if (chinese["rule_status"] == status).any():
            colour, marker = STATUS_STYLE[status]
            ax.scatter([], [], marker=marker, facecolor=colour, edgecolor=colour, label=status_label(status))
    ax.scatter([], [], marker="o", facecolor="white", edgecolor="#555555", linewidth=1.4, label="date to the month or year")
    ax.legend(loc="lower left", fontsize=7.5, frameon=False, ncol=3, bbox_to_anchor=(0, 1.0), borderaxespad=0.2)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def event_date(events: pd.DataFrame, event_id: str, missing: str = MISSING) -> str:
    """An event's date worded to its precision, or ``missing`` when the edition lacks it."""
    hit = events[events["event_id"] == event_id]
    if hit.empty:
        return missing
    return dated(hit.iloc[0]["date"], hit.iloc[0]["date_precision"])


def event_status(events: pd.DataFrame, event_id: str, missing: str = MISSING) -> str:
    """The status of the rule an event concerns, in words, or ``missing``."""
    hit = events[events["event_id"] == event_id]
    return missing if hit.empty else status_label(hit.iloc[0]["rule_status"])
