"""Edge cases of the lead and acquisition KPIs on a second tiny hand-made CRM
(tests/fixtures/hand_made_edge_cases), computed by hand and asserted exactly, in the style of
tests/test_kpis_hand_made.py (whose data stays as it is, so none of its numbers moves).

As of 2025-04-15, business time zone Europe/Copenhagen, reporting currency EUR. CHF has no FX rate,
so a CHF deal is excluded from every KPI (counted as missing_fx_rate), as is a negative amount.

    lead  created (UTC)     source    conversion columns                  opportunities (created -> closed, UTC 10:00)
    L1    2025-01-06 10:00  inbound   converted 01-10, account A1 only    O1  A1 01-10 -> 01-20 won 4000 CHF (no rate)
    L2    2025-01-07 10:00  webinar   converted 01-12, account A2 only    O2  A2 01-12 -> 01-25 won -100 EUR (negative)
                                                                          O3  A2 01-20 -> 03-10 lost 3000 EUR
    L3    2025-01-08 10:00  referral  converted 01-15, account A3 only    O4  A3 01-15 -> 01-30 lost 2000 CHF (no rate)
                                                                          O5  A3 01-20 -> 01-28 won 5000 EUR
    L4    2025-02-03 10:00  inbound   none                                O6  A4 02-10 -> 03-05 won 8000 EUR, lead_id L4
    L5    2025-02-04 10:00  inbound   none                                O7  A5 02-24, open, lead_id L5
    L6    2025-02-05 10:00  webinar   none                                (none)
    L7    2025-02-06 10:00  webinar   none                                O8  A6 02-07 -> 02-20 won 7000 CHF, lead_id L7
    L8    2025-02-07 10:00  webinar   converted opportunity O10 (no date) O10 A8 02-17, open

Acquisition spend (EUR): January marketing 1000 inbound, sales 2000; February nothing at all; March
marketing 3000 inbound, sales 1000; April marketing 500 webinar.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_kpis_hand_made import assert_rows

from orchestration.dbt.runner import run_dbt
from orchestration.landing import land_directory

FIXTURE = Path(__file__).parent / "fixtures" / "hand_made_edge_cases"
AS_OF = date(2025, 4, 15)
d = date.fromisoformat


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hand_made_edge_cases") / "warehouse.duckdb"
    report = land_directory(FIXTURE, path)
    assert report.rows_read == report.rows_landed == 30, report.summary()
    result = run_dbt(["build"], path, quiet=True, as_of=AS_OF)
    assert result.returncode == 0, result.stdout[-3000:]
    return path


def test_excluded_deals_are_counted(warehouse):
    assert_rows(warehouse, """
        select issue_type, row_count from marts.fct_data_quality_issues
        where table_name = 'opportunities' and row_count > 0 order by all""", [
        ("missing_fx_rate", 3),     # O1, O4, O8
        ("negative_amount", 1),     # O2
    ])


def test_a_lead_naming_only_an_account_counts_that_accounts_first_kpi_eligible_deal(warehouse):
    # "First" ranks the deals the KPIs see, by creation: an excluded deal neither makes nor blocks a customer.
    #   L1: A1's only deal O1 is won but in CHF without a rate -> not a customer (it was one before the fix).
    #   L2: A2's first deal O2 is a won credit note (negative, excluded); its first eligible deal O3 is lost -> no.
    #   L3: A3's first deal O4 (CHF, excluded) is passed over; the first eligible one, O5, is won -> a customer.
    # Named by an opportunity (opportunities.lead_id), with no conversion columns:
    #   L4 -> O6 won -> a customer; L5 -> O7 open -> not yet; L6 no deal; L7 -> O8 won in CHF (excluded) -> no.
    #   L8 converted into O10, open -> no.
    assert_rows(warehouse, """
        select period_month, lead_source, lead_count, customer_count, lead_to_customer_rate
        from marts.fct_kpi_lead_to_customer order by all""", [
        (d("2025-01-01"), "inbound", 1, 0, 0.0),
        (d("2025-01-01"), "referral", 1, 1, 1.0),
        (d("2025-01-01"), "webinar", 1, 0, 0.0),
        (d("2025-02-01"), "inbound", 2, 1, 0.5),
        (d("2025-02-01"), "webinar", 3, 0, 0.0),
    ])


def test_an_opportunity_naming_a_lead_converts_it_at_the_opportunitys_creation(warehouse):
    # Converted at converted_at where the lead has one: L1 01-06 -> 01-10 = 4 days, L2 01-07 -> 01-12 = 5,
    # L3 01-08 -> 01-15 = 7. Without conversion columns, at the creation of the first KPI-eligible deal naming it:
    # L4 02-03 -> O6 02-10 = 7, L5 02-04 -> O7 02-24 = 20 (median 13.5). L7's only deal O8 is excluded: not
    # converted. L8 names O10 but no date: converted when O10 was created, 02-07 -> 02-17 = 10 days.
    assert_rows(warehouse, """
        select period_month, lead_source, owner_id, lead_count, converted_count, converted_within_30_days_count,
            conversion_rate, days_to_convert_median
        from marts.fct_kpi_lead_conversion order by all""", [
        (d("2025-01-01"), "inbound", "U1", 1, 1, 1, 1.0, 4.0),
        (d("2025-01-01"), "referral", "U1", 1, 1, 1, 1.0, 7.0),
        (d("2025-01-01"), "webinar", "U1", 1, 1, 1, 1.0, 5.0),
        (d("2025-02-01"), "inbound", "U1", 2, 2, 2, 1.0, 13.5),
        (d("2025-02-01"), "webinar", "U1", 3, 1, 1, 1 / 3, 10.0),
    ])


def test_a_month_without_spend_data_makes_its_quarter_unknown(warehouse):
    # New customers (first eligible won deal, local close month): A3 in January (O5, no lead: channel none), A4 in
    # March (O6, lead L4 inbound). February has neither spend nor a new customer: its row says spend unknown,
    # and so is Q1's (it used to be January + March, 7000 / 2 = 3500, as if February cost nothing).
    # Every month from the first quarter with data to the build month has a row; Q2 is April so far: 500 known.
    # No subscriptions: the new customers' MRR is 0, so payback is NULL.
    assert_rows(warehouse, """
        select period_grain, period_start, marketing_spend, sales_spend, acquisition_spend, new_customers, cac,
            cac_payback_months
        from marts.fct_kpi_customer_acquisition_cost where scope = 'company' order by period_grain, period_start""", [
        ("month", d("2025-01-01"), 1000.0, 2000.0, 3000.0, 1, 3000.0, None),
        ("month", d("2025-02-01"), None, None, None, 0, None, None),
        ("month", d("2025-03-01"), 3000.0, 1000.0, 4000.0, 1, 4000.0, None),
        ("month", d("2025-04-01"), 500.0, 0.0, 500.0, 0, None, None),
        ("quarter", d("2025-01-01"), None, None, None, 2, None, None),
        ("quarter", d("2025-04-01"), 500.0, 0.0, 500.0, 0, None, None),
    ])


def test_every_channel_has_every_month_and_a_quarter_with_an_unknown_month_is_unknown(warehouse):
    # Channels: inbound and webinar (spend), inbound (A4's lead). In a month with spend rows a channel without
    # one spent 0; in February nobody's spend is known. Q1 inbound used to read 4000 / 1 customer.
    assert_rows(warehouse, """
        select period_grain, period_start, channel, marketing_spend, sales_spend, new_customers, cac
        from marts.fct_kpi_customer_acquisition_cost where scope = 'channel' order by period_grain, period_start, channel""", [
        ("month", d("2025-01-01"), "inbound", 1000.0, 0.0, 0, None),
        ("month", d("2025-01-01"), "webinar", 0.0, 0.0, 0, None),
        ("month", d("2025-02-01"), "inbound", None, None, 0, None),
        ("month", d("2025-02-01"), "webinar", None, None, 0, None),
        ("month", d("2025-03-01"), "inbound", 3000.0, 0.0, 1, 3000.0),
        ("month", d("2025-03-01"), "webinar", 0.0, 0.0, 0, None),
        ("month", d("2025-04-01"), "inbound", 0.0, 0.0, 0, None),
        ("month", d("2025-04-01"), "webinar", 500.0, 0.0, 0, None),
        ("quarter", d("2025-01-01"), "inbound", None, None, 1, None),
        ("quarter", d("2025-01-01"), "webinar", None, None, 0, None),
        ("quarter", d("2025-04-01"), "inbound", 0.0, 0.0, 0, None),
        ("quarter", d("2025-04-01"), "webinar", 500.0, 0.0, 0, None),
    ])


def test_quarter_rows_are_the_sum_of_their_month_rows(warehouse):
    assert_rows(warehouse, """
        select quarters.scope, quarters.channel, quarters.period_start
        from marts.fct_kpi_customer_acquisition_cost as quarters
        join (
            select scope, channel, date_trunc('quarter', period_start) as quarter_start,
                case when count(acquisition_spend) = count(*) then sum(acquisition_spend) end as spend,
                sum(new_customers) as new_customers
            from marts.fct_kpi_customer_acquisition_cost where period_grain = 'month' group by all
        ) as months on quarters.scope = months.scope and quarters.channel = months.channel
            and quarters.period_start = months.quarter_start
        where quarters.period_grain = 'quarter'
            and (quarters.acquisition_spend is distinct from months.spend or quarters.new_customers <> months.new_customers)""",
        [])
