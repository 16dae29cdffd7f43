"""The reference: the core KPI subset in hand-written DuckDB SQL straight from the raw tables, one query
each, the same definitions as the marts (business time zone, FX at the close month's rate, the same
exclusions). It is the closest thing to the machine's limit for these numbers.

    python -m bench.core_kpis_reference <warehouse.duckdb> <out folder>
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

TIMEZONE = "Europe/Copenhagen"
RATES = """
    with landed as (select upper(currency) as currency, rate_month, rate from raw.fx_rates),
    rates as (
        select * from landed
        union all
        select upper(s.currency), s.rate_month, s.rate from reference.fx_rates s
        where not exists (select 1 from landed l where l.currency = upper(s.currency) and l.rate_month = s.rate_month)
    ),
    to_reporting as (
        select rates.currency, rates.rate_month, rates.rate / eur.rate as rate
        from rates join rates eur on eur.currency = 'EUR' and eur.rate_month = rates.rate_month
    )"""
CLOSED_DEALS = f"""{RATES},
    deals as (
        select o.owner_id, o.is_won, o.closed_at < o.created_at as before_creation,
            cast(timezone('{TIMEZONE}', timezone('UTC', o.created_at)) as date) as created_date,
            cast(timezone('{TIMEZONE}', timezone('UTC', o.closed_at)) as date) as close_date,
            o.amount, upper(o.currency) as currency
        from raw.opportunities o
        join reference.opportunity_stages s on s.stage = o.stage
        where not coalesce(o.is_deleted, false) and coalesce(o.is_closed, false) and o.closed_at is not null and o.amount >= 0
    ),
    converted as (
        select d.*, date_trunc('month', d.close_date) as period_month, d.amount * r.rate as amount_eur
        from deals d join to_reporting r on r.currency = d.currency and r.rate_month = date_trunc('month', d.close_date)
    )"""

QUERIES = {
    "win_rate": f"""{CLOSED_DEALS}
        select period_month, owner_id, count(*) filter (where is_won) as won_count, count(*) filter (where not is_won) as lost_count,
            coalesce(sum(amount_eur) filter (where is_won), 0) as won_amount, coalesce(sum(amount_eur) filter (where not is_won), 0) as lost_amount
        from converted group by all""",
    "average_deal_size": f"""{CLOSED_DEALS}
        select period_month, owner_id, count(*) as won_count, sum(amount_eur) as won_amount, sum(amount_eur) / count(*) as average_deal_size
        from converted where is_won group by all""",
    "sales_cycle": f"""{CLOSED_DEALS}
        select period_month, owner_id, count(*) filter (where is_won) as won_count,
            coalesce(sum(close_date - created_date) filter (where is_won), 0) as won_cycle_days_sum
        from converted where not before_creation group by all""",
    "activities_per_week": f"""
        select date_trunc('week', cast(timezone('{TIMEZONE}', timezone('UTC', occurred_at)) as date)) as period_start, owner_id,
            count(*) as activity_count
        from raw.activities
        where coalesce(completed, false) and not coalesce(is_deleted, false) and owner_id is not null
        group by all""",
}


def main(warehouse: str, out: str) -> None:
    out_folder = Path(out)
    out_folder.mkdir(parents=True, exist_ok=True)
    seconds = {}
    with duckdb.connect(warehouse, read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        for name, query in QUERIES.items():
            started = time.perf_counter()
            connection.execute(f"copy ({query}) to '{out_folder / (name + '.parquet')}' (format parquet)")
            seconds[name] = time.perf_counter() - started
    (out_folder / "seconds.json").write_text(json.dumps(seconds))


if __name__ == "__main__":
    main(*sys.argv[1:3])
