"""The Olist marketing-funnel example (examples/olist_marketing_funnel/mapping.yml) on a hand-made look-alike
of its two files (tests/fixtures/olist_look_alike), landed and built, every number computed by hand.
Business time zone America/Sao_Paulo, reporting currency BRL, as of 2018-03-31.

    lead  first contact  origin          closed deal (won_date, São Paulo time)
    m01   2018-01-31     organic_search  s01  2018-02-10 21:30 (23:30 UTC)  rep r1  1000
    m02   2018-02-01     social          -
    m03   2018-02-02     paid_search     s03  2018-02-12 10:00               rep r2  0
    m04   2018-02-03     unknown         -
    m05   2018-02-05     (empty)         -
    m06   2018-03-01     referral        s06  2018-02-27 09:00, before the first contact   rep r1  (empty)

The export has no conversion columns: each closed deal names its lead (mql_id), which converts the lead
at the deal's creation, its lead's first contact, and makes it a customer.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_kpis_hand_made import assert_rows

from orchestration.dbt.runner import run_dbt
from orchestration.landing import land_directory
from orchestration.mapping import apply_mapping, load_mapping

PROJECT = Path(__file__).parent.parent
EXPORT = Path(__file__).parent / "fixtures" / "olist_look_alike"
MAPPING = PROJECT / "examples" / "olist_marketing_funnel" / "mapping.yml"
ZONE = "America/Sao_Paulo"
d = date.fromisoformat


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("olist")
    tables = apply_mapping(load_mapping(MAPPING, EXPORT, business_timezone=ZONE), root / "landing")
    assert {(table.table, table.rows) for table in tables} == {("leads", 6), ("users", 3), ("accounts", 3), ("opportunities", 3)}
    path = root / "warehouse.duckdb"
    report = land_directory(root / "landing", path)
    assert report.rows_read == report.rows_landed == 15, report.summary()
    result = run_dbt(["build"], path, quiet=True, as_of=date(2018, 3, 31), variables={
        "business_timezone": ZONE, "reporting_currency": "BRL", "calendar_start": "2018-01-01"})
    assert result.returncode == 0, result.stdout[-4000:]
    return path


def test_leads_named_by_closed_deals_convert_and_become_customers(warehouse):
    # origins onto canonical channels: organic_search and social inbound, unknown other, an empty origin other
    assert_rows(warehouse, """
        select period_month, lead_source, lead_count, customer_count from marts.fct_kpi_lead_to_customer order by all""", [
        (d("2018-01-01"), "inbound", 1, 1),
        (d("2018-02-01"), "inbound", 1, 0),
        (d("2018-02-01"), "other", 2, 0),
        (d("2018-02-01"), "paid_search", 1, 1),
        (d("2018-03-01"), "referral", 1, 1),
    ])
    # converted at the deal's creation, which is the lead's first contact: 0 days
    assert_rows(warehouse, """
        select period_month, lead_source, owner_id, lead_count, converted_count, days_to_convert_median
        from marts.fct_kpi_lead_conversion order by all""", [
        (d("2018-01-01"), "inbound", "unassigned", 1, 1, 0.0),
        (d("2018-02-01"), "inbound", "unassigned", 1, 0, None),
        (d("2018-02-01"), "other", "unassigned", 2, 0, None),
        (d("2018-02-01"), "paid_search", "unassigned", 1, 1, 0.0),
        (d("2018-03-01"), "referral", "unassigned", 1, 1, 0.0),
    ])


def test_deals_are_dated_in_sao_paulo(warehouse):
    # s01 won at 21:30 on 10 February in São Paulo (23:30 UTC); created 31 January (local midnight):
    # 10 days; s03 02-02 -> 02-12: 10 days; s06 closed before its lead's first contact: out of the cycle, counted
    assert_rows(warehouse, """
        select period_month, owner_id, won_count, won_amount, won_cycle_days_sum
        from marts.fct_kpi_sales_cycle join (
            select period_month, owner_id, sum(won_amount) as won_amount from marts.fct_kpi_win_rate group by all
        ) using (period_month, owner_id) order by all""", [
        (d("2018-02-01"), "r1", 1, 1000.0, 10),
        (d("2018-02-01"), "r2", 1, 0.0, 10),
    ])
    assert_rows(warehouse, """
        select issue_type, row_count from marts.fct_data_quality_issues
        where table_name = 'opportunities' and row_count > 0 order by all""", [
        ("close_before_creation", 1)])
    # the users are the reps the deals name, r1 twice
    assert_rows(warehouse, "select user_id from marts.dim_users order by 1", [("r1",), ("r2",)])
