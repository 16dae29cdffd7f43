"""A real `dbt build` on landed synthetic data (messy mode), then checks on the marts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_build import PROJECT_DIR, run_dbt
from orchestration.generator import GeneratorSettings, generate_landing
from orchestration.landing import land_directory

MARTS_EXPECTED_TESTS = {
    "fct_kpi_win_rate": {"unique_combination", "not_null", "relationships", "between"},
    "fct_kpi_average_deal_size": {"unique_combination", "not_null"},
    "fct_kpi_sales_cycle": {"unique_combination", "not_null"},
    "fct_data_quality_issues": {"unique_combination", "not_null"},
    "dim_users": {"unique", "not_null"},
    "dim_accounts": {"unique", "not_null"},
    "dim_products": {"unique", "not_null"},
    "dim_date": {"unique", "not_null"},
}


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dbt")
    generate_landing(GeneratorSettings(3000, 21, date(2026, 6, 30), messy=True), root / "landing", "parquet")
    land_directory(root / "landing", root / "warehouse.duckdb")
    result = run_dbt(["build"], root / "warehouse.duckdb", quiet=True)
    assert result.returncode == 0, result.stdout[-3000:]
    return root / "warehouse.duckdb"


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_manifest_holds_the_expected_tests_per_mart(built_warehouse):
    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
    tests_by_model: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        test_name = node["test_metadata"]["name"] if node.get("test_metadata") else "singular"
        for parent in node["depends_on"]["nodes"]:
            tests_by_model.setdefault(parent.split(".")[-1], set()).add(test_name)
    for model, expected in MARTS_EXPECTED_TESTS.items():
        assert expected <= tests_by_model.get(model, set()), f"{model} lacks {expected - tests_by_model.get(model, set())}"


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
