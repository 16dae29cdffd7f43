"""Building twice changes nothing; an incremental build after new landed data equals a full refresh."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt.runner import dbt_target_dir, run_dbt
from orchestration.generator import GeneratorSettings, generate_landing
from orchestration.landing import land_directory

AS_OF = date(2026, 6, 30)
INCREMENTAL_MODELS = ("int_opportunity_history_intervals", "int_activities_enriched")


def build(warehouse: Path, *extra: str) -> None:
    result = run_dbt(["build", *extra], warehouse, quiet=True, as_of=AS_OF)
    assert result.returncode == 0, result.stdout[-3000:]


def normalised(value: object) -> object:
    # float sums may differ in the last bits with the order DuckDB's threads add them in; cents do not
    return round(value, 6) if isinstance(value, float) and math.isfinite(value) else value


def live_rows(table: str) -> str:
    """A table's rows as readers see them: an incremental model's tombstones (a soft delete that replaced its
    activity's row, macros/incremental.sql) are no rows for its readers, and a full refresh writes none."""
    if not table.startswith("intermediate"):
        return f"select * from {table}"
    tombstones = " where not is_tombstone" if table.endswith("int_activities_enriched") else ""
    return f"select * exclude (loaded_at) from {table}{tombstones}"


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart and every incremental model, rows sorted."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = [f"marts.{name}" for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        tables += [f"intermediate.{name}" for name in INCREMENTAL_MODELS]
        return {
            table: sorted(
                (tuple(normalised(value) for value in row) for row in connection.execute(live_rows(table)).fetchall()),
                key=repr)
            for table in tables
        }


def land_changes(warehouse: Path, landing: Path) -> dict[str, int]:
    """A night's changes as new landing files: deals move on a stage (new history rows and updated opportunity rows),
    new activities arrive, some activities are soft-deleted."""
    (landing / "opportunity_history").mkdir(parents=True, exist_ok=True)
    (landing / "opportunities").mkdir(parents=True, exist_ok=True)
    (landing / "activities").mkdir(parents=True, exist_ok=True)
    next_stage = """case o.stage when 'Prospecting' then 'Qualification' when 'Qualification' then 'Discovery'
        when 'Discovery' then 'Proposal' when 'Proposal' then 'Negotiation' else 'Closed Won' end"""
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"""create temp table moved as
            select o.*, {next_stage} as new_stage, timestamp '2026-06-30 12:00:00' as changed_at
            from raw.opportunities o where not o.is_closed and not coalesce(o.is_deleted, false)
            order by opportunity_id limit 40""")
        connection.execute(f"""copy (select opportunity_id, changed_at, new_stage as stage, amount, currency, expected_close_date,
                null::double as probability, case when new_stage = 'Closed Won' then 'closed' else forecast_category end as forecast_category
            from moved) to '{landing / "opportunity_history" / "changes.parquet"}' (format parquet)""")
        connection.execute(f"""copy (select * exclude (new_stage, changed_at, _source_file, _source_line, _load_id, _loaded_at)
                replace (new_stage as stage, changed_at as updated_at,
                         new_stage = 'Closed Won' as is_closed, new_stage = 'Closed Won' as is_won,
                         case when new_stage = 'Closed Won' then changed_at end as closed_at)
            from moved) to '{landing / "opportunities" / "changes.parquet"}' (format parquet)""")
        connection.execute(f"""copy (
                select 'NEW-' || activity_id as activity_id, activity_type, occurred_at + interval 3 day as occurred_at, completed,
                    owner_id, account_id, opportunity_id, lead_id, duration_minutes, timestamp '2026-06-29 13:00:00' as updated_at,
                    false as is_deleted
                from (select * from raw.activities where not coalesce(is_deleted, false) order by activity_id limit 60)
                union all
                select activity_id, activity_type, occurred_at, completed, owner_id, account_id, opportunity_id, lead_id,
                    duration_minutes, timestamp '2026-06-29 14:00:00', true
                from (select * from raw.activities where not coalesce(is_deleted, false) order by activity_id desc limit 25)
            ) to '{landing / "activities" / "changes.parquet"}' (format parquet)""")
        moved = connection.execute("select count(*), count(*) filter (where new_stage = 'Closed Won') from moved").fetchone()
    report = land_directory(landing, warehouse)
    assert report.invariant_holds and report.rows_rejected == 0
    return {"moved": moved[0], "won": moved[1]}


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
    for folder in landing.iterdir():  # only the changes are new to the landing folder's checksums anyway
        for file in folder.iterdir():
            file.unlink()
    changes = land_changes(warehouse, landing)
    build(warehouse)
    incremental = snapshot(warehouse)
    changes["incremental_sql"] = {
        model: "\n".join((dbt_target_dir(warehouse) / kind / "crm_kpis" / "models" / "intermediate" / f"{model}.sql").read_text()
                         for kind in ("compiled", "run"))
        for model in INCREMENTAL_MODELS}
    build(warehouse, "--full-refresh")
    full = snapshot(warehouse)
    return {"first": first, "second": second, "incremental": incremental, "full": full, "changes": changes}


def test_building_twice_changes_nothing(warehouses):
    assert warehouses["first"].keys() == warehouses["second"].keys()
    for table, rows in warehouses["first"].items():
        assert rows == warehouses["second"][table], table


def test_incremental_build_after_new_data_equals_a_full_refresh(warehouses):
    assert warehouses["changes"]["moved"] == 40 and warehouses["changes"]["won"] > 0
    for model, sql in warehouses["changes"]["incremental_sql"].items():
        # the third build really took the incremental path: a watermark query, then delete+insert into the table
        assert "max(loaded_at)" in sql and "delete from" in sql.lower(), model
    for table, rows in warehouses["full"].items():
        assert rows == warehouses["incremental"][table], table


def test_the_new_data_reached_the_marts(warehouses):
    before, after = warehouses["second"], warehouses["incremental"]
    # 60 new completed-or-not activities minus 25 deleted; the moved deals changed the pipeline and the wins
    activities_before = len(before["intermediate.int_activities_enriched"])
    assert len(after["intermediate.int_activities_enriched"]) == activities_before + 60 - 25
    assert len(after["intermediate.int_opportunity_history_intervals"]) == len(before["intermediate.int_opportunity_history_intervals"]) + 40
    assert after["marts.fct_kpi_win_rate"] != before["marts.fct_kpi_win_rate"]
    assert after["marts.fct_kpi_pipeline_value"] != before["marts.fct_kpi_pipeline_value"]
