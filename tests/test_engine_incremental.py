"""The incremental models on every engine: after a night's changes (a new activity, one moved to another month,
one soft-deleted, a new history row, a re-landed one that leaves a deal no stage visit, a deleted deal that
decided a lead, an account that moves segment, a late FX rate, a subscription that moves to another account), an
incremental run
gives the rows a full refresh gives, by delete+insert on DuckDB and Postgres and by rewriting partitions on
Spark (macros/incremental.sql).

Only the seeds and models the incremental ones need are built, without their data tests
(`dbt build --select +model --exclude resource_type:test`), to keep Spark's share of the suite small; the
hand-made CRM is the starting point."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orchestration.dbt.runner import run_dbt
from orchestration.engines.duckdb_engine import DuckDBEngine
from orchestration.engines.parity import compare_tables
from orchestration.landing import land_directory
from tests.engine_builds import engines_under_test

pytestmark = pytest.mark.seconds(140)

FIXTURE = Path(__file__).parent / "fixtures" / "hand_made"
AS_OF = date(2025, 6, 15)
MODELS = ("int_activities_enriched", "int_opportunity_history_intervals", "int_opportunity_stage_visits",
          "int_opportunities_enriched", "int_lead_conversions", "int_mrr_account_months", "int_pipeline_snapshots",
          "int_activity_level_counts", "fct_opportunities", "fct_leads", "fct_activities", "fct_kpi_win_rate", "fct_kpi_pipeline_created",
          "fct_kpi_win_rate_by_lost_reason")
# the model's schema and its folder under models/
HOMES = {model: ("marts", "marts/sales" if model.startswith("fct_kpi") else "marts/facts") if model.startswith("fct_")
         else ("intermediate", "intermediate") for model in MODELS}
# rebuilt whole on Spark: a changed deal may lose every visit, a deleted deal, lead or account its rows, which a
# partition rewrite cannot say (macros/incremental.sql)
TABLES_ON_SPARK = ("int_opportunity_stage_visits", "int_opportunities_enriched", "int_lead_conversions",
                   "int_mrr_account_months", "int_activity_level_counts", "int_pipeline_snapshots", "fct_opportunities", "fct_leads", "fct_activities",
                   "fct_kpi_win_rate", "fct_kpi_pipeline_created", "fct_kpi_win_rate_by_lost_reason")
SELECT = ["--select", *(f"+{model}" for model in MODELS), "--exclude", "resource_type:test", "resource_type:unit_test"]

ACTIVITIES = """activity_id,activity_type,occurred_at,completed,owner_id,account_id,opportunity_id,lead_id,duration_minutes,updated_at,is_deleted
ACT1,call,2025-04-02 09:00:00,true,U1,A1,O1,,30,2025-06-14 09:00:00,false
ACT2,email,2025-03-04 09:00:00,true,U1,A2,O2,,5,2025-06-14 09:00:00,true
ACT9,meeting,2025-05-20 13:00:00,true,U2,A1,O4,,45,2025-06-14 09:00:00,false
"""
HISTORY = """opportunity_id,changed_at,stage,amount,currency,expected_close_date,probability,forecast_category
O4,2025-06-14 08:00:00,Negotiation,8000.00,EUR,2025-07-31,,commit
O6,2025-06-10 10:00:00,Closed Lost,3000.00,EUR,2025-09-30,0,closed
"""
ACCOUNTS = """account_id,account_name,industry,segment,country,owner_id,created_at,updated_at,is_deleted
A2,Beta AB,Retail,Mid-Market,SE,U3,2024-06-01 08:00:00,2025-06-14 09:00:00,false
"""
OPPORTUNITIES = """opportunity_id,account_id,owner_id,lead_id,opportunity_name,opportunity_type,product_line,stage,amount,currency,probability,expected_close_date,created_at,closed_at,is_closed,is_won,lost_reason,forecast_category,updated_at,is_deleted
O3,A3,U2,,Gamma platform,new_business,Platform,Closed Won,20000.00,EUR,100,2025-05-31,2025-04-02 08:00:00,2025-05-20 12:00:00,true,true,,closed,2025-06-14 09:00:00,true
"""
FX_RATES = """currency,rate_month,rate
DKK,2025-04-01,0.11
"""
SUBSCRIPTIONS = """subscription_id,account_id,product_id,start_date,end_date,mrr_amount,currency,updated_at
S3,A1,P1,2025-05-01,,300.00,EUR,2025-06-14 09:00:00
"""


def live(table: pa.Table, model: str) -> pa.Table:
    """The rows readers see: tombstones are no rows, and the landing and build times differ between the two builds."""
    if model == "int_activities_enriched":
        table = table.filter(pc.invert(table.column("is_tombstone")))
    return table.drop_columns([column for column in ("loaded_at", "built_at") if column in table.column_names])


@pytest.mark.parametrize("name", engines_under_test())
def test_an_incremental_run_after_changes_equals_a_full_refresh(name, tmp_path, engine_builds):
    warehouse = tmp_path / "warehouse.duckdb"
    landing = tmp_path / "landing"
    land_directory(FIXTURE, warehouse)
    engine = DuckDBEngine(warehouse) if name == "duckdb" else engine_builds.engine(name, "incremental")
    target = tmp_path / f"dbt_target_{name}"

    def run(*extra: str) -> None:
        if name != "duckdb":
            engine.copy_raw_tables(warehouse)
        result = run_dbt(["build", *SELECT, *extra], warehouse, quiet=True, as_of=AS_OF, engine=engine, target_dir=target)
        assert result.returncode == 0, result.stdout[-4000:]

    try:
        run()
        before = {model: engine.read_table(HOMES[model][0], model) for model in MODELS}
        for folder, content in (("activities", ACTIVITIES), ("opportunity_history", HISTORY), ("accounts", ACCOUNTS),
                                ("opportunities", OPPORTUNITIES), ("fx_rates", FX_RATES), ("subscriptions", SUBSCRIPTIONS)):
            (landing / folder).mkdir(parents=True)
            (landing / folder / "day2.csv").write_text(content)
        report = land_directory(landing, warehouse)
        assert report.rows_landed == 9 and report.rows_rejected == 0
        run()
        incremental = {model: engine.read_table(HOMES[model][0], model) for model in MODELS}
        compiled = {model: (target / "run" / "crm_kpis" / "models" / HOMES[model][1] / f"{model}.sql").read_text().lower()
                    for model in MODELS}
        run("--full-refresh")
        full = {model: engine.read_table(HOMES[model][0], model) for model in MODELS}
    finally:
        if name == "postgres":
            engine.close()

    # the second run took the incremental path of its engine
    for model, sql in compiled.items():
        if name == "spark" and model in TABLES_ON_SPARK:
            assert "insert overwrite" not in sql, (model, sql[:2000])
            continue
        assert ("insert overwrite" in sql) if name == "spark" else ("delete from" in sql), (model, sql[:2000])
    for model in MODELS:
        comparison = compare_tables(model, live(full[model], model), live(incremental[model], model))
        assert comparison.equal, (model, comparison.differences)

    activities = {row["activity_id"]: row for row in live(incremental["int_activities_enriched"], "int_activities_enriched").to_pylist()}
    assert "ACT2" not in activities and activities["ACT9"]["occurred_month"] == date(2025, 5, 1)
    assert activities["ACT1"]["occurred_month"] == date(2025, 4, 1)
    assert len(activities) == before["int_activities_enriched"].num_rows - 1 + 1
    intervals = incremental["int_opportunity_history_intervals"]
    o4 = sorted((row["change_seq"], row["stage"]) for row in intervals.to_pylist() if row["opportunity_id"] == "O4")
    assert o4[-1] == (len(o4), "Negotiation")
    assert intervals.num_rows == before["int_opportunity_history_intervals"].num_rows + 1
    # O6's only history row was re-landed as Closed Lost: it has no stage visit left; O4 is in Negotiation now
    visits = live(incremental["int_opportunity_stage_visits"], "int_opportunity_stage_visits").to_pylist()
    assert any(row["opportunity_id"] == "O6" for row in before["int_opportunity_stage_visits"].to_pylist())
    assert not any(row["opportunity_id"] == "O6" for row in visits)
    assert [row["stage"] for row in visits if row["opportunity_id"] == "O4" and row["is_current"]] == ["Negotiation"]
    # O3 was deleted, A2 (O2, O5, O9) is Mid-Market now, O2 (DKK, closed in April) converts at the late rate
    deals = {row["opportunity_id"]: row for row in incremental["int_opportunities_enriched"].to_pylist()}
    assert "O3" not in deals and "O3" in {row["opportunity_id"] for row in before["int_opportunities_enriched"].to_pylist()}
    assert {deals[deal]["segment"] for deal in ("O2", "O5", "O9")} == {"Mid-Market"}
    assert float(deals["O2"]["rate_to_reporting"]) == pytest.approx(0.11)
    # L5 named only A3, whose first deal O3 (won) decided it: with O3 deleted its first deal is O6 (open)
    leads = {row["lead_id"]: row for row in incremental["int_lead_conversions"].to_pylist()}
    leads_before = {row["lead_id"]: row for row in before["int_lead_conversions"].to_pylist()}
    assert (leads_before["L5"]["deciding_opportunity_id"], leads_before["L5"]["is_customer"]) == ("O3", True)
    assert (leads["L5"]["deciding_opportunity_id"], leads["L5"]["is_customer"]) == ("O6", False)
    # S3 moved from A2 to A1 (A2's MRR ends with March's S2: churn in April); A3's April DKK at the late rate
    mrr = {(row["account_id"], row["month_start"]): row for row in incremental["int_mrr_account_months"].to_pylist()}
    assert max(month for account, month in mrr if account == "A2") == date(2025, 4, 1)
    assert mrr[("A2", date(2025, 4, 1))]["movement_type"] == "churn"
    assert float(mrr[("A1", date(2025, 6, 1))]["mrr"]) == pytest.approx(1300)
    assert float(mrr[("A3", date(2025, 4, 1))]["mrr"]) == pytest.approx(1100)
    # the pipeline snapshots: O3 (deleted) is gone from April's, A2's open deal O5 is Mid-Market at every snapshot
    snapshots = incremental["int_pipeline_snapshots"].to_pylist()
    assert any(row["opportunity_id"] == "O3" for row in before["int_pipeline_snapshots"].to_pylist())
    assert not any(row["opportunity_id"] == "O3" for row in snapshots)
    assert {row["segment"] for row in snapshots if row["opportunity_id"] == "O5"} == {"Mid-Market"}
    # the deal-level facts: O3 and ACT2 are gone, A2's deals are Mid-Market, L5 is no customer any more
    facts = {row["opportunity_id"]: row for row in incremental["fct_opportunities"].to_pylist()}
    assert "O3" not in facts and {facts[deal]["segment"] for deal in ("O2", "O5", "O9")} == {"Mid-Market"}
    assert "ACT2" not in {row["activity_id"] for row in incremental["fct_activities"].to_pylist()}
    assert {row["lead_id"]: row["is_customer"] for row in incremental["fct_leads"].to_pylist()}["L5"] is False
    # win rate by month: May 2025 no longer counts the deleted O3, April's O2 is converted at the late rate
    months = {row["period_month"] for row in incremental["fct_kpi_win_rate"].to_pylist()}
    assert date(2025, 4, 1) in months
