"""Pipeline steps as separate processes, so the benchmark can measure each one's wall time and peak memory.

    python -m bench.steps gate <warehouse> <serving folder> <quality folder> <manifest of the build>
    python -m bench.steps publish <warehouse> <serving folder> [<manifest.json of a nightly build>]
    python -m bench.steps changes <warehouse> <landing folder> <share>
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def gate(warehouse: str, serving: str, quality: str, manifest: str) -> None:
    from expectations.gate import run_quality_gate
    from orchestration.dbt.runner import settings_for_warehouse

    settings = settings_for_warehouse(Path(warehouse)).with_overrides(serving=Path(serving), quality=Path(quality))
    report = run_quality_gate(settings, "benchmark", Path(manifest))
    if not report.passed:
        raise SystemExit("quality gate failed: " + "; ".join(outcome.describe()[:300] for outcome in report.failed))


def publish(warehouse: str, serving: str, manifest: str | None = None) -> None:
    """A full refresh's publish, or with the build's manifest a night's (the rows built since, where it can)."""
    from orchestration.serving.publish import publish as publish_marts
    from orchestration.serving.publish import replace_keys

    publish_marts(Path(warehouse), Path(serving), "benchmark", [], changed_since_last=replace_keys(Path(manifest)) if manifest else None)


def changes(warehouse: str, landing: str, share: str) -> None:
    """A night's changes as new landing files, `share` of the opportunities: half of them new deals (with
    their history and activities), half existing open deals moving on a stage (a history row each); besides,
    a tenth as many deals won about a year ago get a corrected amount, and as many activities are deleted.

    A new deal is a copy of a random open deal, history and activities included, moved in time so that its
    latest history row falls on the night (as a CRM's new deals are created lately, not years ago)."""
    fraction = float(share) / 2
    folder = Path(landing)
    for table in ("opportunities", "opportunity_history", "activities"):
        (folder / table).mkdir(parents=True, exist_ok=True)
    next_stage = """case o.stage when 'Prospecting' then 'Qualification' when 'Qualification' then 'Discovery'
        when 'Discovery' then 'Proposal' when 'Proposal' then 'Negotiation' else 'Closed Won' end"""
    lineage = "_source_file, _source_line, _load_id, _loaded_at"
    with duckdb.connect(warehouse, read_only=True) as connection:
        total = connection.execute("select count(*) from raw.opportunities").fetchone()[0]
        per_kind = max(1, int(total * fraction))
        night = "(select max(changed_at) from raw.opportunity_history) + interval 1 hour"
        connection.execute(f"""create temp table new_deals as
            with templates as (
                select * from raw.opportunities where not is_closed and not coalesce(is_deleted, false)
                order by hash(opportunity_id) limit {per_kind}
            ),
            shifts as (
                select opportunity_id, {night} - max(changed_at) as shift
                from raw.opportunity_history where opportunity_id in (select opportunity_id from templates) group by 1
            )
            select templates.* exclude ({lineage}) replace ('N-' || opportunity_id as opportunity_id,
                    created_at + shift as created_at, cast(expected_close_date + shift as date) as expected_close_date,
                    updated_at + shift as updated_at),
                shift
            from templates join shifts using (opportunity_id)""")
        connection.execute(f"""create temp table moved as
            select o.* exclude ({lineage}), {next_stage} as new_stage, {night} as moved_at
            from raw.opportunities o where not o.is_closed and not coalesce(o.is_deleted, false)
            order by hash(opportunity_id, 'moved') limit {per_kind}""")
        late = max(1, per_kind // 10)
        connection.execute(f"""create temp table corrected as
            select * exclude ({lineage}) replace (round(amount * 1.1, 2) as amount,
                (select max(changed_at) from raw.opportunity_history) + interval 2 hour as updated_at)
            from raw.opportunities
            where is_won and closed_at < (select max(closed_at) from raw.opportunities) - interval 330 day
                and not coalesce(is_deleted, false)
            order by closed_at desc limit {late}""")
        connection.execute(f"""copy (
                select * exclude (shift) from new_deals
                union all
                select * exclude (new_stage, moved_at) replace (new_stage as stage, moved_at as updated_at,
                    new_stage = 'Closed Won' as is_closed, new_stage = 'Closed Won' as is_won,
                    case when new_stage = 'Closed Won' then moved_at end as closed_at)
                from moved
                union all by name
                select * from corrected
            ) to '{folder / "opportunities" / "nightly.parquet"}' (format parquet)""")
        connection.execute(f"""copy (
                select h.* exclude ({lineage}) replace ('N-' || h.opportunity_id as opportunity_id, h.changed_at + n.shift as changed_at,
                    cast(h.expected_close_date + n.shift as date) as expected_close_date)
                from raw.opportunity_history h join new_deals n on n.opportunity_id = 'N-' || h.opportunity_id
                union all
                select opportunity_id, moved_at, new_stage, amount, currency, expected_close_date, null,
                    case when new_stage = 'Closed Won' then 'closed' else forecast_category end
                from moved
                union all
                select opportunity_id, updated_at, stage, amount, currency, expected_close_date, null, 'closed' from corrected
            ) to '{folder / "opportunity_history" / "nightly.parquet"}' (format parquet)""")
        connection.execute(f"""copy (
                select a.* exclude ({lineage}) replace ('N-' || a.activity_id as activity_id, 'N-' || a.opportunity_id as opportunity_id,
                    a.occurred_at + n.shift as occurred_at)
                from raw.activities a join new_deals n on n.opportunity_id = 'N-' || a.opportunity_id
                union all
                select * exclude ({lineage}) replace (true as is_deleted,
                    (select max(changed_at) from raw.opportunity_history) + interval 2 hour as updated_at)
                from raw.activities where not coalesce(is_deleted, false) order by hash(activity_id, 'deleted') limit {late}
            ) to '{folder / "activities" / "nightly.parquet"}' (format parquet)""")


if __name__ == "__main__":
    {"gate": gate, "publish": publish, "changes": changes}[sys.argv[1]](*sys.argv[2:])
