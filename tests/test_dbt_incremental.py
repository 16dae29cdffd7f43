"""Building twice changes nothing; an incremental build after new landed data equals a full refresh."""

from __future__ import annotations

import json
import math
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt.runner import dbt_target_dir, run_dbt
from orchestration.generator import GeneratorSettings, generate_landing
from orchestration.landing import land_directory
from orchestration.serving.client_format import storage_version_number
from orchestration.serving.publish import publish, replace_keys, serving_file_changes

pytestmark = pytest.mark.seconds(210)

AS_OF = date(2026, 6, 30)
SEEDS = Path(__file__).parent.parent / "seeds"
INCREMENTAL_MODELS = ("int_opportunity_history_intervals", "int_activities_enriched", "int_opportunity_stage_visits",
                      "int_opportunities_enriched", "int_lead_conversions", "int_mrr_account_months", "int_pipeline_snapshots",
                      "int_activity_level_counts")
# the marts replaced by key or by period_month, and the folder of each under models/
INCREMENTAL_MARTS = {"fct_opportunities": "marts/facts", "fct_leads": "marts/facts", "fct_activities": "marts/facts",
                     "fct_kpi_win_rate": "marts/sales", "fct_kpi_average_deal_size": "marts/sales",
                     "fct_kpi_sales_cycle": "marts/sales", "fct_kpi_pipeline_created": "marts/sales",
                     "fct_kpi_win_rate_by_lost_reason": "marts/sales"}
# appended to by each build, so never what a full refresh builds: the month versions the marts by period read, the
# activity versions the activity counts read
RECORDS = ("int_opportunity_month_versions", "int_activity_versions")
KEPT_ACROSS_BUILDS = (*INCREMENTAL_MODELS, *INCREMENTAL_MARTS, *RECORDS)


def build(warehouse: Path, *extra: str) -> None:
    result = run_dbt(["build", *extra], warehouse, quiet=True, as_of=AS_OF)
    assert result.returncode == 0, result.stdout[-3000:]


def normalised(value: object) -> object:
    # float sums may differ in the last bits with the order DuckDB's threads add them in; cents do not
    return round(value, 6) if isinstance(value, float) and math.isfinite(value) else value


def live_rows(connection: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """A table's rows as readers see them: an incremental model's tombstones (a soft delete that replaced its
    activity's row, macros/incremental.sql) are no rows for its readers, and a full refresh writes none. The
    row's landing time and build time are no part of it (a full refresh builds every row again)."""
    tombstones = " where not is_tombstone" if table.endswith("int_activities_enriched") else ""
    times = [column for column in ("loaded_at", "built_at") if column in connection.table(table).columns]
    excluded = f" exclude ({', '.join(times)})" if times else ""
    return connection.execute(f"select *{excluded} from {table}{tombstones}").fetchall()


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart and every incremental model, rows sorted."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = [f"marts.{name}" for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        tables += [f"intermediate.{name}" for name in INCREMENTAL_MODELS]
        return {
            table: sorted(
                (tuple(normalised(value) for value in row) for row in live_rows(connection, table)),
                key=repr)
            for table in tables
        }


LINEAGE = "_source_file, _source_line, _load_id, _loaded_at"


def land_changes(warehouse: Path, landing: Path) -> dict[str, int]:
    """A night's changes as new landing files, each kind an incremental design can get wrong:
    - open deals move on a stage (new history rows and updated opportunity rows), some of them to Closed Won;
    - new deals arrive with their history and activities;
    - deals won a year ago change their amount (a late correction of a closed month);
    - lost deals are reopened (a closed month loses them, the open pipeline gains them);
    - new activities arrive, some activities are soft-deleted;
    - a late FX rate revises a past month's USD rate;
    - subscriptions change their MRR, one of them ends, one moves to another account (its old one has fewer);
    - deals are deleted;
    - won deals name leads that had no deal (the leads convert and become customers);
    - accounts change segment (their deals' rows change, the deals do not), one account is deleted (its deals are
      orphans now), and leads change source (their deals' lead source changes)."""
    for table in ("opportunity_history", "opportunities", "activities", "fx_rates", "subscriptions", "accounts", "leads"):
        (landing / table).mkdir(parents=True, exist_ok=True)
    next_stage = """case o.stage when 'Prospecting' then 'Qualification' when 'Qualification' then 'Discovery'
        when 'Discovery' then 'Proposal' when 'Proposal' then 'Negotiation' else 'Closed Won' end"""
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"""create temp table moved as
            select o.*, {next_stage} as new_stage, timestamp '2026-06-30 12:00:00' as changed_at
            from raw.opportunities o where not o.is_closed and not coalesce(o.is_deleted, false)
            order by opportunity_id limit 40""")
        connection.execute(f"""create temp table corrected as
            select * exclude ({LINEAGE}) replace (round(amount * 1.5, 2) as amount, timestamp '2026-06-30 12:10:00' as updated_at)
            from raw.opportunities
            where is_won and closed_at >= timestamp '2025-05-01' and closed_at < timestamp '2025-07-01' and not coalesce(is_deleted, false)
            order by opportunity_id limit 5""")
        connection.execute(f"""create temp table reopened as
            select * exclude ({LINEAGE}) replace ('Negotiation' as stage, false as is_closed, false as is_won,
                cast(null as timestamp) as closed_at, timestamp '2026-06-30 12:20:00' as updated_at)
            from raw.opportunities
            where is_closed and not is_won and closed_at >= timestamp '2026-01-01' and not coalesce(is_deleted, false)
            order by opportunity_id limit 3""")
        connection.execute(f"""create temp table deleted_deals as
            select * exclude ({LINEAGE}) replace (true as is_deleted, timestamp '2026-06-30 12:40:00' as updated_at)
            from raw.opportunities where not coalesce(is_deleted, false) order by hash(opportunity_id || 'deleted') limit 4""")
        connection.execute(f"""create temp table new_deals as
            select * exclude ({LINEAGE}) replace ('N-' || opportunity_id as opportunity_id)
            from raw.opportunities where not is_closed and not coalesce(is_deleted, false) order by hash(opportunity_id) limit 10""")
        # won deals (copies of the newest won ones) name old leads nothing converted before: the leads convert
        connection.execute(f"""create temp table lead_takeovers as
            with leads as (
                select lead_id, row_number() over (order by created_at, lead_id) as pair
                from raw.leads
                where converted_at is null and converted_opportunity_id is null and converted_account_id is null
                    and not coalesce(is_deleted, false)
                    and lead_id not in (select lead_id from raw.opportunities where lead_id is not null)
                order by created_at, lead_id limit 3
            ),
            won as (
                select *, row_number() over (order by created_at desc, opportunity_id) as pair
                from raw.opportunities
                where opportunity_id in (select opportunity_id from intermediate.int_opportunities_enriched where is_won and is_kpi_eligible)
                order by created_at desc, opportunity_id limit 3
            )
            select won.* exclude ({LINEAGE}, pair, lead_id) replace (
                    'TAKEOVER-' || won.opportunity_id as opportunity_id, timestamp '2026-06-30 13:10:00' as updated_at),
                leads.lead_id
            from won join leads using (pair)""")
        connection.execute(f"""copy (
                select opportunity_id, changed_at, new_stage as stage, amount, currency, expected_close_date,
                    null::double as probability, case when new_stage = 'Closed Won' then 'closed' else forecast_category end as forecast_category
                from moved
                union all
                select opportunity_id, updated_at, stage, amount, currency, expected_close_date, null, 'closed' from corrected
                union all
                select opportunity_id, updated_at, stage, amount, currency, expected_close_date, null, 'commit' from reopened
                union all
                select h.* exclude ({LINEAGE}) replace ('N-' || h.opportunity_id as opportunity_id)
                from raw.opportunity_history h semi join new_deals n on n.opportunity_id = 'N-' || h.opportunity_id
                union all
                select h.* exclude ({LINEAGE}) replace ('TAKEOVER-' || h.opportunity_id as opportunity_id)
                from raw.opportunity_history h semi join lead_takeovers t on t.opportunity_id = 'TAKEOVER-' || h.opportunity_id
            ) to '{landing / "opportunity_history" / "changes.parquet"}' (format parquet)""")
        connection.execute(f"""copy (
                select * exclude (new_stage, changed_at, {LINEAGE})
                    replace (new_stage as stage, changed_at as updated_at,
                             new_stage = 'Closed Won' as is_closed, new_stage = 'Closed Won' as is_won,
                             case when new_stage = 'Closed Won' then changed_at end as closed_at)
                from moved
                union all by name select * from corrected
                union all by name select * from reopened
                union all by name select * from new_deals
                union all by name select * from lead_takeovers
                union all by name select * from deleted_deals
            ) to '{landing / "opportunities" / "changes.parquet"}' (format parquet)""")
        # completed activities alone in their rep's week, handed to another rep and moved 40 days on: the old owner-week
        # and owner-month must lose them (the week its only row), the new ones gain them
        connection.execute(f"""create temp table moved_activities as
            select * exclude ({LINEAGE}) replace (occurred_at + interval 40 day as occurred_at,
                (select min(user_id) from raw.users where user_id <> owner_id) as owner_id, timestamp '2026-06-29 15:00:00' as updated_at)
            from raw.activities
            where activity_id in (
                select min(activity_id) from raw.activities
                where completed and not coalesce(is_deleted, false) and activity_id not in (
                    select activity_id from raw.activities where not coalesce(is_deleted, false) order by activity_id desc limit 25)
                group by owner_id, date_trunc('week', occurred_at - interval 1 day) having count(*) = 1
                order by hash(min(activity_id)) limit 5)""")
        connection.execute(f"""copy (
                select * from moved_activities
                union all
                select 'NEW-' || activity_id as activity_id, activity_type, occurred_at + interval 3 day as occurred_at, completed,
                    owner_id, account_id, opportunity_id, lead_id, duration_minutes, timestamp '2026-06-29 13:00:00' as updated_at,
                    false as is_deleted
                from (select * from raw.activities where not coalesce(is_deleted, false) order by activity_id limit 60)
                union all
                select activity_id, activity_type, occurred_at, completed, owner_id, account_id, opportunity_id, lead_id,
                    duration_minutes, timestamp '2026-06-29 14:00:00', true
                from (select * from raw.activities where not coalesce(is_deleted, false) order by activity_id desc limit 25)
                union all
                select a.* exclude ({LINEAGE}) replace ('N-' || a.activity_id as activity_id, 'N-' || a.opportunity_id as opportunity_id)
                from raw.activities a semi join new_deals n on n.opportunity_id = 'N-' || a.opportunity_id
            ) to '{landing / "activities" / "changes.parquet"}' (format parquet)""")
        # the finance team's late rate for a past month: 10 % off the seed's
        usd_may = connection.execute(f"select rate from read_csv('{SEEDS / 'fx_rates.csv'}') "
                                     "where currency = 'USD' and rate_month = date '2025-05-01'").fetchone()[0]
        (landing / "fx_rates" / "late_rate.csv").write_text(f"currency,rate_month,rate\nUSD,2025-05-01,{float(usd_may) * 1.1:.8f}\n")
        # a running subscription of an account with several moves to another account
        connection.execute("""create temp table moved_subscription as
            select * from raw.subscriptions
            where end_date is null and account_id in (select account_id from raw.subscriptions group by 1 having count(*) > 1)
                and account_id <> (select max(account_id) from raw.subscriptions)
            order by subscription_id desc limit 1""")
        connection.execute(f"""copy (
                select * from (
                    select * exclude ({LINEAGE}) replace (round(mrr_amount * 2, 2) as mrr_amount, timestamp '2026-06-30 12:30:00' as updated_at,
                        case when subscription_id = min(subscription_id) over () then date '2026-03-31' else end_date end as end_date)
                    from raw.subscriptions where end_date is null order by subscription_id limit 5)
                union all
                select * exclude ({LINEAGE}) replace (
                    (select max(account_id) from raw.subscriptions) as account_id, timestamp '2026-06-30 12:35:00' as updated_at)
                from moved_subscription
            ) to '{landing / "subscriptions" / "changes.parquet"}' (format parquet)""")
        # accounts with open deals move segment; the first of them is deleted instead
        connection.execute(f"""copy (
                select * exclude ({LINEAGE}) replace (
                    case when row_number() over (order by account_id) = 1 then true else coalesce(is_deleted, false) end as is_deleted,
                    case segment when 'SMB' then 'Mid-Market' when 'Mid-Market' then 'Enterprise' else 'SMB' end as segment,
                    timestamp '2026-06-30 12:50:00' as updated_at)
                from raw.accounts
                where account_id in (select account_id from raw.opportunities where not is_closed) and not coalesce(is_deleted, false)
                order by account_id limit 4
            ) to '{landing / "accounts" / "changes.parquet"}' (format parquet)""")
        connection.execute(f"""copy (
                select * exclude ({LINEAGE}) replace (
                    case source when 'referral' then 'webinar' else 'referral' end as source, timestamp '2026-06-30 13:00:00' as updated_at)
                from raw.leads
                where lead_id in (select lead_id from raw.opportunities) and not coalesce(is_deleted, false)
                order by lead_id limit 6
            ) to '{landing / "leads" / "changes.parquet"}' (format parquet)""")
        subscription_moved_from = connection.execute("select account_id from moved_subscription").fetchone()[0]
        moved_activities = connection.execute("""select a.owner_id, e.occurred_week from moved_activities m
            join raw.activities a using (activity_id) join intermediate.int_activities_enriched e using (activity_id)""").fetchall()
        moved = connection.execute("select count(*), count(*) filter (where new_stage = 'Closed Won') from moved").fetchone()
        counts = {name: connection.execute(f"select count(*) from {name}").fetchone()[0]
                  for name in ("corrected", "reopened", "new_deals", "deleted_deals", "lead_takeovers")}
        counts["reopened_in_kpis"] = connection.execute("""select count(*) from intermediate.int_opportunities_enriched
            where is_kpi_eligible and opportunity_id in (select opportunity_id from reopened)""").fetchone()[0]
    report = land_directory(landing, warehouse)
    assert report.invariant_holds and report.rows_rejected == 0, report
    return {"moved": moved[0], "won": moved[1], "subscription_moved_from": subscription_moved_from,
            "moved_activities": moved_activities, **counts}


def reached_the_deals(warehouse: Path, subscription_moved_from: str) -> dict[str, tuple[int, int]]:
    """For each change to a deal's account or lead, to the deal's existence, to what a deal decides of a lead or to
    an account's subscriptions: (rows it concerns, rows that do not show it yet) after the incremental build."""
    checks = {
        "deleted_deals": """select count(*), count(*) filter (where e.opportunity_id is not null)
            from raw.opportunities o left join intermediate.int_opportunities_enriched e using (opportunity_id)
            where o.is_deleted and o.updated_at = timestamp '2026-06-30 12:40:00'""",
        "orphaned_by_deleted_account": """select count(*), count(*) filter (where not e.is_orphan_account)
            from intermediate.int_opportunities_enriched e join raw.accounts a using (account_id)
            where a.is_deleted and a.updated_at = timestamp '2026-06-30 12:50:00'""",
        "account_segment_moved": """select count(*), count(*) filter (where e.segment is distinct from a.segment)
            from intermediate.int_opportunities_enriched e join raw.accounts a using (account_id)
            where not a.is_deleted and a.updated_at = timestamp '2026-06-30 12:50:00'""",
        "lead_source_changed": """select count(*), count(*) filter (where e.lead_source is distinct from l.lead_source)
            from intermediate.int_opportunities_enriched e join intermediate.int_leads_unioned l using (lead_id)
            join raw.leads r using (lead_id) where r.updated_at = timestamp '2026-06-30 13:00:00'""",
        # the old leads a new won deal names converted and are customers
        "new_deal_converted_a_lead": """select count(*), count(*) filter (where c.deciding_opportunity_id is distinct from o.opportunity_id
                or not c.is_converted or not c.is_customer)
            from raw.opportunities o left join intermediate.int_lead_conversions c using (lead_id)
            where o.opportunity_id like 'TAKEOVER-%'""",
        # the leads a deal moved to Closed Won decides are customers now
        "deal_won_made_a_customer": """select count(*), count(*) filter (where not c.is_customer)
            from intermediate.int_lead_conversions c join intermediate.int_opportunities_enriched e
                on c.deciding_opportunity_id = e.opportunity_id
            where e.is_won and e.is_kpi_eligible and e.updated_at = timestamp '2026-06-30 12:00:00'""",
        # the account a subscription moved away from is rebuilt from the subscriptions it has left
        "subscription_moved_away": """select count(*), count(*) filter (where m.subscription_count <> s.remaining)
            from (select account_id, count(*) as remaining from intermediate.int_subscriptions_unioned group by account_id) s
            join (select distinct account_id, subscription_count from intermediate.int_mrr_account_months) m using (account_id)
            where account_id = '{subscription_moved_from}'""",
    }
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {name: connection.execute(sql.format(subscription_moved_from=subscription_moved_from)).fetchone()
                for name, sql in checks.items()}


def data_tests_run(warehouse: Path) -> dict[str, dict[str, str]]:
    """The generic data tests of the last dbt invocation on `warehouse`: name -> the model tested, the test's kind
    and its compiled SQL (dbt's run_results.json and manifest.json)."""
    target = dbt_target_dir(warehouse)
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    tests = {}
    for result in json.loads((target / "run_results.json").read_text())["results"]:
        node = nodes.get(result["unique_id"], {})
        if node.get("resource_type") == "test" and node.get("test_metadata") and node.get("attached_node"):
            tests[node["name"]] = {"model": nodes[node["attached_node"]]["name"], "kind": node["test_metadata"]["name"],
                                   "sql": result["compiled_code"]}
    return tests


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> dict[str, dict[str, list[tuple]]]:
    root = tmp_path_factory.mktemp("incremental")
    warehouse, landing = root / "warehouse.duckdb", root / "landing"
    generate_landing(GeneratorSettings(1500, 5, AS_OF), landing, "parquet")
    land_directory(landing, warehouse)
    build(warehouse)
    first = snapshot(warehouse)
    build(warehouse)
    second = snapshot(warehouse)
    manifest = dbt_target_dir(warehouse) / "manifest.json"
    publishes = {"before": publish(warehouse, root / "serving", "before", [], changed_since_last=replace_keys(manifest))}
    for folder in landing.iterdir():  # only the changes are new to the landing folder's checksums anyway
        for file in folder.iterdir():
            file.unlink()
    changes = land_changes(warehouse, landing)
    build(warehouse)
    incremental = snapshot(warehouse)
    # the night's warehouse and data tests, for the tests of what a nightly build tests
    (root / "nightly").mkdir()
    shutil.copy(warehouse, root / "nightly" / warehouse.name)  # the same name: the tests' SQL names its catalog
    # the night's publish (the rows built since, into a copy of the last serving file) and a full one of the same marts
    publishes["night"] = publish(warehouse, root / "serving", "night", [], changed_since_last=replace_keys(manifest))
    publishes["full"] = publish(warehouse, root / "serving_full", "full", [])
    changes["publishes"] = publishes
    changes["nightly_tests"] = data_tests_run(warehouse)
    changes["manifest"] = json.loads((dbt_target_dir(warehouse) / "manifest.json").read_text())
    changes["reached"] = reached_the_deals(warehouse, changes["subscription_moved_from"])
    changes["incremental_sql"] = {
        model: "\n".join((dbt_target_dir(warehouse) / kind / "crm_kpis" / "models" / folder / f"{model}.sql").read_text()
                         for kind in ("compiled", "run"))
        for model, folder in [*((model, "intermediate") for model in INCREMENTAL_MODELS), *INCREMENTAL_MARTS.items()]}
    (root / "skipped").mkdir()
    shutil.copy(warehouse, root / "skipped" / warehouse.name)
    build(warehouse, "--full-refresh")
    full = snapshot(warehouse)
    changes["full_refresh_tests"] = data_tests_run(warehouse)
    return {"first": first, "second": second, "incremental": incremental, "full": full, "changes": changes,
            "warehouse": warehouse, "nightly": root / "nightly" / warehouse.name, "skipped": root / "skipped" / warehouse.name}


def test_building_twice_changes_nothing(warehouses):
    assert warehouses["first"].keys() == warehouses["second"].keys()
    for table, rows in warehouses["first"].items():
        assert rows == warehouses["second"][table], table


def test_incremental_build_after_new_data_equals_a_full_refresh(warehouses):
    changes = warehouses["changes"]
    assert changes["moved"] == 40 and changes["won"] > 0 and (changes["corrected"], changes["reopened"], changes["new_deals"]) == (5, 3, 10)
    assert changes["deleted_deals"] == 4 and changes["lead_takeovers"] == 3
    for change, (deals, not_shown) in changes["reached"].items():
        assert deals > 0 and not_shown == 0, (change, deals, not_shown)
    for model, sql in warehouses["changes"]["incremental_sql"].items():
        # the third build really took the incremental path: a watermark query, then delete+insert into the table
        assert re.search(r"max\(((source_)?loaded_at|built_at)\)", sql) and "delete from" in sql.lower(), model
    for table, rows in warehouses["full"].items():
        assert rows == warehouses["incremental"][table], table


def test_the_new_data_reached_the_marts(warehouses):
    before, after = warehouses["second"], warehouses["incremental"]
    # 60 new completed-or-not activities minus 25 deleted; the moved deals changed the pipeline and the wins
    activities_before = len(before["intermediate.int_activities_enriched"])
    new_deal_activities = sum(1 for row in after["marts.fct_activities"] if str(row[0]).startswith("N-"))
    assert new_deal_activities > 0
    assert len(after["intermediate.int_activities_enriched"]) == activities_before + 60 - 25 + new_deal_activities
    assert len(after["intermediate.int_opportunity_history_intervals"]) > len(before["intermediate.int_opportunity_history_intervals"]) + 40 + 5 + 3
    # the owner-weeks the moved activities were alone in are gone from the activity level
    moved_from = warehouses["changes"]["moved_activities"]
    weeks_before, weeks_after = ({(row[2], row[1]) for row in snapshot["marts.fct_kpi_activity_level"] if row[0] == "week"}
                                 for snapshot in (before, after))
    assert len(moved_from) == 5 and set(moved_from) <= weeks_before and set(moved_from) - weeks_after, moved_from
    assert after["marts.fct_kpi_pipeline_value"] != before["marts.fct_kpi_pipeline_value"]
    assert after["marts.fct_kpi_recurring_revenue"] != before["marts.fct_kpi_recurring_revenue"]

    def month(table: str, period: date) -> list[tuple]:
        return [row for row in after[table] if row[0] == period], [row for row in before[table] if row[0] == period]

    assert warehouses["changes"]["reopened_in_kpis"] > 0
    # a year-old month moved (late amount corrections and the late USD rate); this year's lost the reopened deals
    may_2025 = month("marts.fct_kpi_win_rate", date(2025, 5, 1))
    assert may_2025[0] != may_2025[1]
    assert sum(row[7] for row in after["marts.fct_kpi_win_rate"] if row[0] >= date(2026, 1, 1)) == \
        sum(row[7] for row in before["marts.fct_kpi_win_rate"] if row[0] >= date(2026, 1, 1)) - warehouses["changes"]["reopened_in_kpis"]


def test_a_new_as_of_date_gives_what_a_full_refresh_gives(warehouses):
    """When the as-of date moves (mid-July, then into August), every running subscription has new months and every
    last month of MRR a churn month, the previous as-of snapshot of the pipeline is gone (mid-July is no month end)
    and the month ends passed and the new as-of date are snapshotted: the incremental MRR and snapshots equal a full
    refresh at the new as-of date."""
    warehouse, mid_july, later = warehouses["warehouse"], date(2026, 7, 15), date(2026, 8, 3)
    models = ("int_mrr_account_months", "int_pipeline_snapshots")

    def rows(*extra: str, as_of: date = later) -> dict[str, list[tuple]]:
        result = run_dbt(["run", "--select", *models, *extra], warehouse, quiet=True, as_of=as_of)
        assert result.returncode == 0, result.stdout[-3000:]
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return {model: sorted(live_rows(connection, f"intermediate.{model}"), key=repr) for model in models}

    assert mid_july in {row[0] for row in rows(as_of=mid_july)["int_pipeline_snapshots"]}
    incremental = rows()
    assert max(row[1] for row in incremental["int_mrr_account_months"]) == date(2026, 8, 1)
    snapshot_dates = {row[0] for row in incremental["int_pipeline_snapshots"]}
    assert snapshot_dates >= {date(2026, 6, 30), date(2026, 7, 31), later} and mid_july not in snapshot_dates
    assert incremental == rows("--full-refresh")


def served_differences(left: Path, right: Path, marts: list[str]) -> dict[str, int]:
    """Per mart, the rows one publish serves and the other does not (both ways), in the serving files and in
    their Parquet exports."""
    with duckdb.connect() as connection:
        for name, record in (("l", left), ("r", right)):
            connection.execute(f"attach '{record}' as {name} (read_only)")
        folders = {name: record.parent / "parquet" / "current" for name, record in (("l", left), ("r", right))}
        differences = {}
        for mart in marts:
            for kind, (a, b) in {"table": (f"l.marts.{mart}", f"r.marts.{mart}"),
                                 "parquet": (f"read_parquet('{folders['l'] / mart}.parquet')", f"read_parquet('{folders['r'] / mart}.parquet')")}.items():
                differences[f"{mart} {kind}"] = connection.execute(
                    f"select count(*) from ((select * from {a} except all select * from {b}) union all "
                    f"(select * from {b} except all select * from {a}))").fetchone()[0]
    return {name: count for name, count in differences.items() if count}


def test_a_nightly_publish_applies_the_rows_built_since_and_serves_what_a_full_publish_serves(warehouses, tmp_path):
    """The night's publish starts from a copy of the last serving file and applies to the marts kept across builds
    only the rows built since (deleted deals, a deleted activity, rebuilt months among them); every mart and every
    Parquet file equals a full publish of the same warehouse, the checksums it records hold, the log keeps every
    publish and the file keeps the clients' storage format. A served copy changed behind the publish's back is
    found by its checksum and copied whole."""
    publishes = warehouses["changes"]["publishes"]
    night, full = publishes["night"], publishes["full"]
    marts = sorted(full.row_counts)
    assert sorted(night.changes_applied) == sorted(INCREMENTAL_MARTS)
    assert night.row_counts == full.row_counts
    assert served_differences(night.serving_file, full.serving_file, marts) == {}
    assert all(change["intact"] for change in serving_file_changes(night.serving_file))
    assert storage_version_number(night.serving_file) == storage_version_number(full.serving_file) == 64
    with duckdb.connect(str(night.serving_file), read_only=True) as connection:
        assert connection.execute("select run_id from meta.publish_log order by published_at").fetchall() == [("before",), ("night",)]
    # a mart the night did not change keeps its Parquet file (linked), and only such a mart
    assert night.parquet_linked and set(night.parquet_linked) < set(marts)

    tampered = tmp_path / "serving"
    shutil.copytree(night.serving_file.parent, tampered, symlinks=True)
    (tampered / night.serving_file.name).chmod(0o644)
    with duckdb.connect(str(tampered / night.serving_file.name)) as connection:
        connection.execute("update marts.fct_activities set activity_type = 'tampered' where activity_id = (select min(activity_id) from marts.fct_activities)")
        connection.execute("delete from marts.fct_kpi_win_rate where period_month = (select min(period_month) from marts.fct_kpi_win_rate)")
    again = publish(warehouses["nightly"], tampered, "again", [], changed_since_last=replace_keys(dbt_target_dir(warehouses["warehouse"]) / "manifest.json"))
    assert served_differences(again.serving_file, full.serving_file, marts) == {}
    assert {"fct_activities", "fct_kpi_win_rate"}.isdisjoint(again.changes_applied)
    assert set(again.changes_applied) == set(INCREMENTAL_MARTS) - {"fct_activities", "fct_kpi_win_rate"}


def test_a_month_fact_that_missed_a_night_rebuilds_the_months_it_saw(warehouses, tmp_path):
    """A night whose build skips the month-grain facts (as a failed build would) while won deals move to another close
    month, then a night that moves them again: the facts rebuild the months they last saw the deals in, two versions
    back (int_opportunity_month_versions keeps every version), and equal a full refresh. The first of those nights
    lands every deal again, so the record then holds more versions than the compaction allows: the second night's
    build drops the versions no fact can ask for (older than a deal's latest one up to the facts' watermark)."""
    warehouse = warehouses["skipped"]
    month_facts = [name for name, folder in INCREMENTAL_MARTS.items() if folder == "marts/sales"]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        deals = [deal for (deal,) in connection.execute("""select opportunity_id from intermediate.int_opportunities_enriched
            where is_won and is_kpi_eligible and close_month >= date '2025-07-01' order by opportunity_id limit 6""").fetchall()]
    assert len(deals) == 6

    def move_and_build(night: int, *extra: str, every_deal: bool = False) -> None:
        landing = tmp_path / f"night{night}" / "opportunities"
        landing.mkdir(parents=True)
        moved = "opportunity_id in (" + ", ".join(f"'{deal}'" for deal in deals) + ")"
        with duckdb.connect(str(warehouse)) as connection:
            connection.execute(f"""copy (
                    select * exclude ({LINEAGE}) replace (
                        case when {moved} then closed_at + interval {2 * night + 1} month else closed_at end as closed_at,
                        timestamp '2026-06-30 2{night}:00:00' as updated_at)
                    from raw.opportunities where {'true' if every_deal else moved}
                ) to '{landing / "moved.parquet"}' (format parquet)""")
            landed = connection.execute(f"select count(*) from raw.opportunities where {'true' if every_deal else moved}").fetchone()[0]
        report = land_directory(landing.parent, warehouse)
        assert report.invariant_holds and report.rows_landed == landed, report
        build(warehouse, *extra)

    def facts_watermark() -> datetime:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return connection.execute("select least(" + ", ".join(f"(select max(built_at) from marts.{fact})" for fact in month_facts)
                                      + ")").fetchone()[0]

    def versions_no_fact_reads(watermark: datetime) -> int:
        """Versions older than their deal's latest one up to a watermark of the month facts."""
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return connection.execute("""select count(*) from intermediate.int_opportunity_month_versions as old
                where built_at <= $watermark and exists (select 1 from intermediate.int_opportunity_month_versions as newer
                    where newer.opportunity_id = old.opportunity_id and newer.built_at > old.built_at and newer.built_at <= $watermark)
                """, {"watermark": watermark}).fetchone()[0]

    def facts() -> dict[str, list[tuple]]:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return {fact: sorted(live_rows(connection, f"marts.{fact}"), key=repr) for fact in month_facts}

    # the month facts and what they are built from, no other model and no data test (the cross-KPI tests compare them
    # with marts these builds leave as they were): the rest of the project has no part in this
    selected = ["--select", *(f"+{fact}" for fact in month_facts), "--exclude", "resource_type:test", "resource_type:unit_test"]
    before = facts()
    move_and_build(0, *selected, *month_facts, every_deal=True)
    assert facts() == before  # the facts missed the night
    watermark = facts_watermark()
    assert versions_no_fact_reads(watermark) > 0
    move_and_build(1, *selected)
    assert versions_no_fact_reads(watermark) == 0 and facts_watermark() > watermark
    incremental = facts()
    build(warehouse, "--full-refresh", *selected)
    assert incremental == facts()


REBUILT = re.compile(r"built_at = cast\('([0-9: .-]+)' as timestamp\)")


def failing_rows(connection: duckdb.DuckDBPyConnection, test: dict[str, str]) -> int:
    return connection.execute(f"select count(*) from ({test['sql']}) as failures").fetchone()[0]


def test_a_nightly_build_tests_the_rows_it_rebuilt(warehouses):
    """In the nightly build the data tests of the incremental models read the rows that build wrote (var
    data_tests_scope, macros/tests/where_subquery.sql), every other model's tests and every test of a full refresh
    all rows; a defect planted in a rebuilt row is found by the night's test SQL, one in a row of an earlier build
    is left to the weekly full pass, which finds both."""
    tests, full_refresh = warehouses["changes"]["nightly_tests"], warehouses["changes"]["full_refresh_tests"]
    scoped = {name for name, test in tests.items() if REBUILT.search(test["sql"])}
    assert {tests[name]["model"] for name in scoped} == set(KEPT_ACROSS_BUILDS)
    assert all(tests[name]["model"] not in KEPT_ACROSS_BUILDS for name in tests.keys() - scoped) and len(tests) - len(scoped) > 250
    assert full_refresh.keys() == tests.keys() and not any(REBUILT.search(test["sql"]) for test in full_refresh.values())
    night = REBUILT.search(tests["not_null_int_lead_conversions_cohort_month"]["sql"]).group(1)

    nightly = warehouses["nightly"]
    visits = next(name for name in scoped if name.startswith("unique_combination_int_opportunity_stage_visits"))
    with duckdb.connect(str(nightly)) as connection:
        assert all(failing_rows(connection, tests[name]) == 0 for name in scoped)
        leads, rebuilt_leads = connection.execute(f"""select count(*), count(*) filter (where built_at = timestamp '{night}')
            from intermediate.int_lead_conversions""").fetchone()
        assert 0 < rebuilt_leads < leads / 2, (rebuilt_leads, leads)
        # one defect in a row the night rebuilt and one in a row of an earlier build, of each kind of test
        connection.execute(f"""update intermediate.int_lead_conversions set cohort_month = null where lead_id in (
            (select min(lead_id) from intermediate.int_lead_conversions where built_at = timestamp '{night}'),
            (select min(lead_id) from intermediate.int_lead_conversions where built_at < timestamp '{night}'))""")
        connection.execute(f"""insert into intermediate.int_opportunity_stage_visits
            select * from intermediate.int_opportunity_stage_visits where visit_number = 1 and opportunity_id in (
                (select min(opportunity_id) from intermediate.int_opportunity_stage_visits where built_at = timestamp '{night}'),
                (select min(opportunity_id) from intermediate.int_opportunity_stage_visits where built_at < timestamp '{night}'))""")
        assert failing_rows(connection, tests["not_null_int_lead_conversions_cohort_month"]) == 1
        assert failing_rows(connection, tests[visits]) == 1
        assert failing_rows(connection, full_refresh["not_null_int_lead_conversions_cohort_month"]) == 2
        assert failing_rows(connection, full_refresh[visits]) == 2
    # a standalone `dbt test` (and the weekly full refresh) tests every row
    result = run_dbt(["test", "--select", "int_lead_conversions", "int_opportunity_stage_visits"], nightly, quiet=True, as_of=AS_OF)
    assert result.returncode != 0 and "Got 2 results" in result.stdout, result.stdout[-3000:]


def test_every_uniqueness_test_a_night_scopes_holds_the_replace_key(warehouses):
    """A nightly build's uniqueness test of an incremental model reads only the rows it wrote: exact only when the
    test's columns hold the key the model replaces by (a duplicate can then only be among the rows written)."""
    manifest = warehouses["changes"]["manifest"]
    models = {node["unique_id"]: node for node in manifest["nodes"].values() if node["name"] in KEPT_ACROSS_BUILDS}
    checked = 0
    for node in manifest["nodes"].values():
        kind = (node.get("test_metadata") or {}).get("name")
        if kind in ("unique", "unique_combination") and node.get("attached_node") in models:
            model = models[node["attached_node"]]
            key = model["config"]["unique_key"] or "built_at"  # a record appended to: one version of a key a build
            kwargs = node["test_metadata"]["kwargs"]
            columns = [kwargs["column_name"]] if kind == "unique" else kwargs["columns"]
            assert set([key] if isinstance(key, str) else key) <= set(columns), (node["name"], key)
            checked += 1
    assert checked == len(KEPT_ACROSS_BUILDS)


def test_a_refresh_tests_the_union_views_on_the_rows_landed_since_its_last_publish(warehouses, tmp_path, monkeypatch):
    """In a refresh's nightly build (CRM_KPIS_VALIDATED_THROUGH set) the key tests of a view over landed rows read the
    keys landed since (macros/tests/where_subquery.sql, landed_rows_condition): a new row repeating an old lead's key
    is found; a repeat that arrived with an old landing time (no landing writes one) is left to the full pass."""
    copy = tmp_path / warehouses["nightly"].name
    shutil.copy(warehouses["nightly"], copy)
    with duckdb.connect(str(copy)) as connection:
        landings = [moment for (moment,) in connection.execute("select distinct _loaded_at from raw.leads order by 1").fetchall()]
        assert len(landings) >= 2  # the first landing and the night's
        night = landings[-1]
        # a repeat of an old lead landed tonight, and a repeat of another one written with its old landing time
        connection.execute("""insert into raw.leads select * replace (cast(? as timestamp) as _loaded_at)
            from raw.leads where lead_id = (select min(lead_id) from raw.leads where _loaded_at < ? and not coalesce(is_deleted, false))""",
            [night, night])
        connection.execute("""insert into raw.leads select * from raw.leads
            where lead_id = (select max(lead_id) from raw.leads where _loaded_at < ? and not coalesce(is_deleted, false))""", [night])
    through = (night - (night - landings[-2]) / 2).strftime("%Y-%m-%d %H:%M:%S.%f")
    with monkeypatch.context() as refresh:
        refresh.setenv("CRM_KPIS_VALIDATED_THROUGH", through)
        nightly = run_dbt(["build", "--select", "int_leads_unioned"], copy, quiet=True, as_of=AS_OF)
    tests = data_tests_run(copy)
    unique = tests["unique_int_leads_unioned_lead_id"]
    assert f"loaded_at > cast('{through}' as timestamp)" in unique["sql"] and "lead_id in (select lead_id from" in unique["sql"]
    assert all("loaded_at >" in test["sql"] for test in tests.values()), [name for name, test in tests.items() if "loaded_at >" not in test["sql"]]
    assert nightly.returncode != 0 and "Failure in test unique_int_leads_unioned_lead_id" in nightly.stdout, nightly.stdout[-3000:]
    assert "Got 1 result" in nightly.stdout, nightly.stdout[-3000:]
    full = run_dbt(["test", "--select", "int_leads_unioned"], copy, quiet=True, as_of=AS_OF)
    assert full.returncode != 0 and "Got 2 results" in full.stdout, full.stdout[-3000:]
    assert not any("loaded_at >" in test["sql"] for test in data_tests_run(copy).values())


def test_a_table_of_an_earlier_version_asks_for_a_full_refresh(warehouses):
    """An enriched-deals table built before it was incremental has no watermark column: the nightly build stops
    with a one-line error that says what to do, instead of a database error (run last of this module)."""
    warehouse = warehouses["warehouse"]
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("alter table intermediate.int_opportunities_enriched drop column source_loaded_at")
    result = run_dbt(["build", "--select", "int_opportunities_enriched"], warehouse, quiet=True, as_of=AS_OF)
    assert result.returncode != 0
    assert "built by an earlier version of crm-kpis (it has no column source_loaded_at): rebuild it once with " \
        "`crm-kpis refresh --full`" in result.stdout, result.stdout[-3000:]

