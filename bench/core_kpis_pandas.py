"""The naive baseline a user might write instead: read the landed Parquet files with pandas and group
by, same definitions as the marts. Reads only the columns it needs (a fair, not a foolish, baseline).

    python -m bench.core_kpis_pandas <landing folder> <fx_rates.csv> <opportunity_stages.csv> <out folder>
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

TIMEZONE = "Europe/Copenhagen"


def local_dates(utc: pd.Series) -> pd.Series:
    return utc.dt.tz_localize("UTC").dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()


def main(landing: str, fx_rates: str, stages: str, out: str) -> None:
    out_folder = Path(out)
    out_folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    deals = pd.read_parquet(Path(landing) / "opportunities", columns=[
        "owner_id", "stage", "amount", "currency", "created_at", "closed_at", "is_closed", "is_won", "is_deleted"])
    rates = pd.read_csv(fx_rates, parse_dates=["rate_month"])
    eur = rates[rates.currency == "EUR"][["rate_month", "rate"]].rename(columns={"rate": "eur_rate"})
    rates = rates.merge(eur, on="rate_month")
    rates["to_eur"] = rates["rate"] / rates["eur_rate"]
    known_stages = set(pd.read_csv(stages)["stage"])

    deals = deals[~deals.is_deleted.fillna(False).astype(bool) & deals.is_closed.fillna(False).astype(bool)
                  & deals.closed_at.notna() & (deals.amount >= 0) & deals.stage.isin(known_stages)].copy()
    deals["created_date"] = local_dates(deals.created_at)
    deals["close_date"] = local_dates(deals.closed_at)
    deals["period_month"] = deals.close_date.dt.to_period("M").dt.to_timestamp()
    deals["currency"] = deals.currency.str.upper()
    deals = deals.merge(rates[["currency", "rate_month", "to_eur"]], left_on=["currency", "period_month"],
                        right_on=["currency", "rate_month"])
    deals["amount_eur"] = deals.amount.astype(float) * deals.to_eur
    deals["won_amount"] = deals.amount_eur.where(deals.is_won, 0.0)
    deals["lost_amount"] = deals.amount_eur.where(~deals.is_won, 0.0)
    deals["won"] = deals.is_won.astype(int)
    deals["lost"] = (~deals.is_won).astype(int)
    win_rate = deals.groupby(["period_month", "owner_id"], as_index=False).agg(
        won_count=("won", "sum"), lost_count=("lost", "sum"), won_amount=("won_amount", "sum"), lost_amount=("lost_amount", "sum"))
    won = deals[deals.is_won]
    deal_size = won.groupby(["period_month", "owner_id"], as_index=False).agg(won_count=("won", "sum"), won_amount=("amount_eur", "sum"))
    deal_size["average_deal_size"] = deal_size.won_amount / deal_size.won_count
    cycle = deals[deals.closed_at >= deals.created_at].copy()
    cycle["won_cycle_days"] = ((cycle.close_date - cycle.created_date).dt.days).where(cycle.is_won, 0)
    sales_cycle = cycle.groupby(["period_month", "owner_id"], as_index=False).agg(
        won_count=("won", "sum"), won_cycle_days_sum=("won_cycle_days", "sum"))

    activities = pd.read_parquet(Path(landing) / "activities", columns=["owner_id", "occurred_at", "completed", "is_deleted"])
    activities = activities[activities.completed.fillna(False).astype(bool) & ~activities.is_deleted.fillna(False).astype(bool)
                            & activities.owner_id.notna()].copy()
    dates = local_dates(activities.occurred_at)
    activities["period_start"] = dates - pd.to_timedelta(dates.dt.weekday, unit="D")
    per_week = activities.groupby(["period_start", "owner_id"], as_index=False).size().rename(columns={"size": "activity_count"})
    seconds = time.perf_counter() - started

    for name, frame in {"win_rate": win_rate, "average_deal_size": deal_size, "sales_cycle": sales_cycle,
                        "activities_per_week": per_week}.items():
        frame.to_parquet(out_folder / f"{name}.parquet", index=False)
    (out_folder / "seconds.json").write_text(json.dumps({"total": seconds}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
