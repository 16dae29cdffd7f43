"""Salesforce, HubSpot and SuperOffice adapters on small hand-made fixtures (tests/fixtures/<source>),
built together in one warehouse (crm_sources = salesforce,hubspot,superoffice), every KPI value computed
by hand. As of 2025-06-30, business time zone Europe/Copenhagen, everything in EUR.

    source       deal  owner  account (segment)       created (UTC)     closes (local)   outcome  amount
    Salesforce   006A  005A   001A Acme (SMB: 50)     2025-01-20 09:00  2025-03-14       won      12000  lead 00QA (Web)
                 006B  005B   001B Big (Ent.: 5000)   2025-02-10 09:00  2025-04-10       lost     30000
                 006C  005A   001A                    2025-05-02 09:00  open, Proposal/Price Quote, p 60    8000
                 006E  005B   001B                    2025-06-01 09:00  open, Negotiation/Review, p 1000 (invalid) 5000
                 006D  deleted
    HubSpot      401   101    201 Alpha (Mid: 300)    2025-01-10 10:00  2025-04-15 12:00 UTC won 20000  contact 301 ORGANIC_SEARCH
                 402   102    202 Beta (SMB: 20)      2025-02-20 10:00  2025-05-20 10:00 UTC lost 10000 contact 302 PAID_SEARCH
                 403   101    201                     2025-04-01 10:00  open, Contract Sent (0.9); amount 12000 until 05-15, then 15000
                 404   merged into 401;  405 deleted
    SuperOffice  1000  1      100 Nordlys (SMB)       2025-01-10 09:00  2025-04-02       sold (2) 15000  person 20
                 1001  2      101 Fjord (Enterprise)  2025-02-05 10:00  2025-05-12       lost (3)  8000  person 21
                 1002  1      100                     2025-05-01 08:00  open (1), Proposal, p 60         20000
                 1003  2      101                     2025-04-01 08:00  stalled (4): not in the pipeline  7000
                 1004  2      0 (none)                2025-06-01 08:00  2025-06-20       sold      3000

Closing dates that are local dates (Salesforce close_date, SuperOffice saledate) are local midnight in
Copenhagen, so 006A closes 2025-03-13 23:00 UTC, still in March.

Built on every engine (DuckDB, Postgres, Spark; CRM_KPIS_TEST_ENGINES narrows it), each engine's tables
asserted by the same queries, and every mart compared across engines.

The `files` source is selected too, with what none of the CRMs holds landed as files that name the
adapters' keys (tests/fixtures/adapter_extras): Salesforce quotas for 005A and acquisition spend.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt.runner import run_dbt
from orchestration.landing import land_directory
from orchestration.landing.source_tables import load_source_tables
from tests.engine_builds import assert_marts_equal, engines_under_test

pytestmark = pytest.mark.seconds(305)

FIXTURES = Path(__file__).parent / "fixtures"
ADAPTERS = ("salesforce", "hubspot", "superoffice")
AS_OF = date(2025, 6, 30)
d = date.fromisoformat
at = datetime
E = Decimal


ENGINES = engines_under_test()
SOURCES = {"crm_sources": ",".join((*ADAPTERS, "files"))}
# what the assertions below query besides the marts
READ_BACK = ("marts", *(f"intermediate.{model}" for model in (
    "int_opportunities_unioned", "int_quotas_unioned", "int_opportunity_history_unioned", "int_opportunities_enriched",
    "int_mrr_account_months")))


def land(path: Path) -> None:
    for source in ADAPTERS:
        load_source_tables(source, FIXTURES / source, path)
    report = land_directory(FIXTURES / "adapter_extras", path)
    assert report.rows_landed == 5, report.summary()


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, engine_builds) -> Path:
    """The three adapters' fixtures built on each engine (raw_<source> tables loaded by DuckDB, then moved
    onto the engine), its results in a DuckDB file: every assertion below holds on every engine."""
    return engine_builds.build("adapters", request.param, land, AS_OF, SOURCES, READ_BACK)


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_every_source_lands_in_the_shared_entities_with_namespaced_keys(warehouse):
    assert rows(warehouse, """
        select source_system, count(*) from intermediate.int_opportunities_unioned group by 1 order by 1""") == [
        ("hubspot", 3), ("salesforce", 4), ("superoffice", 5)]
    assert rows(warehouse, "select source_system, count(*) from intermediate.int_quotas_unioned group by 1 order by 1") == [
        ("files", 2), ("superoffice", 2)]
    assert rows(warehouse, "select source_system, count(*) from marts.dim_users group by 1 order by 1") == [
        ("hubspot", 2), ("salesforce", 2), ("superoffice", 2)]
    assert rows(warehouse, "select user_id, full_name, team, manager_id from marts.dim_users order by 1") == [
        ("hubspot:101", "Ann Lee", "West", None),
        ("hubspot:102", "Ben Ho", "West", None),  # primary team only
        ("salesforce:005A", "Ada Sales", "Nordics", None),
        ("salesforce:005B", "Bo Sales", "Nordics", "salesforce:005A"),
        ("superoffice:1", "Anna Sørensen", "Copenhagen", None),  # associate 3 is a resource, not a user
        ("superoffice:2", "Bjørn Krag", "Copenhagen", None),
    ]
    # the database owner's own company (contact 1) and deleted companies are no accounts
    assert rows(warehouse, "select account_id, segment, country_code from marts.dim_accounts order by 1") == [
        ("hubspot:201", "Mid-Market", "DE"), ("hubspot:202", "SMB", "NL"),
        ("salesforce:001A", "SMB", "DK"), ("salesforce:001B", "Enterprise", "SE"),
        ("superoffice:100", "SMB", "DK"), ("superoffice:101", "Enterprise", "SE"),
    ]


def test_stage_and_outcome_per_source(warehouse):
    # outcome from each CRM's own fields; open stages through seed stage_map; probability 0-100
    assert rows(warehouse, """
        select opportunity_id, source_stage, stage, probability, is_closed, is_won, closed_at
        from intermediate.int_opportunities_unioned order by 1""") == [
        ("hubspot:401", "Closed Won", "Closed Won", 100.0, True, True, at(2025, 4, 15, 12)),
        ("hubspot:402", "Closed Lost", "Closed Lost", 0.0, True, False, at(2025, 5, 20, 10)),
        ("hubspot:403", "Contract Sent", "Negotiation", 90.0, False, False, None),
        ("salesforce:006A", "Closed Won", "Closed Won", 100.0, True, True, at(2025, 3, 13, 23)),
        ("salesforce:006B", "Closed Lost", "Closed Lost", 0.0, True, False, at(2025, 4, 9, 22)),
        ("salesforce:006C", "Proposal/Price Quote", "Proposal", 60.0, False, False, None),
        ("salesforce:006E", "Negotiation/Review", "Negotiation", None, False, False, None),
        ("superoffice:1000", "Closed Won", "Closed Won", 100.0, True, True, at(2025, 4, 1, 22)),
        ("superoffice:1001", "Closed Lost", "Closed Lost", 0.0, True, False, at(2025, 5, 11, 22)),
        ("superoffice:1002", "Proposal", "Proposal", 60.0, False, False, None),
        ("superoffice:1003", "Prospecting", "Prospecting", 10.0, False, False, None),
        ("superoffice:1004", "Closed Won", "Closed Won", 100.0, True, True, at(2025, 6, 20, 8)),
    ]


def test_win_rate(warehouse):
    # 006A: lead 00QA converted into it, source Web -> inbound; product line = family of its largest line item.
    # SuperOffice keeps no lead source (other); 1004 has no company (contact_id 0) and no person.
    assert rows(warehouse, """
        select period_month, owner_id, segment, industry, product_line, lead_source,
            won_count, lost_count, won_amount, lost_amount, win_rate
        from marts.fct_kpi_win_rate order by all""") == [
        (d("2025-03-01"), "salesforce:005A", "SMB", "Software", "Platform", "inbound", 1, 0, E(12000), E(0), 1.0),
        (d("2025-04-01"), "hubspot:101", "Mid-Market", "Software", "unknown", "inbound", 1, 0, E(20000), E(0), 1.0),
        (d("2025-04-01"), "salesforce:005B", "Enterprise", "Retail", "unknown", "none", 0, 1, E(0), E(30000), 0.0),
        (d("2025-04-01"), "superoffice:1", "SMB", "Software", "unknown", "other", 1, 0, E(15000), E(0), 1.0),
        (d("2025-05-01"), "hubspot:102", "SMB", "Retail", "unknown", "paid_search", 0, 1, E(0), E(10000), 0.0),
        (d("2025-05-01"), "superoffice:2", "Enterprise", "Retail", "unknown", "other", 0, 1, E(0), E(8000), 0.0),
        (d("2025-06-01"), "superoffice:2", "unknown", "unknown", "unknown", "none", 1, 0, E(3000), E(0), 1.0),
    ]


def test_sales_cycle(warehouse):
    # days between business dates: 006A 01-20 -> 03-14 = 53; 006B 02-10 -> 04-10 = 59; 401 01-10 -> 04-15 = 95;
    # 402 02-20 -> 05-20 = 89; 1000 01-10 -> 04-02 = 82; 1001 02-05 -> 05-12 = 96; 1004 06-01 -> 06-20 = 19
    assert rows(warehouse, """
        select period_month, owner_id, won_count, won_cycle_days_sum, lost_count, lost_cycle_days_sum
        from marts.fct_kpi_sales_cycle order by all""") == [
        (d("2025-03-01"), "salesforce:005A", 1, 53, 0, 0),
        (d("2025-04-01"), "hubspot:101", 1, 95, 0, 0),
        (d("2025-04-01"), "salesforce:005B", 0, 0, 1, 59),
        (d("2025-04-01"), "superoffice:1", 1, 82, 0, 0),
        (d("2025-05-01"), "hubspot:102", 0, 0, 1, 89),
        (d("2025-05-01"), "superoffice:2", 0, 0, 1, 96),
        (d("2025-06-01"), "superoffice:2", 1, 19, 0, 0),
    ]


def test_average_deal_size(warehouse):
    assert rows(warehouse, """
        select period_month, owner_id, won_count, won_amount, average_deal_size
        from marts.fct_kpi_average_deal_size order by all""") == [
        (d("2025-03-01"), "salesforce:005A", 1, E(12000), 12000.0),
        (d("2025-04-01"), "hubspot:101", 1, E(20000), 20000.0),
        (d("2025-04-01"), "superoffice:1", 1, E(15000), 15000.0),
        (d("2025-06-01"), "superoffice:2", 1, E(3000), 3000.0),
    ]


def test_pipeline_value_from_each_sources_history(warehouse):
    # 30 April: HubSpot 403 in Qualification (0.4) at its amount then, 12000 (deal_property_history);
    # 402 in Appointment Scheduled (0.2); SuperOffice 1001 in Proposal (60 %). 1003 is stalled: omitted.
    # 30 June: 403 Contract Sent 15000 x 0.9; 006C 8000 x 60 %; 006E's probability 1000 is invalid,
    # so Negotiation's default 80 % applies; SuperOffice 1002 20000 x 60 %.
    assert rows(warehouse, """
        select snapshot_date, owner_id, stage, expected_close_quarter, open_count, open_amount, weighted_amount
        from marts.fct_kpi_pipeline_value where snapshot_date in ('2025-04-30', '2025-06-30') order by all""") == [
        (d("2025-04-30"), "hubspot:101", "Qualification", d("2025-07-01"), 1, E(12000), E(4800)),
        (d("2025-04-30"), "hubspot:102", "Prospecting", d("2025-04-01"), 1, E(10000), E(2000)),
        (d("2025-04-30"), "superoffice:2", "Proposal", d("2025-04-01"), 1, E(8000), E(4800)),
        (d("2025-06-30"), "hubspot:101", "Negotiation", d("2025-07-01"), 1, E(15000), E(13500)),
        (d("2025-06-30"), "salesforce:005A", "Proposal", d("2025-07-01"), 1, E(8000), E(4800)),
        (d("2025-06-30"), "salesforce:005B", "Negotiation", d("2025-07-01"), 1, E(5000), E(4000)),
        (d("2025-06-30"), "superoffice:1", "Proposal", d("2025-07-01"), 1, E(20000), E(12000)),
    ]


def test_hubspot_history_takes_amount_and_close_date_as_they_were(warehouse):
    # 403 entered Qualified To Buy on 04-01 with amount 12000 and close date 1751364000000 ms = 2025-07-01
    # (deal_property_history); on 05-15 Contract Sent with 15000 and, no later close-date change, 07-01 still
    assert rows(warehouse, """
        select changed_at, stage, amount, expected_close_date from intermediate.int_opportunity_history_unioned
        where opportunity_id = 'hubspot:403' order by changed_at""") == [
        (at(2025, 4, 1, 10), "Qualification", E(12000), d("2025-07-01")),
        (at(2025, 5, 15, 10), "Negotiation", E(15000), d("2025-07-01")),
    ]


def test_time_in_stage_from_superoffice_sale_history(warehouse):
    # sale 1000: salehist versions 01-10 09:00 Prospecting, 02-15 10:00 Proposal, 03-10 10:00 Negotiation,
    # then the current sale (sold) at 04-02 07:00 UTC. Discovery and Qualification are skipped (0 days).
    assert rows(warehouse, """
        select period_month, stage, visit_count, skipped_count, days_sum
        from marts.fct_kpi_time_in_stage where owner_id = 'superoffice:1' order by all""") == [
        (d("2025-02-01"), "Discovery", 1, 1, 0.0),
        (d("2025-02-01"), "Prospecting", 1, 0, 36 + 1 / 24),
        (d("2025-02-01"), "Qualification", 1, 1, 0.0),
        (d("2025-03-01"), "Proposal", 1, 0, 23.0),
        (d("2025-04-01"), "Negotiation", 1, 0, 22 + 21 / 24),
    ]


def test_quota_attainment_from_superoffice_targets_and_landed_quotas(warehouse):
    # SuperOffice user 1's quarterly targets 20000 (Q1) and 30000 (Q2); the team target (usergroup 1)
    # is no quota. Sale 1000 (15000) closes 2 April: Q2.
    # Salesforce has no quota object: 005A's quotas (10000 a quarter) are landed files; 006A (12000) is Q1.
    assert rows(warehouse, """
        select user_id, period_start, period_end, quota_amount, won_count, bookings, attainment
        from marts.fct_kpi_quota_attainment order by all""") == [
        ("salesforce:005A", d("2025-01-01"), d("2025-03-31"), E(10000), 1, E(12000), 1.2),
        ("salesforce:005A", d("2025-04-01"), d("2025-06-30"), E(10000), 0, E(0), 0.0),
        ("superoffice:1", d("2025-01-01"), d("2025-03-31"), E(20000), 0, E(0), 0.0),
        ("superoffice:1", d("2025-04-01"), d("2025-06-30"), E(30000), 1, E(15000), 0.5),
    ]


def test_acquisition_cost_from_landed_spend(warehouse):
    # new customers by first won deal: March 001A (006A, lead Web -> inbound); April 201 (401, contact
    # 301 ORGANIC_SEARCH -> inbound) and SuperOffice 100 (1000, no lead source: other). 1004 has no company.
    # Spend: March 6000 inbound marketing; April 4000 inbound marketing + 2000 sales. Every month from the
    # first quarter with data to the build month (June) has a row: January, February, May and June have no
    # spend data, so their spend is unknown, and so is that of both quarters holding them.
    unknown = (None, None, None, 0, None)
    assert rows(warehouse, """
        select period_start, marketing_spend, sales_spend, acquisition_spend, new_customers, cac
        from marts.fct_kpi_customer_acquisition_cost
        where scope = 'company' and period_grain = 'month' order by all""") == [
        (d("2025-01-01"), *unknown),
        (d("2025-02-01"), *unknown),
        (d("2025-03-01"), E(6000), E(0), E(6000), 1, 6000.0),
        (d("2025-04-01"), E(4000), E(2000), E(6000), 2, 3000.0),
        (d("2025-05-01"), *unknown),
        (d("2025-06-01"), *unknown),
    ]
    assert rows(warehouse, """
        select period_start, acquisition_spend, new_customers, cac from marts.fct_kpi_customer_acquisition_cost
        where scope = 'company' and period_grain = 'quarter' order by all""") == [
        (d("2025-01-01"), None, 1, None), (d("2025-04-01"), None, 2, None)]
    assert rows(warehouse, """
        select channel, marketing_spend, new_customers, cac from marts.fct_kpi_customer_acquisition_cost
        where scope = 'channel' and period_grain = 'month' and period_start = '2025-04-01' order by all""") == [
        ("inbound", E(4000), 1, 4000.0), ("other", E(0), 1, 0.0)]


def test_activity_level(warehouse):
    # June, completed activities only. HubSpot 101: call 501 (on deal 403), e-mail 502, note 505 (other);
    # 507 is deleted. 102: meeting 503; task 504 is not completed.
    # Salesforce 005A: call 00T1 (600 s, on 006C), e-mail 00T2. 005B: meeting 00U1 (60 min); task 00T3 open,
    # call 00T4 deleted, 00U2 is in July.
    # SuperOffice 1: meeting 1 (90 min), phone call 2, booking 5 (its master, 60 min; copy 6 is not
    # counted, note 7 is no activity). 2: e-mail 3 (a document with an e-mail template); to-do 4 not done.
    assert rows(warehouse, """
        select owner_id, activity_count, call_count, email_count, meeting_count, other_count,
            opportunity_activity_count, opportunities_worked, duration_minutes
        from marts.fct_kpi_activity_level
        where period_grain = 'month' and period_start = '2025-06-01' order by all""") == [
        ("hubspot:101", 3, 1, 1, 0, 1, 1, 1, None),
        ("hubspot:102", 1, 0, 0, 1, 0, 0, 0, None),
        ("salesforce:005A", 2, 1, 1, 0, 0, 1, 1, 10),
        ("salesforce:005B", 1, 0, 0, 1, 0, 1, 1, 60),
        ("superoffice:1", 3, 1, 0, 2, 0, 2, 1, 150),
        ("superoffice:2", 1, 0, 1, 0, 0, 1, 1, None),
    ]


def test_lead_conversion(warehouse):
    # Salesforce lead 00QA 01-05 10:00 -> converted 01-20: 15 days; 00QB not converted; 00QC deleted.
    # HubSpot contacts are leads: 301 01-02 -> deal 401 created 01-10: 8 days; 302 02-15 -> 402 02-20: 5;
    # 303 no deal. SuperOffice persons are leads: 20 01-05 -> sale 1000 01-10: 5; 21 02-01 -> 1001 02-05: 4.
    assert rows(warehouse, """
        select period_month, lead_source, owner_id, lead_count, converted_count, days_to_convert_median
        from marts.fct_kpi_lead_conversion order by all""") == [
        (d("2025-01-01"), "inbound", "hubspot:101", 1, 1, 8.0),
        (d("2025-01-01"), "inbound", "salesforce:005A", 1, 1, 15.0),
        (d("2025-01-01"), "other", "superoffice:1", 1, 1, 5.0),
        (d("2025-02-01"), "other", "superoffice:2", 1, 1, 4.0),
        (d("2025-02-01"), "paid_search", "hubspot:102", 1, 1, 5.0),
        (d("2025-02-01"), "webinar", "salesforce:005B", 1, 0, None),
        (d("2025-03-01"), "referral", "hubspot:101", 1, 0, None),
    ]
    # customers: 301 -> company 201 won (401), 00QA -> 001A won (006A), person 20 -> 100 won (1000)
    assert rows(warehouse, "select * from marts.fct_kpi_lead_to_customer order by all") == [
        (d("2025-01-01"), "inbound", 2, 2, 1.0),
        (d("2025-01-01"), "other", 1, 1, 1.0),
        (d("2025-02-01"), "other", 1, 0, 0.0),
        (d("2025-02-01"), "paid_search", 1, 0, 0.0),
        (d("2025-02-01"), "webinar", 1, 0, 0.0),
        (d("2025-03-01"), "referral", 1, 0, 0.0),
    ]


def test_deleted_and_merged_rows_are_excluded_and_counted(warehouse):
    # deleted: opportunities 006D, 405 and 404 (merged into 401); accounts 001C, 203, SuperOffice 102;
    # leads 00QC, 304, person 22; activities 00T4, 507. SuperOffice sale 1004 has no company.
    assert rows(warehouse, """
        select table_name, issue_type, row_count from marts.fct_data_quality_issues
        where row_count > 0 order by all""") == [
        ("accounts", "deleted", 3), ("activities", "deleted", 2), ("leads", "deleted", 3),
        ("opportunities", "deleted", 3), ("opportunities", "orphan_account", 1),
    ]
    kept = {row[0] for row in rows(warehouse, "select opportunity_id from intermediate.int_opportunities_enriched")}
    assert not kept & {"salesforce:006D", "hubspot:404", "hubspot:405"}


def test_kpis_a_source_cannot_feed_are_empty_not_invented(warehouse):
    # none of the sources holds subscriptions or forecast submissions
    assert rows(warehouse, "select count(*) from intermediate.int_mrr_account_months") == [(0,)]
    assert rows(warehouse, "select sum(submitted_forecast) from marts.fct_kpi_forecast_accuracy") == [(None,)]
    assert rows(warehouse, "select count(*) from marts.fct_kpi_recurring_revenue") == [(0,)]


def test_source_selection_enables_only_the_selected_sources(tmp_path):
    # (the default, files alone, is checked on the manifest of tests/test_dbt_build.py)
    result = run_dbt(["ls", "--resource-type", "model", "--resource-type", "source", "--output", "name", "--quiet"],
                     tmp_path / "unused.duckdb", quiet=True, variables={"crm_sources": "salesforce"})
    assert result.returncode == 0, result.stdout[-2000:]
    names = set(result.stdout.split())
    assert {"stg_salesforce__opportunities", "int_opportunities_unioned", "fct_kpi_win_rate"} <= names
    assert not any(name.startswith(("stg_files__", "stg_hubspot__", "stg_superoffice__")) for name in names)


def test_an_unknown_source_is_a_clear_error(tmp_path):
    result = run_dbt(["parse"], tmp_path / "w.duckdb", quiet=True, variables={"crm_sources": "salesforce,zoho"})
    assert result.returncode != 0
    assert "unknown source 'zoho'" in result.stdout


def test_every_mart_is_the_same_on_every_engine(engine_builds):
    # the same rows on every engine, money equal to the cent, ratios to 1e-9, the same column types
    assert_marts_equal({name: engine_builds.build("adapters", name, land, AS_OF, SOURCES, READ_BACK) for name in ENGINES})
