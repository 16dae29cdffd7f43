"""A real `dbt build` on landed synthetic data (messy mode), then checks on the marts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt.runner import dbt_target_dir, run_dbt
from orchestration.generator import GeneratorSettings, generate_landing
from orchestration.landing import land_directory

GRAIN_AND_KEYS = {"unique_combination", "not_null"}
MARTS_EXPECTED_TESTS = {
    "fct_kpi_win_rate": GRAIN_AND_KEYS | {"relationships", "between"},
    "fct_kpi_sales_cycle": GRAIN_AND_KEYS,
    "fct_kpi_time_in_stage": GRAIN_AND_KEYS | {"relationships"},
    "fct_kpi_lead_conversion": GRAIN_AND_KEYS | {"relationships", "between"},
    "fct_kpi_lead_to_customer": GRAIN_AND_KEYS | {"between"},
    "fct_kpi_funnel_conversion": GRAIN_AND_KEYS | {"relationships", "between"},
    "fct_kpi_average_deal_size": GRAIN_AND_KEYS,
    "fct_kpi_activity_level": GRAIN_AND_KEYS | {"relationships", "accepted_values"},
    "fct_kpi_pipeline_value": GRAIN_AND_KEYS | {"relationships", "between"},
    "fct_kpi_pipeline_created": GRAIN_AND_KEYS,
    "fct_kpi_forecast_accuracy": GRAIN_AND_KEYS | {"accepted_values"},
    "fct_kpi_recurring_revenue": GRAIN_AND_KEYS,
    "fct_kpi_customer_retention": GRAIN_AND_KEYS | {"accepted_values", "between"},
    "fct_kpi_quota_attainment": GRAIN_AND_KEYS | {"relationships", "accepted_values"},
    "fct_kpi_customer_acquisition_cost": GRAIN_AND_KEYS | {"accepted_values"},
    "fct_kpi_pipeline_velocity": GRAIN_AND_KEYS | {"between"},
    "fct_data_quality_issues": GRAIN_AND_KEYS,
    "dim_users": {"unique", "not_null"},
    "dim_accounts": {"unique", "not_null"},
    "dim_products": {"unique", "not_null"},
    "dim_date": {"unique", "not_null"},
    "dim_stages": {"unique", "not_null", "between"},
    "fct_data_freshness": GRAIN_AND_KEYS,
    "fct_insight_rep_activity_intensity": GRAIN_AND_KEYS | {"relationships", "between"},
    "fct_insight_deal_activity_intensity": GRAIN_AND_KEYS | {"relationships", "between"},
    "fct_insight_stage_win_probability": GRAIN_AND_KEYS | {"accepted_values", "between"},
    "fct_insight_calibrated_pipeline": GRAIN_AND_KEYS | {"relationships", "accepted_values", "between"},
    "fct_insight_forecast_backtest": GRAIN_AND_KEYS | {"relationships", "accepted_values"},
    "fct_insight_stalled_deals": {"unique", "not_null", "unique_combination", "relationships", "accepted_values"},
    "fct_insight_bundle_deal_size": GRAIN_AND_KEYS | {"relationships", "accepted_values", "between"},
    "fct_insight_retention_by_cadence": GRAIN_AND_KEYS | {"relationships", "accepted_values", "between"},
    "fct_insight_win_rate_movers": GRAIN_AND_KEYS | {"relationships", "accepted_values", "between"},
    "fct_insight_lead_source_conversion": GRAIN_AND_KEYS | {"relationships", "between"},
    "fct_kpi_win_rate_by_lost_reason": GRAIN_AND_KEYS | {"relationships"},
    "fct_opportunities": {"unique", "not_null", "relationships", "accepted_values", "between"},
    "fct_leads": {"unique", "not_null"},
    "fct_activities": {"unique", "not_null", "relationships", "between"},
    "metricflow_time_spine": {"unique", "not_null"},
}
CROSS_KPI_TESTS = {"assert_quota_bookings_equal_win_rate_won_amount", "assert_quota_bookings_equal_deal_size_won_amount",
                   "assert_mrr_movements_sum_to_the_monthly_change", "assert_company_forecast_actual_is_the_sum_of_teams"}
UNIT_TESTED_MODELS = {"int_opportunities_enriched", "int_opportunity_stage_visits", "int_mrr_account_months",
                      "fct_kpi_win_rate", "fct_kpi_forecast_accuracy"}


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dbt")
    generate_landing(GeneratorSettings(3000, 21, date(2026, 6, 30), messy=True), root / "landing", "parquet")
    land_directory(root / "landing", root / "warehouse.duckdb")
    result = run_dbt(["build"], root / "warehouse.duckdb", quiet=True, as_of=date(2026, 6, 30))
    assert result.returncode == 0, result.stdout[-3000:]
    return root / "warehouse.duckdb"


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_manifest_holds_the_expected_tests_per_mart(built_warehouse):
    manifest = json.loads((dbt_target_dir(built_warehouse) / "manifest.json").read_text())
    tests_by_model: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        test_name = node["test_metadata"]["name"] if node.get("test_metadata") else "singular"
        for parent in node["depends_on"]["nodes"]:
            tests_by_model.setdefault(parent.split(".")[-1], set()).add(test_name)
    for model, expected in MARTS_EXPECTED_TESTS.items():
        assert expected <= tests_by_model.get(model, set()), f"{model} lacks {expected - tests_by_model.get(model, set())}"
    built_marts = {name for (name,) in query(built_warehouse, "select table_name from information_schema.tables where table_schema = 'marts'")}
    assert built_marts == set(MARTS_EXPECTED_TESTS), "a mart without expected tests, or an expected mart not built"
    # the cross-KPI reconciliations are singular tests the gate reads too (tag cross_kpi)
    singular = {node["name"] for node in manifest["nodes"].values()
                if node["resource_type"] == "test" and not node.get("test_metadata") and "cross_kpi" in node["config"]["tags"]}
    assert singular == CROSS_KPI_TESTS
    unit_tested = {node["model"] for node in manifest["unit_tests"].values()}
    assert UNIT_TESTED_MODELS <= unit_tested
    # the default source selection (files) leaves the adapters' models and sources out entirely
    adapters = ("salesforce", "hubspot", "superoffice")
    assert not [node for node in manifest["nodes"] if node.split(".")[-1].startswith(tuple(f"stg_{a}__" for a in adapters))]
    assert {source["source_name"] for source in manifest["sources"].values()} == {"files"}


def test_a_refresh_leaves_exactly_the_marts_generic_tests_to_the_gate(built_warehouse, tmp_path):
    """A refresh's dbt build excludes tag gate_rule, as the gate checks those: they must be every generic test of a
    mart (none left unchecked, none checked twice), and a tagged test the gate cannot check is an error."""
    from expectations.manifest_rules import GATE_RULE_TAG, RuleError, read_rules

    path = dbt_target_dir(built_warehouse) / "manifest.json"
    manifest = json.loads(path.read_text())
    marts = {key for key, node in manifest["nodes"].items() if node["resource_type"] == "model" and node["config"]["schema"] == "marts"}
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    tagged = {node["unique_id"] for node in tests if GATE_RULE_TAG in node["config"]["tags"]}
    on_marts = {node["unique_id"] for node in tests if node.get("test_metadata") and node.get("attached_node") in marts}
    assert tagged == on_marts and len(tagged) > 300
    assert sum(len(rules) for rules in read_rules(path).tests.values()) == len(tagged)
    staging_test = next(node for node in tests if (node.get("attached_node") or "").startswith("model.crm_kpis.stg_files__")
                        and node["config"].get("enabled", True))
    staging_test["config"]["tags"].append(GATE_RULE_TAG)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RuleError, match=f"{staging_test['name']} is tagged {GATE_RULE_TAG}"):
        read_rules(tmp_path / "manifest.json")


def test_bookings_agree_between_win_rate_and_deal_size(built_warehouse):
    disagreements = query(built_warehouse, """
        with win as (select period_month, owner_id, sum(won_amount) as amount, sum(won_count) as n from marts.fct_kpi_win_rate group by 1, 2),
             size as (select period_month, owner_id, sum(won_amount) as amount, sum(won_count) as n from marts.fct_kpi_average_deal_size group by 1, 2)
        select * from win full join size using (period_month, owner_id)
        where coalesce(win.n, 0) <> coalesce(size.n, 0) or abs(coalesce(win.amount, 0) - coalesce(size.amount, 0)) > 0.005""")
    assert disagreements == []
    assert query(built_warehouse, "select sum(won_count) > 0 from marts.fct_kpi_win_rate") == [(True,)]


def test_ratios_are_parts_divided_and_null_on_zero(built_warehouse):
    assert query(built_warehouse, """select count(*) from marts.fct_kpi_win_rate
        where abs(win_rate - won_count / (won_count + lost_count)) > 1e-9""") == [(0,)]
    # a cell with only lost deals of amount 0 cannot exist here; a sales-cycle cell with no lost deals does
    assert query(built_warehouse, "select count(*) from marts.fct_kpi_sales_cycle where lost_count = 0 and lost_cycle_days_avg is not null") == [(0,)]
    assert query(built_warehouse, "select count(*) > 0 from marts.fct_kpi_sales_cycle where lost_count = 0") == [(True,)]


def test_planted_defects_are_counted_and_excluded(built_warehouse):
    counts = dict(query(built_warehouse, "select issue_type, row_count from marts.fct_data_quality_issues where table_name = 'opportunities'"))
    expected = dict(query(built_warehouse, """
        select 'negative_amount', count(*) from raw.opportunities where not coalesce(is_deleted, false) and amount < 0
        union all select 'unknown_stage', count(*) from raw.opportunities where not coalesce(is_deleted, false)
            and stage not in ('Prospecting', 'Qualification', 'Discovery', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost')
        union all select 'close_before_creation', count(*) from raw.opportunities where not coalesce(is_deleted, false) and closed_at < created_at
        union all select 'deleted', count(*) from raw.opportunities where is_deleted"""))
    for issue, count in expected.items():
        assert counts[issue] == count and count > 0, issue
    # none of them reaches a KPI
    assert query(built_warehouse, "select count(*) from marts.fct_kpi_sales_cycle where won_cycle_days_sum < 0 or lost_cycle_days_sum < 0") == [(0,)]
    assert query(built_warehouse, "select count(*) from marts.fct_kpi_win_rate where won_amount < 0 or lost_amount < 0") == [(0,)]


def test_close_dates_are_bucketed_in_the_business_time_zone(built_warehouse):
    # a deal closed on the last evening of a month (UTC) after 22:00 in summer belongs to the next month in Copenhagen
    rows = query(built_warehouse, """
        select e.close_month, date_trunc('month', timezone('Europe/Copenhagen', timezone('UTC', o.closed_at)))::date
        from intermediate.int_opportunities_enriched e join raw.opportunities o using (opportunity_id) where o.closed_at is not null""")
    assert rows and all(left == right for left, right in rows)


def test_bookings_agree_across_quota_attainment_win_rate_and_deal_size(built_warehouse):
    # per rep and quota period: the quota fact's bookings = the months of that period summed in the other two facts
    disagreements = query(built_warehouse, """
        with quota as (select user_id as owner_id, period_start, period_end, bookings, won_count from marts.fct_kpi_quota_attainment),
             win as (select q.owner_id, q.period_start, sum(w.won_amount) as amount, sum(w.won_count) as n
                     from quota q join marts.fct_kpi_win_rate w
                       on w.owner_id = q.owner_id and w.period_month between q.period_start and q.period_end group by 1, 2),
             size as (select q.owner_id, q.period_start, sum(s.won_amount) as amount, sum(s.won_count) as n
                      from quota q join marts.fct_kpi_average_deal_size s
                        on s.owner_id = q.owner_id and s.period_month between q.period_start and q.period_end group by 1, 2)
        select quota.*, win.amount, size.amount from quota
        left join win using (owner_id, period_start) left join size using (owner_id, period_start)
        where abs(quota.bookings - coalesce(win.amount, 0)) > 0.005 or abs(quota.bookings - coalesce(size.amount, 0)) > 0.005
            or quota.won_count <> coalesce(win.n, 0) or quota.won_count <> coalesce(size.n, 0)""")
    assert disagreements == []
    assert query(built_warehouse, "select sum(bookings) > 0 from marts.fct_kpi_quota_attainment") == [(True,)]


def test_mrr_movements_sum_to_the_month_over_month_change(built_warehouse):
    off = query(built_warehouse, """
        with months as (select period_month, sum(opening_mrr) as opening, sum(mrr) as closing,
                sum(new_mrr + reactivation_mrr + expansion_mrr + contraction_mrr + churned_mrr + fx_mrr) as movements
            from marts.fct_kpi_recurring_revenue group by 1)
        select this.period_month from months this
        left join months previous on previous.period_month = this.period_month - interval 1 month
        where abs(this.closing - this.opening - this.movements) > 0.005
            or abs(this.opening - coalesce(previous.closing, 0)) > 0.005""")
    assert off == []
    kinds = query(built_warehouse, """select sum(new_mrr) > 0, sum(expansion_mrr) > 0, sum(contraction_mrr) < 0, sum(churned_mrr) < 0,
        sum(reactivation_mrr) > 0 from marts.fct_kpi_recurring_revenue""")
    assert kinds == [(True, True, True, True, True)], "the generated data should exercise every movement"


def test_pipeline_is_reconstructed_from_history_not_current_values(built_warehouse):
    # deals open at an old month end and closed since are in that snapshot; every snapshot amount is non-negative
    closed_since = query(built_warehouse, """
        select count(*) from intermediate.int_pipeline_snapshots s
        join intermediate.int_opportunities_enriched o using (opportunity_id)
        where s.snapshot_date = '2025-06-30' and o.is_closed""")
    assert closed_since[0][0] > 0
    # the company forecast row equals the sum of its team rows
    assert query(built_warehouse, """
        select count(*) from marts.fct_kpi_forecast_accuracy c
        join (select period_grain, period_start, sum(actual_amount) as actual, sum(pipeline_forecast) as forecast
              from marts.fct_kpi_forecast_accuracy where level = 'team' group by 1, 2) t using (period_grain, period_start)
        where c.level = 'company' and (abs(c.actual_amount - t.actual) > 0.005 or abs(coalesce(c.pipeline_forecast, 0) - coalesce(t.forecast, 0)) > 0.005)""") == [(0,)]
