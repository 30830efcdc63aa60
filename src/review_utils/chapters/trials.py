"""The clinical-trial landscape: CAR-T trials on ClinicalTrials.gov with sites in mainland China
against the rest of the world, from the registry snapshots in ``data/registry/``.

Definitions (the chapter states them; the tests recount them independently):

- **Snapshot of the edition**: for each collection (the oncology and the autoimmune monitor), the
  latest snapshot pulled on or before the edition date; trials whose start date is after the
  edition date are left out (a start given to the month counts from the month's first day; a
  trial without a start date stays, in its own group). A trial in both collections is counted
  once, with the oncology monitor's record.
- **Location group**, from the countries of the trial's registered sites: *mainland China only*;
  *mainland China and elsewhere* (a multi-country trial, counted once); *elsewhere only*; *no
  location listed*. The registry's country "China" is mainland China; Hong Kong and Taiwan are
  their own countries and count as elsewhere.
- **China's share**: trials with at least one site in mainland China divided by trials with at
  least one listed location (trials without a location are outside the denominator, and shown).
- **Active**: overall status recruiting, not yet recruiting, active but not recruiting, or
  enrolling by invitation. Status unknown (the sponsor has not confirmed it for two years) is not
  active.
- **Sponsor type**: the registry's lead-sponsor class; industry against every other class
  (hospitals, universities, government, networks), called academic and other here.
- **Disease branch and target antigen**: the monitors' classification (the autoimmune monitor's
  trials are the autoimmune branch).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from review_utils.chapters.shared.registry_trials import (  # noqa: F401 - the chapter's definitions
    ACTIVE,
    AUTOIMMUNE,
    BRANCH_NAMES,
    CHINA,
    COLLECTION_NAMES,
    GROUPS,
    ONCOLOGY,
    PHASE_ORDER,
    STATUS_WORDS,
    Landscape,
    landscape,
    location_group,
    percent,
    phase_group,
    start_dates,
)
from review_utils.render import charts
from review_utils.render.figures import OKABE_ITO
from review_utils.render.text import NOT_IN_EDITION, format_value

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS: dict[str, tuple[str, ...]] = {}


# ----------------------------------------------------------------------------- tables
def _share_rows(trials: pd.DataFrame, by: str, order: list[str] | None = None) -> pd.DataFrame:
    import pandas as pd

    located = trials[trials["located"]]
    groups = order or sorted(located[by].dropna().unique())
    rows = []
    for value in groups:
        part = located[located[by] == value]
        china = int(part["in_china"].sum())
        rows.append({by: value, "trials": len(part), "china": china, "elsewhere": len(part) - china,
                     "share": percent(china, len(part)), "share_value": round(100 * china / len(part), 1) if len(part) else None})
    frame = pd.DataFrame(rows)
    frame["source_id"] = trials["source_id"].iloc[0] if len(trials) else ""
    return frame


def by_start_year(land: Landscape) -> pd.DataFrame:
    """Trials per start year and location group (a trial in several countries counted once)."""
    import pandas as pd

    dated = land.trials[land.trials["start_year"].notna()]
    table = pd.crosstab(dated["start_year"], dated["group"]).reindex(columns=list(GROUPS), fill_value=0)
    table = table.reset_index().rename(columns={"start_year": "start year"})
    table["start year"] = table["start year"].astype(int)
    table["source_id"] = land.trials["source_id"].iloc[0]
    return table


def groups_table(land: Landscape) -> pd.DataFrame:
    import pandas as pd

    counts = land.trials["group"].value_counts()
    rows = [{"group": g, "trials": int(counts.get(g, 0)),
             "with a start date": int(((land.trials["group"] == g) & land.trials["start_year"].notna()).sum())}
            for g in GROUPS]
    frame = pd.DataFrame(rows)
    frame["source_id"] = land.trials["source_id"].iloc[0]
    return frame


def share_by_phase(land: Landscape) -> pd.DataFrame:
    present = [p for p in PHASE_ORDER if (land.trials["phase_group"] == p).any()]
    return _share_rows(land.trials, "phase_group", present)


def share_by_branch(land: Landscape) -> pd.DataFrame:
    order = [b for b in BRANCH_NAMES.values() if (land.trials["branch"] == b).any()]
    return _share_rows(land.trials, "branch", order)


def share_by_sponsor(land: Landscape) -> pd.DataFrame:
    return _share_rows(land.trials, "sponsor", ["industry", "academic and other"])


def share_by_target(land: Landscape, top: int = 12) -> pd.DataFrame:
    named = land.trials[~land.trials["target"].isin(["Other_or_unknown", "CAR-T_unspecified", "CAR-NK"])
                        & land.trials["located"]]
    order = list(named["target"].value_counts().sort_index().sort_values(ascending=False, kind="stable").index[:top])
    return _share_rows(land.trials, "target", order)


def china_sites_by_city(land: Landscape, top: int = 15) -> pd.DataFrame:
    import pandas as pd

    china = land.sites[land.sites["Country"] == CHINA].copy()
    china["city"] = china["City"].fillna("").str.strip().str.title()
    china.loc[china["city"] == "", "city"] = "(no city given)"
    grouped = china.groupby("city").agg(sites=("NCTId", "size"), trials=("NCTId", "nunique")).reset_index()
    grouped = grouped.sort_values(["sites", "city"], ascending=[False, True]).head(top).reset_index(drop=True)
    grouped.insert(0, "rank", range(1, len(grouped) + 1))
    grouped["source_id"] = land.sites["source_id"].iloc[0] if len(land.sites) else ""
    return pd.DataFrame(grouped)


def changes(land: Landscape) -> dict[str, Any] | None:
    """What changed in the oncology collection between the edition's snapshot and the one before."""
    import pandas as pd

    if land.previous is None or land.previous_trials is None:
        return None
    if "changes" in land.cache:
        return land.cache["changes"]
    new = land.trials[land.trials["collection"] == ONCOLOGY]
    old = land.previous_trials
    old_ids, new_ids = set(old["NCTId"]), set(new["NCTId"])
    merged = old[["NCTId", "OverallStatus"]].merge(new[["NCTId", "OverallStatus"]], on="NCTId", suffixes=("_old", "_new"))
    moved = merged[merged["OverallStatus_old"] != merged["OverallStatus_new"]]
    transitions = moved.groupby(["OverallStatus_old", "OverallStatus_new"]).size().reset_index(name="trials")
    transitions = transitions.sort_values(["trials", "OverallStatus_old", "OverallStatus_new"],
                                          ascending=[False, True, True]).reset_index(drop=True)
    transitions["from"] = transitions["OverallStatus_old"].map(lambda s: STATUS_WORDS.get(s, s))
    transitions["to"] = transitions["OverallStatus_new"].map(lambda s: STATUS_WORDS.get(s, s))
    transitions["source_id"] = new["source_id"].iloc[0]
    added = new[~new["NCTId"].isin(old_ids)]
    land.cache["changes"] = {
        "from": land.previous.snapshot_date.date(), "to": [s for s in land.snapshots if s.collection == ONCOLOGY][0].snapshot_date.date(),
        "added": len(added), "added_china": int(added["in_china"].sum()),
        "gone": len(old_ids - new_ids), "status_changed": len(moved),
        "to_completed": int((moved["OverallStatus_new"] == "COMPLETED").sum()),
        "to_terminated": int((moved["OverallStatus_new"] == "TERMINATED").sum()),
        "transitions": pd.DataFrame(transitions[["from", "to", "trials", "source_id"]]),
    }
    return land.cache["changes"]


def rule_agreement(land: Landscape) -> pd.DataFrame:
    """How often our written rules (review_utils.data.registry_rules), used for snapshots that
    lack the monitors' classification, give the monitors' label on the edition's trials."""
    import pandas as pd

    from review_utils.data import registry_rules as rules

    if "agreement" in land.cache:
        return land.cache["agreement"]
    trials = land.trials
    branch_of: dict[tuple, str | None] = {}
    target_of: dict[tuple, str] = {}
    ours_branch, ours_target = [], []
    for c, i, t in zip(trials["Conditions"].tolist(), trials["Interventions"].tolist(), trials["BriefTitle"].tolist()):
        if (c, t) not in branch_of:
            branch_of[(c, t)] = BRANCH_NAMES.get(rules.branch(c, t))
        if (i, t) not in target_of:
            target_of[(i, t)] = rules.target(i, t)
        ours_branch.append(branch_of[(c, t)])
        ours_target.append(target_of[(i, t)])
    branch_ok = pd.Series(ours_branch, index=trials.index) == trials["branch"]
    named = ~trials["target"].isin(["Other_or_unknown", "CAR-T_unspecified", "CAR-NK"])
    target_ok = pd.Series(ours_target, index=trials.index) == trials["target"]
    rows = [
        {"classification": "disease branch", "trials compared": len(trials), "same label": int(branch_ok.sum()),
         "agreement": percent(int(branch_ok.sum()), len(trials))},
        {"classification": "target antigen (all trials)", "trials compared": len(trials), "same label": int(target_ok.sum()),
         "agreement": percent(int(target_ok.sum()), len(trials))},
        {"classification": "target antigen (trials the monitor gives a named antigen)", "trials compared": int(named.sum()),
         "same label": int((target_ok & named).sum()), "agreement": percent(int((target_ok & named).sum()), int(named.sum()))},
    ]
    frame = pd.DataFrame(rows)
    frame["source_id"] = trials["source_id"].iloc[0]
    land.cache["agreement"] = frame
    return frame


def phase_trend(phases: pd.DataFrame) -> str:
    """Whether the share falls steadily from early phase I through phase I, II and III, in words."""
    steps = [p for p in (PHASE_ORDER[0], PHASE_ORDER[1], PHASE_ORDER[3], PHASE_ORDER[4]) if p in phases.index]
    values = [phases.loc[p, "share_value"] for p in steps]
    falls = all(a >= b for a, b in zip(values, values[1:]))
    text = ("From early phase I through phase I, phase II and phase III the share falls at each step."
            if falls else "From early phase I through phase I, phase II and phase III the share does not fall at every step.")
    if PHASE_ORDER[2] in phases.index and PHASE_ORDER[1] in phases.index and \
            phases.loc[PHASE_ORDER[2], "share_value"] > phases.loc[PHASE_ORDER[1], "share_value"]:
        text += " Combined phase I/II trials are the exception: their share is above that of phase I."
    return text


def summary(land: Landscape | None) -> dict[str, str]:
    """Every number the chapter's prose shows (text, ready to glue); early editions say why not."""
    keys = ["tr_snapshots", "tr_n_trials", "tr_n_located", "tr_n_china", "tr_n_china_only", "tr_n_china_multi",
            "tr_n_elsewhere", "tr_n_noloc", "tr_n_hk", "tr_n_tw", "tr_share", "tr_share_all", "tr_n_active",
            "tr_n_active_china", "tr_share_active", "tr_n_future", "tr_n_overlap", "tr_n_nostart",
            "tr_share_phase0", "tr_share_phase1", "tr_share_phase12", "tr_share_phase2", "tr_share_phase3", "tr_n_china_sites", "tr_n_china_cities",
            "tr_top_city", "tr_top_city_sites", "tr_share_industry", "tr_share_academic",
            "tr_change_from", "tr_change_to", "tr_added", "tr_added_china", "tr_gone", "tr_status_changed",
            "tr_to_completed", "tr_to_terminated", "tr_agree_branch", "tr_agree_target", "tr_edition_note", "tr_phase_trend", "tr_change_text"]
    if land is None:
        out = dict.fromkeys(keys, NOT_IN_EDITION)
        out["tr_edition_note"] = ("This edition is dated before the first registry snapshot the book holds, so "
                                  "none of the counts below is available in it.")
        return out
    t = land.trials
    located = t[t["located"]]
    n_china = int(t["in_china"].sum())
    active = located[located["active"]]
    phases = share_by_phase(land).set_index("phase_group")
    sponsor = share_by_sponsor(land).set_index("sponsor")
    cities = china_sites_by_city(land, top=10_000)
    countries = t["Countries"].fillna("").str.split("|")
    out = {
        "tr_snapshots": land.label,
        "tr_n_trials": format_value(len(t)), "tr_n_located": format_value(len(located)),
        "tr_n_china": format_value(n_china),
        "tr_n_china_only": format_value(int((t["group"] == GROUPS[0]).sum())),
        "tr_n_china_multi": format_value(int((t["group"] == GROUPS[1]).sum())),
        "tr_n_elsewhere": format_value(int((t["group"] == GROUPS[2]).sum())),
        "tr_n_noloc": format_value(int((t["group"] == GROUPS[3]).sum())),
        "tr_n_hk": format_value(int(countries.map(lambda c: "Hong Kong" in c).sum())),
        "tr_n_tw": format_value(int(countries.map(lambda c: "Taiwan" in c).sum())),
        "tr_share": percent(n_china, len(located)), "tr_share_all": percent(n_china, len(t)),
        "tr_n_active": format_value(len(active)), "tr_n_active_china": format_value(int(active["in_china"].sum())),
        "tr_share_active": percent(int(active["in_china"].sum()), len(active)),
        "tr_n_future": format_value(land.left_out_future), "tr_n_overlap": format_value(land.overlap),
        "tr_n_nostart": format_value(int(t["start_year"].isna().sum())),
        "tr_share_phase0": phases["share"].get(PHASE_ORDER[0], NOT_IN_EDITION),
        "tr_share_phase1": phases["share"].get(PHASE_ORDER[1], NOT_IN_EDITION),
        "tr_share_phase12": phases["share"].get(PHASE_ORDER[2], NOT_IN_EDITION),
        "tr_share_phase2": phases["share"].get(PHASE_ORDER[3], NOT_IN_EDITION),
        "tr_share_phase3": phases["share"].get(PHASE_ORDER[4], NOT_IN_EDITION),
        "tr_n_china_sites": format_value(int((land.sites["Country"] == CHINA).sum())),
        "tr_n_china_cities": format_value(int((cities["city"] != "(no city given)").sum())),
        "tr_top_city": str(cities["city"].iloc[0]) if len(cities) else NOT_IN_EDITION,
        "tr_top_city_sites": format_value(int(cities["sites"].iloc[0])) if len(cities) else NOT_IN_EDITION,
        "tr_share_industry": sponsor["share"].get("industry", NOT_IN_EDITION),
        "tr_share_academic": sponsor["share"].get("academic and other", NOT_IN_EDITION),
        "tr_edition_note": f"This edition reads these snapshots: {land.label}.",
    }
    out["tr_phase_trend"] = phase_trend(phases)
    change = changes(land)
    if change is None:
        out["tr_change_text"] = change_note(land)
        out.update(dict.fromkeys(["tr_change_from", "tr_change_to", "tr_added", "tr_added_china", "tr_gone",
                                  "tr_status_changed", "tr_to_completed", "tr_to_terminated"], NOT_IN_EDITION))
    else:
        out["tr_change_text"] = (
            f"Comparing the oncology collection's snapshot pulled {change['from'].isoformat()} with the one pulled "
            f"{change['to'].isoformat()}: {format_value(change['added'])} trials were added (of which "
            f"{format_value(change['added_china'])} have a site in mainland China), {format_value(change['gone'])} trials of "
            f"the earlier snapshot are not in the later one, and {format_value(change['status_changed'])} trials changed "
            f"their overall status, {format_value(change['to_completed'])} of them to completed and "
            f"{format_value(change['to_terminated'])} to terminated.")
        out.update({"tr_change_from": change["from"].isoformat(), "tr_change_to": change["to"].isoformat(),
                    **{f"tr_{k}": format_value(change[k]) for k in
                       ("added", "added_china", "gone", "status_changed", "to_completed", "to_terminated")}})
    agreement = rule_agreement(land).set_index("classification")["agreement"]
    out["tr_agree_branch"] = agreement.iloc[0]
    out["tr_agree_target"] = agreement.iloc[2]
    return out


VIEW_COLUMNS = {
    "by_year": ["start year", *GROUPS, "source_id"],
    "groups": ["group", "trials", "with a start date", "source_id"],
    "phase": ["phase_group", "trials", "china", "elsewhere", "share", "share_value", "source_id"],
    "branch": ["branch", "trials", "china", "elsewhere", "share", "share_value", "source_id"],
    "target": ["target", "trials", "china", "elsewhere", "share", "share_value", "source_id"],
    "sponsor": ["sponsor", "trials", "china", "elsewhere", "share", "share_value", "source_id"],
    "cities": ["rank", "city", "sites", "trials", "source_id"],
    "transitions": ["from", "to", "trials", "source_id"],
    "agreement": ["classification", "trials compared", "same label", "agreement", "source_id"],
}


def views(land: Landscape | None) -> dict[str, pd.DataFrame]:
    """Every table and figure's data; empty tables (same columns) in an edition before the first snapshot."""
    import pandas as pd

    if land is None:
        return {name: pd.DataFrame(columns=columns) for name, columns in VIEW_COLUMNS.items()}
    change = changes(land)
    return {
        "by_year": by_start_year(land), "groups": groups_table(land), "phase": share_by_phase(land),
        "branch": share_by_branch(land), "target": share_by_target(land), "sponsor": share_by_sponsor(land),
        "cities": china_sites_by_city(land),
        "transitions": change["transitions"] if change else pd.DataFrame(columns=VIEW_COLUMNS["transitions"]),
        "agreement": rule_agreement(land),
    }


def snapshot_note(land: Landscape | None) -> str:
    """For captions: which snapshot the figure or table shows."""
    if land is None:
        return "No registry snapshot was pulled on or before the edition date."
    return f"ClinicalTrials.gov records, {land.label}."


def change_note(land: Landscape | None) -> str:
    change = changes(land) if land is not None else None
    if change is None:
        return "The edition holds one snapshot of the oncology collection, so no change between snapshots can be shown."
    return (f"Oncology collection, snapshot pulled {change['from'].isoformat()} against the one pulled "
            f"{change['to'].isoformat()}.")


# ----------------------------------------------------------------------------- interactive charts
def start_year_chart(table: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`start_year_figure`, from the same rows (one per start
    year): one segment per year and site group, stacked in the legend's order; hovering gives
    the year, the group, its trials, the year's total and the source; the legend filters groups."""
    import pandas as pd

    rows = []
    for record in table.to_dict("records"):
        total = int(sum(int(record[g]) for g in GROUPS))
        for group in GROUPS:
            if int(record[group]):
                rows.append({"start year": int(record["start year"]), "group": group, "trials": int(record[group]),
                             "year_total": total, "source_id": record.get("source_id")})
    frame = pd.DataFrame(rows, columns=["start year", "group", "trials", "year_total", "source_id"])
    return charts.columns(
        frame, value="trials", category="start year", value_title="Trials", category_title="Start year",
        colour="group", colour_title="Where the trial's sites are", colour_domain=list(GROUPS),
        colour_range=[OKABE_ITO[5], OKABE_ITO[1], OKABE_ITO[0], "#BBBBBB"],
        tooltip={"start year": "Start year (actual or anticipated)", "group": "Where the sites are",
                 "trials": "Trials", "year_total": "Trials that year, all groups"},
        what="start year")


def share_by_phase_chart(table: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`share_by_phase_figure`, from the same rows: a bar per
    phase group; hovering gives the trials, how many have a site in mainland China, how many are
    elsewhere only, the share and the source."""
    chart = charts.bars(
        table, value="share_value", category="phase_group", value_title="In mainland China (%)",
        category_title="Phase", tooltip={"phase_group": "Phase", "trials": "Trials that list a site",
                                         "china": "With a site in mainland China", "elsewhere": "Elsewhere only",
                                         "share": "Share in mainland China"},
        what="phase group")
    known = table[table["share_value"].notna()]
    if known.empty:
        return chart
    labels = {g: f"{s} (n={n:,})" for g, s, n in zip(table["phase_group"], table["share"], table["trials"])}
    chart = charts.with_end_labels(charts.compact_rows(chart), labels, top=100, room=1.35, narrow_room=2.1,
                                   ticks_up_to=100)
    high, low = known.loc[known["share_value"].idxmax()], known.loc[known["share_value"].idxmin()]
    return dataclasses.replace(chart, summary=(
        f"Share of trials with a site in mainland China in {len(table)} phase groups: highest in {high['phase_group']} "
        f"({high['share']} of {high['trials']:,} trials), lowest in {low['phase_group']} "
        f"({low['share']} of {low['trials']:,})."))


def city_chart(table: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`city_figure`, from the same rows: a bar per city, most
    sites first; hovering gives the rank, the sites, the trials and the source."""
    chart = charts.bars(
        table, value="sites", category="city", value_title="Trial sites",
        category_title="City", tooltip={"city": "City", "rank": "Rank", "sites": "Trial sites (a hospital counts once per trial)",
                                        "trials": "Trials with a site there"},
        what="city")
    if table.empty:
        return chart
    labels = {c: f"{n:,}" for c, n in zip(table["city"], table["sites"])}
    chart = charts.with_end_labels(charts.compact_rows(chart), labels, narrow_room=1.4)
    high, low = table.loc[table["sites"].idxmax()], table.loc[table["sites"].idxmin()]
    return dataclasses.replace(chart, summary=(
        f"{len(table)} cities by CAR-T trial sites: most in {high['city']} ({high['sites']:,}), "
        f"fewest of those shown in {low['city']} ({low['sites']:,})."))


# ----------------------------------------------------------------------------- figures
def start_year_figure(table: pd.DataFrame) -> Figure:
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

    if table.empty:
        return placeholder("No registry snapshot as of the edition date")
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    bottom = [0] * len(table)
    hatches = ["", "//", "", ".."]
    colours = [OKABE_ITO[5], OKABE_ITO[1], OKABE_ITO[0], "#BBBBBB"]
    years = table["start year"].tolist()
    for group, colour, hatch in zip(GROUPS, colours, hatches):
        values = table[group].tolist()
        ax.bar(years, values, bottom=bottom, color=colour, hatch=hatch, edgecolor="black", linewidth=0.3, label=group)
        bottom = [b + v for b, v in zip(bottom, values)]
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Start year (actual or anticipated)")
    ax.set_ylabel("Trials")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def share_by_phase_figure(table: pd.DataFrame) -> Figure:
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

    if table.empty:
        return placeholder("No registry snapshot as of the edition date")
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    values = table["share_value"].fillna(0).tolist()
    ax.bar(range(len(table)), values, color=OKABE_ITO[5], edgecolor="black", linewidth=0.4)
    for i, (value, n) in enumerate(zip(values, table["trials"])):
        ax.text(i, value, f"{value:.0f} %\n(n={n})", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(table)), table["phase_group"].tolist(), rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("Trials with a site in\nmainland China (%)")
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def city_figure(table: pd.DataFrame) -> Figure:
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

    if table.empty:
        return placeholder("No registry snapshot as of the edition date")
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    shown = table.iloc[::-1]
    ax.barh(shown["city"], shown["sites"], color=OKABE_ITO[0], edgecolor="black", linewidth=0.4)
    for y, value in enumerate(shown["sites"]):
        ax.text(value, y, f" {value}", va="center", fontsize=8)
    ax.set_xlabel("Trial sites (a hospital in several trials counts once per trial)")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig
