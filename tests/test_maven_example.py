"""The worked example: the Maven Analytics "CRM Sales Opportunities" export (public domain, copied into
tests/fixtures/maven_crm) through examples/maven_crm/mapping.yml, landed and built, and its KPIs checked
against plain SQL over the raw CSV files, written independently of the warehouse's models.

The export's quirks and what the mapping does with them: the pipeline spells one product "GTXPro"
(products.csv: "GTX Pro"); open deals may have no account (kept, counted as orphan_account) and deals
still prospecting have no dates (kept, excluded and counted as missing_created_at); lost deals carry
value 0 and open deals none, so both are valued at the product's list price. Reporting currency USD.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt.runner import run_dbt
from orchestration.landing import land_directory
from orchestration.mapping import apply_mapping, load_mapping

PROJECT = Path(__file__).parent.parent
EXPORT = Path(__file__).parent / "fixtures" / "maven_crm"
AS_OF = date(2017, 12, 31)

# the independent reading of the export: products joined with the spelling fixed by hand
PIPELINE = f"""
    with products as (
        select product, sales_price from read_csv('{EXPORT}/products.csv')
    ),
    accounts as (
        select account, replace(sector, 'technolgy', 'technology') as sector from read_csv('{EXPORT}/accounts.csv')
    )
    select
        pipeline.*,
        products.sales_price as list_price,
        accounts.sector,
        date_trunc('month', pipeline.close_date)::date as close_month
    from read_csv('{EXPORT}/sales_pipeline.csv') as pipeline
    left join products on replace(pipeline.product, 'GTXPro', 'GTX Pro') = products.product
    left join accounts on pipeline.account = accounts.account
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("maven")
    apply_mapping(load_mapping(PROJECT / "examples" / "maven_crm" / "mapping.yml", EXPORT), root / "landing")
    path = root / "warehouse.duckdb"
    report = land_directory(root / "landing", path)
    assert report.rows_read == report.rows_landed == 35 + 85 + 7 + 8800, report.summary()
    result = run_dbt(["build"], path, quiet=True, as_of=AS_OF,
                     variables={"reporting_currency": "USD", "calendar_start": "2016-01-01"})
    assert result.returncode == 0, result.stdout[-4000:]
    return path


def warehouse_rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def export_rows(sql: str) -> list[tuple]:
    with duckdb.connect() as connection:
        return connection.execute(f"with pipeline as ({PIPELINE}) {sql}").fetchall()


def test_monthly_win_rate_and_values(warehouse):
    expected = export_rows("""
        select close_month,
            count(*) filter (where deal_stage = 'Won'), count(*) filter (where deal_stage = 'Lost'),
            sum(close_value) filter (where deal_stage = 'Won'), sum(list_price) filter (where deal_stage = 'Lost')
        from pipeline where deal_stage in ('Won', 'Lost') group by 1 order by 1""")
    assert len(expected) == 10  # March to December 2017
    actual = warehouse_rows(warehouse, """
        select period_month, sum(won_count), sum(lost_count), sum(won_amount), sum(lost_amount)
        from marts.fct_kpi_win_rate group by 1 order by 1""")
    assert actual == expected


def test_win_rate_per_sales_agent(warehouse):
    expected = export_rows("""
        select sales_agent, round(count(*) filter (where deal_stage = 'Won') / count(*), 12)
        from pipeline where deal_stage in ('Won', 'Lost') group by 1 order by 1""")
    actual = warehouse_rows(warehouse, """
        select owner_id, round(sum(won_count) / sum(won_count + lost_count), 12)
        from marts.fct_kpi_win_rate group by 1 order by 1""")
    assert len(actual) == 30 and actual == expected


def test_win_rate_per_sector_with_the_typo_fixed(warehouse):
    expected = export_rows("""
        select sector, count(*) filter (where deal_stage = 'Won'), count(*) filter (where deal_stage = 'Lost')
        from pipeline where deal_stage in ('Won', 'Lost') group by 1 order by 1""")
    actual = warehouse_rows(warehouse, """
        select industry, sum(won_count), sum(lost_count) from marts.fct_kpi_win_rate group by 1 order by 1""")
    assert ("technology",) == tuple(row[0] for row in actual if row[0].startswith("techn"))
    assert actual == expected


def test_average_deal_size_and_sales_cycle(warehouse):
    expected = export_rows("""
        select close_month, count(*), sum(close_value), sum(close_date - engage_date)
        from pipeline where deal_stage = 'Won' group by 1 order by 1""")
    sizes = warehouse_rows(warehouse, """
        select period_month, sum(won_count), sum(won_amount) from marts.fct_kpi_average_deal_size group by 1 order by 1""")
    cycles = warehouse_rows(warehouse, """
        select period_month, sum(won_count), sum(won_cycle_days_sum) from marts.fct_kpi_sales_cycle group by 1 order by 1""")
    assert sizes == [row[:3] for row in expected]
    assert cycles == [(month, count, days) for month, count, _, days in expected]


def test_open_pipeline_at_the_end_of_the_data(warehouse):
    # deals still engaging at the end of 2017, at list price; prospecting deals have no date and are out
    expected = export_rows("""
        select count(*), sum(list_price) from pipeline where deal_stage = 'Engaging' and engage_date <= date '2017-12-31'""")
    actual = warehouse_rows(warehouse, """
        select sum(open_count), sum(open_amount) from marts.fct_kpi_pipeline_value where snapshot_date = '2017-12-31'""")
    assert actual == expected and expected[0][0] == 1589


def test_quirks_are_counted(warehouse):
    expected = export_rows("""
        select count(*) filter (where engage_date is null), count(*) filter (where account is null) from pipeline""")
    actual = warehouse_rows(warehouse, """
        select max(row_count) filter (where issue_type = 'missing_created_at'),
            max(row_count) filter (where issue_type = 'orphan_account')
        from marts.fct_data_quality_issues where table_name = 'opportunities'""")
    assert actual == expected == [(500, 1425)]


@pytest.fixture(scope="module")
def new_york_warehouse(tmp_path_factory) -> Path:
    # the same export for a business in New York: its date-only close dates are New York dates
    root = tmp_path_factory.mktemp("maven_new_york")
    mapping = load_mapping(PROJECT / "examples" / "maven_crm" / "mapping.yml", EXPORT, business_timezone="America/New_York")
    apply_mapping(mapping, root / "landing")
    path = root / "warehouse.duckdb"
    land_directory(root / "landing", path)
    result = run_dbt(["build"], path, quiet=True, as_of=AS_OF, variables={
        "reporting_currency": "USD", "calendar_start": "2016-01-01", "business_timezone": "America/New_York"})
    assert result.returncode == 0, result.stdout[-4000:]
    return path


def test_close_dates_stay_in_their_quarter_in_a_time_zone_west_of_utc(new_york_warehouse):
    # 51 deals close on 1 April, 1 July or 1 October 2017; read as UTC midnight they were 8 pm the evening
    # before in New York, in the previous quarter
    expected = export_rows("""
        select date_trunc('quarter', close_date)::date, count(*) filter (where deal_stage = 'Won'),
            count(*) filter (where deal_stage = 'Lost')
        from pipeline where deal_stage in ('Won', 'Lost') group by 1 order by 1""")
    actual = warehouse_rows(new_york_warehouse, """
        select date_trunc('quarter', period_month)::date, sum(won_count), sum(lost_count)
        from marts.fct_kpi_win_rate group by 1 order by 1""")
    assert actual == expected
    first_days = export_rows("select count(*) from pipeline where close_date in ('2017-04-01', '2017-07-01', '2017-10-01')")
    assert first_days == [(51,)]
    assert warehouse_rows(new_york_warehouse, """
        select count(*) from intermediate.int_opportunities_enriched
        where close_date in ('2017-04-01', '2017-07-01', '2017-10-01')""") == first_days
