"""Cost and access: CAR-T prices in China and the Shanghai Hu Hui Bao (沪惠保) worked example.

Everything the access chapter states as a number is computed here from rows of
``data/prices.csv`` and ``data/reimbursement.csv``: the worked example (price -> payout ->
out-of-pocket -> reduction), the gap between that computed reduction and the review's headline
claim, the programme-outcome arithmetic and the launch-date disagreement.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from review_utils.data.support import with_support as sourced  # noqa: F401 - the tables' Source column
from review_utils.data.values import is_missing, row_by_key
from review_utils.render import charts
from review_utils.render.text import NOT_IN_EDITION as MISSING
from review_utils.render.text import dated, format_value, stated

if TYPE_CHECKING:
    import pandas as pd

# Rows of data/ that this chapter (module and notebook) names by id; `review validate` reports
# any that no longer exists, and tests/test_layers.py fails on an id typed but not listed here.
ROWS = {
    "prices": ("P01", "P10", "P11", "P12", "P13", "P14"),
    "market_figures": ("MF24", "MF25", "MF26", "MF27", "MF28", "MF29", "MF30", "MF31"),
    "reimbursement": (
        "RB01", "RB02", "RB03", "RB04", "RB05", "RB06", "RB07", "RB08", "RB09", "RB10", "RB11", "RB12",
        "RB13", "RB14", "RB15", "RB16", "RB17", "RB18", "RB19", "RB20", "RB21", "RB22", "RB23", "RB24",
        "RB25", "RB26", "RB27", "RB28", "RB29", "RB30", "RB31", "RB32", "RB33", "RB34", "RB35", "RB36",
        "RB37", "RB38", "RB39",
    ),
}

# Claims of the review that this chapter discusses; it shows the audit's status for each.
CLAIMS = ("C018", "C019", "C020", "C021", "C022", "C023", "C024", "C025", "C026", "C027", "C028", "C029",
          "C030", "C031", "C094")
ROWS["claims"] = CLAIMS

# National reimbursement list, the commercial innovative drug list and Huiminbao totals.
NRDL_ROWS = ("RB20", "RB21", "RB22", "RB23")
COMMERCIAL_ROWS = ("RB24", "RB25", "RB26", "RB27", "RB28", "RB29", "RB30", "RB31", "RB32", "RB33", "RB34", "RB35")
HUIMINBAO_TOTALS = ("RB36", "RB37", "RB38", "RB39")
EXCHANGE_RATE = "MF24"
INCOME = "MF26"
# US launch list prices (USD) and the product each matches in China, if approved there.
US_PRICES = ("P11", "P12", "P13", "P14")
CHINA_PRICE_FOR = {"axi-cel": "P10"}
PATIENT_ROWS = ("MF27", "MF28", "MF29", "MF30", "MF31")

# Rows of data/reimbursement.csv that the worked example and the comparisons use (stable keys).
REVIEW_PRICE = "RB04"           # list price of axi-cel (Yescarta) in the review's example
REVIEW_PAYOUT = "RB05"          # Hu Hui Bao payout in the review's example
REVIEW_STATED_REDUCTION = "RB06"
REVIEW_STATED_OOP = "RB07"
PUBLIC_CAP = "RB19"             # 2022 edition: CAR-T drug cost paid in full up to a cap, zero deductible
PUBLIC_PRICE = "P01"            # data/prices.csv: axi-cel list price reported with the 2022 inclusion
HEADLINE = "RB14"               # abstract: pilots cut patient costs by 50 %
COST_CLAIMS = ("RB14", "RB02", "RB03", "RB06", "RB12", "RB11")
TOTAL_REIMBURSED = "RB08"
PATIENTS_BODY = "RB09"
PATIENTS_CONCLUSION = "RB10"
LAUNCH_REVIEW = "RB01"
LAUNCH_PUBLIC = "RB18"
RECORD_TOPICS = {
    "RB01": "dates", "RB18": "dates", "RB19": "dates",
    "RB08": "outcomes", "RB13": "outcomes", "RB09": "outcomes", "RB10": "outcomes",
    "RB16": "coverage", "RB11": "coverage", "RB17": "coverage", "RB15": "coverage",
}
TOPIC_ORDER = {"dates": 0, "outcomes": 1, "coverage": 2}


def _stated_row(row: pd.Series | None, unit_column: str = "unit") -> str:
    if row is None:
        return MISSING
    return stated(row["value"], row["value_low"], row["value_high"], row["qualifier"], row[unit_column])


# ---------------------------------------------------------------------------------------------
# prices
def flag_outliers(low: list[float], high: list[float]) -> list[bool]:
    """A price is an outlier when even its lowest bound lies above the highest bound of every
    other price reported (so no other report overlaps or exceeds it)."""
    flags = []
    for i, lo in enumerate(low):
        others = [h for j, h in enumerate(high) if j != i]
        flags.append(bool(others) and lo > max(others))
    return flags


def price_table(prices: pd.DataFrame) -> pd.DataFrame:
    """Prices with their wording kept ('under', ranges), low/high bounds, and an outlier caveat.

    Sorted by low bound, then price_id (deterministic).
    """
    frame = prices.copy()
    frame["low"] = frame["value_low"].fillna(frame["value"]).astype(float)
    frame["high"] = frame["value_high"].fillna(frame["value"]).astype(float)
    frame["price_shown"] = [stated(r.value, r.value_low, r.value_high, r.qualifier, r.currency)
                            for r in frame.itertuples()]
    frame["outlier"] = flag_outliers(list(frame["low"]), list(frame["high"]))
    caveats = []
    for row in frame.itertuples():
        parts = []
        if row.outlier:
            parts.append("OUTLIER: above every other price reported here")
            if isinstance(row.note, str) and row.note.lower().startswith("suspect"):
                parts.append("single undated secondary source")
        if is_missing(row.price_date):
            parts.append("undated")
        caveats.append("; ".join(parts))
    frame["caveat"] = caveats
    frame["price_date_shown"] = [dated(d, p)
                                 for d, p in zip(frame["price_date"], frame["date_precision"])]
    return frame.sort_values(["low", "price_id"]).reset_index(drop=True)


def price_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Counts and the span of prices (outliers left out of the span and reported apart)."""
    regular = table[~table["outlier"]]
    outliers = table[table["outlier"]]
    return {
        "n_prices": int(len(table)),
        "n_outliers": int(len(outliers)),
        "lowest": f"{format_value(float(regular['low'].min()))} CNY" if len(regular) else MISSING,
        "highest": f"{format_value(float(regular['high'].max()))} CNY" if len(regular) else MISSING,
        "outlier_products": ", ".join(outliers["product_name"]) if len(outliers) else "none",
        "outlier_range": ", ".join(outliers["price_shown"]) if len(outliers) else "none",
    }


# ---------------------------------------------------------------------------------------------
# the worked example
def worked_example(price: float, payout: float) -> dict[str, float]:
    """Price -> payout -> out-of-pocket drug cost, and the reduction = payout / price (percent)."""
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    if payout < 0 or payout > price:
        raise ValueError(f"payout {payout} must lie between 0 and the price {price}")
    return {"price": float(price), "payout": float(payout), "out_of_pocket": float(price - payout),
            "reduction_pct": 100.0 * payout / price}


def capped_payout(price: float, cap: float, deductible: float = 0.0) -> float:
    """What a 'full claim up to a cap' benefit pays for one drug bill."""
    return float(max(0.0, min(price - deductible, cap)))


def scenarios(reimbursement: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """One row per worked scenario whose input rows are in this edition.

    * the review's example: price RB04, payout RB05;
    * the public record: the axi-cel list price reported with its 2022 inclusion (P01) and the
      2022 edition's benefit (RB19: drug cost in full up to a cap, zero deductible).
    """
    import pandas as pd

    rows = []
    price, payout = row_by_key(reimbursement, "reimb_id", REVIEW_PRICE), row_by_key(reimbursement, "reimb_id", REVIEW_PAYOUT)
    if price is not None and payout is not None:
        result = worked_example(price["value"], payout["value"])
        rows.append({"scenario": "Review's example", **result,
                     "price_source_id": price["source_id"], "payout_source_id": payout["source_id"],
                     "inputs": f"{REVIEW_PRICE}, {REVIEW_PAYOUT}"})
    price, cap = row_by_key(prices, "price_id", PUBLIC_PRICE), row_by_key(reimbursement, "reimb_id", PUBLIC_CAP)
    if price is not None and cap is not None:
        result = worked_example(price["value"], capped_payout(price["value"], cap["value"]))
        year = cap["as_of_date"].year if not is_missing(cap["as_of_date"]) else "undated"
        rows.append({"scenario": f"Public record ({year} edition terms)", **result,
                     "price_source_id": price["source_id"], "payout_source_id": cap["source_id"],
                     "inputs": f"{PUBLIC_PRICE} (prices), {PUBLIC_CAP}"})
    columns = ["scenario", "price", "payout", "out_of_pocket", "reduction_pct", "price_source_id",
               "payout_source_id", "inputs"]
    return pd.DataFrame(rows, columns=columns)


def example_steps(scen: pd.DataFrame, reimbursement: pd.DataFrame) -> pd.DataFrame:
    """The worked example as steps (long form), each computed value beside what the source states."""
    import pandas as pd

    stated_by_review = {
        "out_of_pocket": row_by_key(reimbursement, "reimb_id", REVIEW_STATED_OOP),
        "reduction_pct": row_by_key(reimbursement, "reimb_id", REVIEW_STATED_REDUCTION),
        "price": row_by_key(reimbursement, "reimb_id", REVIEW_PRICE),
        "payout": row_by_key(reimbursement, "reimb_id", REVIEW_PAYOUT),
    }
    steps = [("price", "List price (input)"), ("payout", "Programme payout (input)"),
             ("out_of_pocket", "Out-of-pocket drug cost = price − payout"),
             ("reduction_pct", "Reduction = payout ÷ price")]
    rows = []
    for _, s in scen.iterrows():
        for key, label in steps:
            unit = "percent" if key == "reduction_pct" else "CNY"
            computed = f"{s[key]:.1f} %" if key == "reduction_pct" else f"{format_value(s[key])} CNY"
            said = ""
            if s["scenario"] == "Review's example" and stated_by_review[key] is not None:
                said = _stated_row(stated_by_review[key])
            rows.append({"scenario": s["scenario"], "step": label, "computed": computed, "stated": said,
                         "unit": unit, "source_id": s["price_source_id"], "payout_source_id": s["payout_source_id"]})
    return pd.DataFrame(rows, columns=["scenario", "step", "computed", "stated", "unit", "source_id",
                                       "payout_source_id"])


def cost_claims(reimbursement: pd.DataFrame, computed_reduction: float | None) -> pd.DataFrame:
    """The review's statements about how much patients save, beside the computed reduction.

    ``gap_pp`` is stated minus computed, in percentage points (empty where not comparable).
    """
    order = {key: i for i, key in enumerate(COST_CLAIMS)}
    frame = reimbursement[reimbursement["reimb_id"].isin(COST_CLAIMS)].copy()
    frame["order"] = frame["reimb_id"].map(order)
    frame = frame.sort_values("order").reset_index(drop=True)
    frame["stated_shown"] = [_stated_row(r) for _, r in frame.iterrows()]
    gaps = []
    for _, r in frame.iterrows():
        comparable = r["reimb_id"] != "RB11" and computed_reduction is not None and not is_missing(r["value"])
        gaps.append(f"{r['value'] - computed_reduction:+.1f}" if comparable else "not comparable")
    frame["gap_pp"] = gaps
    return frame.drop(columns="order")


# ---------------------------------------------------------------------------------------------
# programme outcomes and record
def outcome_arithmetic(total: float, patients: float, cap: float) -> dict[str, float]:
    """Average payout per patient, and the fewest patients who could have received ``total`` if
    nobody received more than ``cap``."""
    if patients <= 0 or cap <= 0:
        raise ValueError("patients and cap must be positive")
    return {"average": total / patients, "min_patients_at_cap": math.ceil(total / cap)}


def programme_record(reimbursement: pd.DataFrame) -> pd.DataFrame:
    """Launch dates, outcomes and coverage rows, grouped by topic, with the value as stated."""
    frame = reimbursement[reimbursement["reimb_id"].isin(RECORD_TOPICS)].copy()
    frame["topic"] = frame["reimb_id"].map(RECORD_TOPICS)
    frame["order"] = frame["topic"].map(TOPIC_ORDER)
    frame["stated_shown"] = [_stated_row(r) if not (is_missing(r["value"]) and is_missing(r["value_low"])) else "(no number)"
                             for _, r in frame.iterrows()]
    frame["date_shown"] = [dated(d, p)
                           for d, p in zip(frame["as_of_date"], frame["date_precision"])]
    return frame.sort_values(["order", "as_of_date", "reimb_id"], na_position="last").drop(columns="order").reset_index(drop=True)


def launch_gap_years(review_year: float, public_launch_year: int) -> int:
    """How many years later the review's launch year is than the public record's."""
    return int(review_year) - int(public_launch_year)


def summary(reimbursement: pd.DataFrame, prices: pd.DataFrame) -> dict[str, str]:
    """Every value the access chapter's prose cites, as display text (MISSING where the edition
    does not hold the row)."""
    out: dict[str, str] = {}
    scen = scenarios(reimbursement, prices)
    review = scen[scen["scenario"] == "Review's example"]
    public = scen[scen["scenario"] != "Review's example"]
    computed = float(review["reduction_pct"].iloc[0]) if len(review) else None

    def cny(frame, column):
        return f"{format_value(float(frame[column].iloc[0]))} CNY" if len(frame) else MISSING

    out["he_price"], out["he_payout"], out["he_oop"] = (cny(review, c) for c in ("price", "payout", "out_of_pocket"))
    out["he_reduction"] = f"{computed:.1f} %" if computed is not None else MISSING
    out["he_reduction_exact"] = f"{computed:.4f} %" if computed is not None else MISSING
    out["he_stated_reduction"] = _stated_row(row_by_key(reimbursement, "reimb_id", REVIEW_STATED_REDUCTION))
    headline = row_by_key(reimbursement, "reimb_id", HEADLINE)
    out["he_headline"] = _stated_row(headline)
    if headline is not None and computed is not None:
        gap = float(headline["value"]) - computed
        out["he_headline_gap"] = f"{gap:.1f} percentage points"
        out["he_headline_payout"] = f"{format_value(float(review['price'].iloc[0]) * headline['value'] / 100)} CNY"
    else:
        out["he_headline_gap"] = out["he_headline_payout"] = MISSING
    out["pub_price"], out["pub_payout"], out["pub_oop"] = (cny(public, c) for c in ("price", "payout", "out_of_pocket"))
    out["pub_reduction"] = f"{float(public['reduction_pct'].iloc[0]):.1f} %" if len(public) else MISSING
    cap = row_by_key(reimbursement, "reimb_id", PUBLIC_CAP)
    out["pub_cap"] = f"{format_value(float(cap['value']))} CNY" if cap is not None else MISSING
    out["pub_cap_date"] = dated(cap["as_of_date"], cap["date_precision"]) if cap is not None else MISSING

    total = row_by_key(reimbursement, "reimb_id", TOTAL_REIMBURSED)
    body, concl = (row_by_key(reimbursement, "reimb_id", k) for k in (PATIENTS_BODY, PATIENTS_CONCLUSION))
    out["hhb_total"] = _stated_row(total)
    out["hhb_total_date"] = dated(total["as_of_date"], total["date_precision"]) if total is not None else MISSING
    out["hhb_patients_body"] = _stated_row(body)
    out["hhb_patients_conclusion"] = _stated_row(concl)
    patients = body if body is not None else concl
    if total is not None and patients is not None and cap is not None:
        arithmetic = outcome_arithmetic(total["value"], patients["value"], cap["value"])
        # the unit stays in the text: a bare "33,000,000" would be read back by myst-nb's glue
        # role as a Python tuple (literal_eval) and shown as "(33, 0, 0)"
        out["hhb_total_plain"] = f"{format_value(float(total['value']))} CNY"
        out["hhb_patients_plain"] = format_value(float(patients["value"]))
        out["hhb_average"] = f"{format_value(arithmetic['average'])} CNY"
        out["hhb_min_patients"] = format_value(arithmetic["min_patients_at_cap"])
    else:
        out["hhb_total_plain"] = out["hhb_patients_plain"] = out["hhb_average"] = out["hhb_min_patients"] = MISSING
    out["hhb_oop_share"] = _stated_row(row_by_key(reimbursement, "reimb_id", "RB11"))

    launch_review, launch_public = (row_by_key(reimbursement, "reimb_id", k) for k in (LAUNCH_REVIEW, LAUNCH_PUBLIC))
    out["hhb_launch_review"] = _stated_row(launch_review)
    out["hhb_launch_public"] = (dated(launch_public["as_of_date"], launch_public["date_precision"])
                                if launch_public is not None else MISSING)
    if launch_review is not None and launch_public is not None:
        gap = launch_gap_years(launch_review["value"], launch_public["as_of_date"].year)
        out["hhb_launch_gap"] = f"{gap} year" + ("" if gap == 1 else "s")
    else:
        out["hhb_launch_gap"] = MISSING
    return out


def example_caption(scen: pd.DataFrame, headline_shown: bool) -> str:
    """The figure caption, naming only the scenarios actually drawn."""
    if scen.empty:
        return "The Hu Hui Bao worked example: no input rows as of the edition date."
    kinds = ["the review's example" if s == "Review's example" else "the published scheme terms"
             for s in sorted(scen["scenario"], key=lambda s: s != "Review's example")]
    text = "How a CAR-T drug bill splits between the Hu Hui Bao payout and the patient in " + " and under ".join(kinds)
    if headline_shown:
        text += "; the dashed tick marks where the abstract's headline cost cut would put the payout"
    return text + "."


# ---------------------------------------------------------------------------------------------
# figure
def example_figure(scen: pd.DataFrame, headline_pct: float | None = None):
    """Stacked horizontal bars: each scenario's price split into payout and out-of-pocket cost.

    Colours from Okabe–Ito and distinct hatches; the headline claim (if given) is a dashed tick
    on the review's bar at that share of the price.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from review_utils.render.figures import OKABE_ITO, placeholder

    if scen.empty:
        return placeholder("No worked example as of the edition date")
    # the review's example first (top), then the public record
    frame = scen.assign(_review=scen["scenario"] != "Review's example").sort_values(["_review", "scenario"])
    frame = frame.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 1.5 + 1.1 * len(frame)))
    ys = [1.2 * i for i in range(len(frame))]
    height = 0.55
    ax.barh(ys, frame["payout"], height=height, color=OKABE_ITO[2], hatch="//", edgecolor="black", linewidth=0.6,
            label="Hu Hui Bao payout")
    ax.barh(ys, frame["out_of_pocket"], height=height, left=frame["payout"], color=OKABE_ITO[1], hatch="..",
            edgecolor="black", linewidth=0.6, label="Out-of-pocket drug cost")
    box = {"facecolor": "white", "edgecolor": "none", "pad": 1.5}
    for y, row in zip(ys, frame.itertuples()):
        ax.text(row.payout / 2, y, f"{format_value(row.payout)} CNY", ha="center", va="center", fontsize=8.5, bbox=box)
        ax.text(row.payout + row.out_of_pocket / 2, y, f"{format_value(row.out_of_pocket)} CNY", ha="center",
                va="center", fontsize=8.5, bbox=box)
        ax.text(row.price * 1.02, y, f"payout ÷ price\n= {row.reduction_pct:.1f} %", ha="left", va="center",
                fontsize=8.5)
        if headline_pct is not None and row.scenario == "Review's example":
            x = row.price * headline_pct / 100
            ax.plot([x, x], [y - height / 2 - 0.08, y + height / 2 + 0.08], color=OKABE_ITO[7], linestyle="--",
                    linewidth=1.4, zorder=4)
            ax.text(x, y - height / 2 - 0.1, f"abstract's {format_value(headline_pct)} % claim", ha="center",
                    va="bottom", fontsize=8)
    labels = [s.replace(" (", "\n(") for s in frame["scenario"]]
    ax.set_yticks(ys, labels)
    ax.set_ylim(ys[-1] + 0.6, ys[0] - 0.75)
    ax.set_xlim(0, float(frame["price"].max()) * 1.25)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v / 1e6) + " M"))
    ax.set_xlabel("CAR-T drug cost (CNY)")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.22 if len(frame) > 1 else -0.4), ncol=2, fontsize=8.5,
              frameon=False)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# lists, city schemes, prices beside US prices and income, patient volumes
def rows_in_order(frame: pd.DataFrame, key: str, ids: tuple[str, ...]) -> pd.DataFrame:
    """Rows of ``frame`` whose ``key`` is in ``ids``, in that order, with ``stated_shown`` and
    ``date_shown`` columns (value as the source words it; '(no number)' for a statement)."""
    import pandas as pd

    by_id = {row[key]: row for _, row in frame.iterrows()}
    rows = pd.DataFrame([by_id[i] for i in ids if i in by_id], columns=frame.columns).reset_index(drop=True)
    unit = "unit" if "unit" in rows.columns else "currency"
    date = "as_of_date" if "as_of_date" in rows.columns else "price_date"
    rows["stated_shown"] = [_stated_row(r, unit) if not (is_missing(r["value"]) and is_missing(r["value_low"]))
                            else "(no number)" for _, r in rows.iterrows()]
    rows["date_shown"] = [dated(d, p) for d, p in zip(rows[date], rows["date_precision"])]
    return rows


def huimin_bao_table(schemes: pd.DataFrame) -> pd.DataFrame:
    """City schemes by city and edition date, with the CAR-T cover and terms worded for readers."""
    frame = schemes.sort_values(["city", "edition_date", "hb_id"], na_position="last").reset_index(drop=True)
    frame["date_shown"] = [dated(d, p) for d, p in zip(frame["edition_date"], frame["date_precision"])]
    frame["cap_shown"] = ["not stated" if is_missing(v) else f"{format_value(float(v))} CNY" for v in frame["cap_cny"]]
    frame["products_shown"] = ["" if is_missing(v) else str(v) for v in frame["car_t_products"]]
    return frame


def huimin_bao_counts(schemes: pd.DataFrame) -> dict[str, int]:
    """How many scheme editions and cities the data hold, and how many include CAR-T."""
    covered = schemes["car_t_covered"].astype(str)
    yes = schemes[covered == "yes"]
    return {"n_schemes": int(len(schemes)), "n_cities": int(schemes["city"].nunique()),
            "n_with_cart": int(len(yes)), "n_cities_with_cart": int(yes["city"].nunique()),
            "n_without_cart": int((covered == "no").sum()), "n_cart_unknown": int((covered == "unknown").sum()),
            "n_cap_stated": int(schemes["cap_cny"].notna().sum())}


def value_of(frame: pd.DataFrame, key: str, row_id: str) -> float | None:
    row = row_by_key(frame, key, row_id)
    return None if row is None or is_missing(row["value"]) else float(row["value"])


def us_comparison(prices: pd.DataFrame, market_figures: pd.DataFrame) -> pd.DataFrame:
    """US launch list prices beside the China list price of the same product, converted at the
    exchange rate in the data (its date stated); a product not sold in China shows no China price."""
    import pandas as pd

    rate_row = row_by_key(market_figures, "figure_id", EXCHANGE_RATE)
    rate = None if rate_row is None else float(rate_row["value"])
    rate_date = MISSING if rate_row is None else dated(rate_row["as_of_date"], rate_row["date_precision"])
    records = []
    for pid in US_PRICES:
        us = row_by_key(prices, "price_id", pid)
        if us is None:
            continue
        product = us["product_id"] if not is_missing(us["product_id"]) else None
        china = row_by_key(prices, "price_id", CHINA_PRICE_FOR[product]) if product in CHINA_PRICE_FOR else None
        record = {"price_id": pid, "product": product if product is not None else us["product_name"], "us_usd": float(us["value"]),
                  "us_shown": f"{format_value(float(us['value']))} USD", "us_date": dated(us["price_date"], us["date_precision"]),
                  "us_source_id": us["source_id"], "china_cny": None, "china_shown": "not sold in China" if product is None
                  else "no China price in the data", "china_date": "", "china_usd_shown": "", "ratio_shown": "",
                  "rate_shown": "" if rate is None else f"{rate:g} CNY per USD ({rate_date})"}
        if china is not None and rate is not None:
            usd = float(china["value"]) / rate
            record.update({"china_cny": float(china["value"]), "china_shown": f"{format_value(float(china['value']))} CNY",
                           "china_date": dated(china["price_date"], china["date_precision"]),
                           "china_usd_shown": f"{format_value(round(usd))} USD",
                           "ratio_shown": f"{100 * usd / float(us['value']):.0f} %", "china_source_id": china["source_id"]})
        records.append(record)
    columns = ["price_id", "product", "us_shown", "us_date", "china_shown", "china_date", "rate_shown", "china_usd_shown",
               "ratio_shown", "us_usd", "china_cny", "us_source_id", "china_source_id"]
    frame = pd.DataFrame(records)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    if "china_source_id" not in frame.columns:
        frame["china_source_id"] = None
    return frame[columns]


def income_years(price_table_frame: pd.DataFrame, market_figures: pd.DataFrame) -> pd.DataFrame:
    """For each dated, exact China list price of one product (not a band, not an outlier), the
    price in years of national per-capita disposable income (the income row's year stated)."""
    import pandas as pd

    income = row_by_key(market_figures, "figure_id", INCOME)
    columns = ["price_id", "product_id", "product_name", "value", "price_date_shown", "income_cny", "income_year",
               "years", "years_shown", "source_id", "income_source_id"]
    if income is None:
        return pd.DataFrame(columns=columns)
    frame = price_table_frame[(price_table_frame["currency"] == "CNY") & price_table_frame["value"].notna()
                              & price_table_frame["product_id"].notna() & (price_table_frame["qualifier"] == "exact")
                              & ~price_table_frame["outlier"] & price_table_frame["price_date"].notna()]
    # the newest exact price of each product
    frame = frame.sort_values(["product_id", "price_date", "price_id"]).groupby("product_id", as_index=False).tail(1)
    out = frame[["price_id", "product_id", "product_name", "value", "price_date_shown", "source_id"]].copy()
    out["income_cny"] = float(income["value"])
    out["income_year"] = int(income["as_of_date"].year)
    out["years"] = out["value"].astype(float) / float(income["value"])
    out["years_shown"] = [f"{y:.1f}" for y in out["years"]]
    out["income_source_id"] = income["source_id"]
    return out.sort_values(["years", "price_id"], ascending=[False, True]).reset_index(drop=True)[columns]


def income_figure(years: pd.DataFrame):
    """Horizontal bars: years of national per-capita disposable income one treatment costs."""
    import matplotlib.pyplot as plt

    from review_utils.render.figures import OKABE_ITO, placeholder

    if years.empty:
        return placeholder("No dated list price or income figure as of the edition date")
    frame = years.sort_values(["years", "price_id"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 0.9 + 0.45 * len(frame)))
    ax.barh(range(len(frame)), frame["years"], color=OKABE_ITO[0])
    for i, row in frame.iterrows():
        ax.annotate(f"{row['years_shown']} years ({format_value(float(row['value']))} CNY, {row['price_date_shown']})",
                    (row["years"], i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(frame)), list(frame["product_id"]))
    ax.set_xlabel(f"years of per-capita disposable income ({int(frame['income_year'].iloc[0])}, national)")
    ax.set_xlim(0, float(frame["years"].max()) * 1.6)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def income_chart(years: pd.DataFrame) -> charts.Chart:
    """The interactive version of :func:`income_figure`, from the same rows (its download), the
    most years at the top; the tooltip gives the product, the years, the price and its date, the
    income figure and its year, and the price's source."""
    import dataclasses

    frame = years.assign(
        price_shown=[f"{format_value(float(v))} CNY" for v in years["value"]],
        income_shown=[f"{format_value(float(v))} CNY ({int(y)})" for v, y in zip(years["income_cny"], years["income_year"])],
    )
    year = int(years["income_year"].iloc[0]) if len(years) else None
    title = "Years of per-capita disposable income" + (f" ({year}, national)" if year else "")
    chart = charts.bars(
        frame, value="years", category="product_name", value_title=title, category_title="Product",
        tooltip={"product_name": "Product", "years_shown": "Years of income", "price_shown": "List price",
                 "price_date_shown": "Price date", "income_shown": "Per-capita disposable income"},
        what="product")
    if frame.empty:
        return charts.fit_labels(dataclasses.replace(chart, summary="No product with a dated exact list price."))
    ranked = frame.sort_values(["years", "price_id"], ascending=[False, True])
    high, low = ranked.iloc[0], ranked.iloc[-1]
    summary = (f"{len(frame)} product{'' if len(frame) == 1 else 's'}, list price in years of income: "
               f"{high['product_name']} {high['years_shown']} years")
    if len(frame) > 1:
        summary += f" (the most) to {low['product_name']} {low['years_shown']} years (the fewest)"
    return charts.fit_labels(dataclasses.replace(chart, summary=summary + "."))


EXAMPLE_PARTS = ("Hu Hui Bao payout", "Out-of-pocket drug cost")


def headline_source(reimbursement: pd.DataFrame) -> str | None:
    """The source of the abstract's headline cost cut (row RB14), or None when not in the edition."""
    row = row_by_key(reimbursement, "reimb_id", HEADLINE)
    return None if row is None else row["source_id"]


def example_chart(scen: pd.DataFrame, headline_pct: float | None = None,
                  headline_source_id: str | None = None) -> charts.Chart:
    """The interactive version of :func:`example_figure`, from the same scenarios (its download):
    each scenario's list price as two stacked parts, the payout and the out-of-pocket cost (the
    legend filters them); the tooltip gives the part, its amount, the price, the payout's share
    of the price and the source of that part's input (the payout's terms; for the out-of-pocket
    cost, the price). With ``headline_pct`` (as for the figure), a dashed tick on the review's bar
    marks where the abstract's headline cost cut would put the payout."""
    import dataclasses

    import pandas as pd

    frame = scen.assign(_review=scen["scenario"] != "Review's example").sort_values(["_review", "scenario"])
    parts = []
    for row in frame.itertuples():
        for part, amount, source, how in (
                (EXAMPLE_PARTS[0], row.payout, row.payout_source_id, "payout under the scheme's terms"),
                (EXAMPLE_PARTS[1], row.out_of_pocket, row.price_source_id, "list price minus the payout")):
            parts.append({"scenario": row.scenario, "part": part, "amount": float(amount) / 1e6,
                          "amount_shown": f"{format_value(float(amount))} CNY",
                          "price_shown": f"{format_value(float(row.price))} CNY",
                          "share_shown": f"{row.reduction_pct:.1f} %", "how": how, "source_id": source})
    long = pd.DataFrame(parts, columns=["scenario", "part", "amount", "amount_shown", "price_shown", "share_shown",
                                        "how", "source_id"])
    chart = charts.bars(
        long, value="amount", category="scenario", value_title="CAR-T drug cost (million CNY)",
        category_title="Scenario",
        colour="part", colour_title="Part of the bill", colour_domain=list(EXAMPLE_PARTS),
        tooltip={"scenario": "Scenario", "part": "Part of the bill", "amount_shown": "Amount",
                 "price_shown": "List price", "share_shown": "Payout ÷ price", "how": "Worked out as"},
        what="scenario")
    said = "; ".join(f"{row.scenario}: payout {format_value(float(row.payout))} CNY of a "
                     f"{format_value(float(row.price))} CNY list price ({row.reduction_pct:.1f} %)"
                     for row in frame.itertuples())
    summary = f"{len(frame)} scenario{'' if len(frame) == 1 else 's'}" + (f" ({said})." if said else ".")
    chart = dataclasses.replace(chart, summary=summary)
    review = frame[frame["scenario"] == "Review's example"]
    if headline_pct is not None and len(review):
        price = float(review["price"].iloc[0])
        implied = price * headline_pct / 100
        chart = charts.with_ticks(
            chart, [{"scenario": "Review's example", "at": implied / 1e6,
                     "claim": f"abstract's {format_value(headline_pct)} % claim",
                     "implied": f"{format_value(implied)} CNY payout", "source_id": headline_source_id}],
            category="scenario", value="at",
            tooltip={"claim": "Headline", "implied": "Would mean",
                     **({"source_id": "Source"} if headline_source_id else {})})
    return charts.fit_labels(chart)


def access_key_findings(price_table_frame: pd.DataFrame, reimbursement: pd.DataFrame, schemes: pd.DataFrame,
                        prices: pd.DataFrame, market_figures: pd.DataFrame) -> dict[str, str]:
    """The numbers of the box that opens the chapter (MISSING where the edition lacks a row)."""
    out: dict[str, str] = {}
    listed_drugs, listed_cart = value_of(reimbursement, "reimb_id", "RB24"), value_of(reimbursement, "reimb_id", "RB25")
    out["kf_list_drugs"] = MISSING if listed_drugs is None else format_value(listed_drugs)
    out["kf_list_cart"] = MISSING if listed_cart is None else format_value(listed_cart)
    counts = huimin_bao_counts(schemes)
    out["kf_hb_schemes"], out["kf_hb_with_cart"] = format_value(counts["n_schemes"]), format_value(counts["n_with_cart"])
    out["kf_hb_cities_with_cart"] = format_value(counts["n_cities_with_cart"])
    relma = row_by_key(reimbursement, "reimb_id", "RB37")
    out["kf_relma_schemes"] = _stated_row(relma)
    comparison = us_comparison(prices, market_figures)
    paired = comparison[comparison["ratio_shown"] != ""]
    out["kf_us_ratio"] = paired["ratio_shown"].iloc[0] if len(paired) else MISSING
    out["kf_us_product"] = paired["product"].iloc[0] if len(paired) else MISSING
    years = income_years(price_table_frame, market_figures)
    out["kf_years_low"] = MISSING if years.empty else f"{years['years'].min():.1f}"
    out["kf_years_high"] = MISSING if years.empty else f"{years['years'].max():.1f}"
    treated, eligible = (row_by_key(market_figures, "figure_id", k) for k in ("MF30", "MF31"))
    out["kf_treated"] = _stated_row(treated)
    out["kf_eligible"] = _stated_row(eligible)
    return out


def china_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """Prices in China (CNY); US list prices are compared apart (:func:`us_comparison`)."""
    return prices[prices["currency"] == "CNY"]


