"""Every KPI of a tiny hand-made CRM (tests/fixtures/hand_made), computed by hand and asserted exactly.

Built on every engine (DuckDB, Postgres, Spark; CRM_KPIS_TEST_ENGINES narrows it), each engine's marts
asserted by the same queries, and every mart compared across engines.

The data, as of 2025-06-15 (business time zone Europe/Copenhagen, reporting currency EUR; landed DKK
rates: 0.10 EUR for January-April 2025, 0.12 for May-June):

    opportunity  owner account (segment)  created (UTC)     closed (UTC)        status  amount
    O1           U1    A1 (Enterprise)    2025-01-10 09:00  2025-03-31 23:30    won     10000 EUR  lead L1 inbound
    O2           U1    A2 (SMB)           2025-02-01 10:00  2025-04-15 10:00    lost    50000 DKK  lead L2 outbound
    O3           U2    A3 (Mid-Market)    2025-04-02 08:00  2025-05-20 12:00    won     20000 EUR  no lead
    O4           U2    A1                 2025-03-01 10:00  open (Proposal)             8000 EUR  (6000 until 05-10)
    O5           U3    A2                 2025-05-05 10:00  open (Qualification, p=50)  4000 EUR
    O6           U3    A3                 2025-06-10 10:00  open, forecast omitted      3000 EUR
    O7           U1    A1                 negative amount: excluded, counted
    O8           U2    A2                 deleted: excluded, counted
    O9           U3    A2 (SMB)           2025-05-01 09:00  2025-06-10 09:00    won      6000 EUR  lead L3 webinar

O1 closes at 23:30 UTC on 31 March, which is 01:30 on 1 April in Copenhagen (CEST): an April deal.
Teams: U1 and U2 are North, U3 is South.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from orchestration.landing import land_directory
from tests.engine_builds import assert_marts_equal, engines_under_test
from tests.exact_rows import assert_rows, rows

pytestmark = pytest.mark.seconds(210)

FIXTURE = Path(__file__).parent / "fixtures" / "hand_made"
AS_OF = date(2025, 6, 15)


ENGINES = engines_under_test()


def land(path: Path) -> None:
    report = land_directory(FIXTURE, path)
    assert report.rows_read == report.rows_landed == 90


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, engine_builds) -> Path:
    """The hand-made CRM built on each engine (landed by DuckDB, built there), its results in a DuckDB file:
    every assertion below holds on every engine."""
    return engine_builds.build("hand_made", request.param, land, AS_OF)


d = date.fromisoformat


def test_win_rate(warehouse):
    # closed in April: O1 won 10000 (U1, Enterprise), O2 lost 50000 DKK x 0.10 = 5000 (U1, SMB);
    # May: O3 won 20000; June: O9 won 6000. O7 (negative) and O8 (deleted) are in no row.
    assert_rows(warehouse, """
        select period_month, owner_id, segment, industry, product_line, lead_source,
            won_count, lost_count, won_amount, lost_amount, win_rate, value_win_rate
        from marts.fct_kpi_win_rate order by all""", [
        (d("2025-04-01"), "U1", "Enterprise", "Software", "Platform", "inbound", 1, 0, 10000.0, 0.0, 1.0, 1.0),
        (d("2025-04-01"), "U1", "SMB", "Retail", "Analytics", "outbound", 0, 1, 0.0, 5000.0, 0.0, 0.0),
        (d("2025-05-01"), "U2", "Mid-Market", "Software", "Platform", "none", 1, 0, 20000.0, 0.0, 1.0, 1.0),
        (d("2025-06-01"), "U3", "SMB", "Retail", "Analytics", "webinar", 1, 0, 6000.0, 0.0, 1.0, 1.0),
    ])
    # U1 in April rolls up as 1 won / 2 closed = 0.5 and 10000 / 15000 by value, not the average of 1.0 and 0.0 rates
    assert_rows(warehouse, """
        select sum(won_count) / sum(won_count + lost_count), sum(won_amount) / sum(won_amount + lost_amount)
        from marts.fct_kpi_win_rate where period_month = '2025-04-01' and owner_id = 'U1'""", [(0.5, 10000 / 15000)])


def test_sales_cycle(warehouse):
    # O1: 2025-01-10 -> 2025-04-01 (local) = 21 + 28 + 31 + 1 = 81 days; O2 (lost): 02-01 -> 04-15 = 27 + 31 + 15 = 73;
    # O3: 04-02 -> 05-20 = 28 + 20 = 48; O9: 05-01 -> 06-10 = 30 + 10 = 40.
    assert_rows(warehouse, """
        select period_month, owner_id, segment, won_count, won_cycle_days_sum, won_cycle_days_avg, won_cycle_days_median,
            lost_count, lost_cycle_days_sum, lost_cycle_days_avg
        from marts.fct_kpi_sales_cycle order by all""", [
        (d("2025-04-01"), "U1", "Enterprise", 1, 81, 81.0, 81.0, 0, 0, None),
        (d("2025-04-01"), "U1", "SMB", 0, 0, None, None, 1, 73, 73.0),
        (d("2025-05-01"), "U2", "Mid-Market", 1, 48, 48.0, 48.0, 0, 0, None),
        (d("2025-06-01"), "U3", "SMB", 1, 40, 40.0, 40.0, 0, 0, None),
    ])


def test_average_deal_size(warehouse):
    assert_rows(warehouse, """
        select period_month, owner_id, won_count, won_amount, average_deal_size, median_deal_size, largest_deal
        from marts.fct_kpi_average_deal_size order by all""", [
        (d("2025-04-01"), "U1", 1, 10000.0, 10000.0, 10000.0, 10000.0),
        (d("2025-05-01"), "U2", 1, 20000.0, 20000.0, 20000.0, 20000.0),
        (d("2025-06-01"), "U3", 1, 6000.0, 6000.0, 6000.0, 6000.0),
    ])


def test_time_in_stage(warehouse):
    # Visits end in the month of the change that leaves the stage (business time zone):
    # O1: Prospecting 01-10 -> 01-20 (10 d), Qualification 01-20 -> 02-10 (21 d), Discovery skipped at 02-10 (0 d),
    #     Proposal 02-10 -> 03-01 (19 d), Negotiation 03-01 09:00 -> 03-31 23:30 UTC = 30 d 14.5 h = 30.6041666 d (ends in April).
    # O2: Prospecting 02-01 -> 02-11 (10), Qualification 02-11 -> 03-03 (20), Discovery 03-03 -> 03-13 (10, regression:
    #     back to Qualification), Qualification again 03-13 -> 04-15 (33; to Closed Lost, so nothing skipped).
    # O3: Prospecting 04-02 -> 04-12 (10), Qualification skipped 04-12, Discovery 04-12 -> 05-02 (20), Proposal skipped
    #     05-02, Negotiation 05-02 08:00 -> 05-20 12:00 = 18 d 4 h = 18.1666 d.
    # O4: Prospecting 03-01 -> 05-10 (70), Qualification and Discovery skipped 05-10; Proposal still open.
    # O5: Prospecting 05-05 -> 06-01 (27). O9: Prospecting 14, Qualification 10 (May), Discovery 7, Proposal 4, Negotiation 5 (June).
    # U2 in May, Discovery: O3 20 d + O4 skipped 0 d = 2 visits, 20 d, average 10.
    assert_rows(warehouse, """
        select period_month, owner_id, stage, visit_count, skipped_count, regression_count, days_sum, days_avg
        from marts.fct_kpi_time_in_stage order by period_month, owner_id, stage_order""", [
        (d("2025-01-01"), "U1", "Prospecting", 1, 0, 0, 10.0, 10.0),
        (d("2025-02-01"), "U1", "Prospecting", 1, 0, 0, 10.0, 10.0),
        (d("2025-02-01"), "U1", "Qualification", 1, 0, 0, 21.0, 21.0),
        (d("2025-02-01"), "U1", "Discovery", 1, 1, 0, 0.0, 0.0),
        (d("2025-03-01"), "U1", "Qualification", 1, 0, 0, 20.0, 20.0),
        (d("2025-03-01"), "U1", "Discovery", 1, 0, 1, 10.0, 10.0),
        (d("2025-03-01"), "U1", "Proposal", 1, 0, 0, 19.0, 19.0),
        (d("2025-04-01"), "U1", "Qualification", 1, 0, 0, 33.0, 33.0),
        (d("2025-04-01"), "U1", "Negotiation", 1, 0, 0, 30 + 14.5 / 24, 30 + 14.5 / 24),
        (d("2025-04-01"), "U2", "Prospecting", 1, 0, 0, 10.0, 10.0),
        (d("2025-04-01"), "U2", "Qualification", 1, 1, 0, 0.0, 0.0),
        (d("2025-05-01"), "U2", "Prospecting", 1, 0, 0, 70.0, 70.0),
        (d("2025-05-01"), "U2", "Qualification", 1, 1, 0, 0.0, 0.0),
        (d("2025-05-01"), "U2", "Discovery", 2, 1, 0, 20.0, 10.0),
        (d("2025-05-01"), "U2", "Proposal", 1, 1, 0, 0.0, 0.0),
        (d("2025-05-01"), "U2", "Negotiation", 1, 0, 0, 18 + 4 / 24, 18 + 4 / 24),
        (d("2025-05-01"), "U3", "Prospecting", 1, 0, 0, 14.0, 14.0),
        (d("2025-05-01"), "U3", "Qualification", 1, 0, 0, 10.0, 10.0),
        (d("2025-06-01"), "U3", "Prospecting", 1, 0, 0, 27.0, 27.0),
        (d("2025-06-01"), "U3", "Discovery", 1, 0, 0, 7.0, 7.0),
        (d("2025-06-01"), "U3", "Proposal", 1, 0, 0, 4.0, 4.0),
        (d("2025-06-01"), "U3", "Negotiation", 1, 0, 0, 5.0, 5.0),
    ])


def test_lead_conversion(warehouse):
    # Cohorts (created, Copenhagen): January L1, L2, L3; February L4 (2025-01-31 23:30 UTC = 1 February 00:30) and L5.
    # L6 is deleted. Days to convert: L1 5, L2 12, L3 01-25 -> 05-01 = 6 + 28 + 31 + 30 + 1 = 96 (not within 90), L5 14.
    assert_rows(warehouse, """
        select period_month, lead_source, owner_id, lead_count, converted_count, converted_within_30_days_count,
            converted_within_90_days_count, conversion_rate, conversion_rate_30_days, days_to_convert_median
        from marts.fct_kpi_lead_conversion order by all""", [
        (d("2025-01-01"), "inbound", "U1", 1, 1, 1, 1, 1.0, 1.0, 5.0),
        (d("2025-01-01"), "outbound", "U1", 1, 1, 1, 1, 1.0, 1.0, 12.0),
        (d("2025-01-01"), "webinar", "U3", 1, 1, 0, 0, 1.0, 0.0, 96.0),
        (d("2025-02-01"), "inbound", "U2", 1, 0, 0, 0, 0.0, 0.0, None),
        (d("2025-02-01"), "webinar", "U3", 1, 1, 1, 1, 1.0, 1.0, 14.0),
    ])


def test_lead_to_customer(warehouse):
    # L1 -> O1 won; L2 -> O2 lost; L3 -> O9 won; L4 not converted; L5 names only account A3, whose first
    # opportunity O3 is won.
    assert_rows(warehouse, """
        select period_month, lead_source, lead_count, customer_count, lead_to_customer_rate
        from marts.fct_kpi_lead_to_customer order by all""", [
        (d("2025-01-01"), "inbound", 1, 1, 1.0),
        (d("2025-01-01"), "outbound", 1, 0, 0.0),
        (d("2025-01-01"), "webinar", 1, 1, 1.0),
        (d("2025-02-01"), "inbound", 1, 0, 0.0),
        (d("2025-02-01"), "webinar", 1, 1, 1.0),
    ])


def test_funnel_conversion(warehouse):
    # Furthest stage on the won path: O1 Closed Won (Jan, U1); O2 Discovery (Feb, U1; its regression and loss do not
    # lower it); O4 Proposal (Mar, U2); O3 Closed Won (Apr, U2, skipped stages count as reached); O5 Qualification and
    # O9 Closed Won (May, U3); O6 Prospecting (Jun, U3).
    expected = {
        ("2025-01-01", "U1"): ([1, 1, 1, 1, 1, 1], 1),
        ("2025-02-01", "U1"): ([1, 1, 1, 0, 0, 0], 0),
        ("2025-03-01", "U2"): ([1, 1, 1, 1, 0, 0], 0),
        ("2025-04-01", "U2"): ([1, 1, 1, 1, 1, 1], 1),
        ("2025-05-01", "U3"): ([2, 2, 1, 1, 1, 1], 1),
        ("2025-06-01", "U3"): ([1, 0, 0, 0, 0, 0], 0),
    }
    stages = ["Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won"]
    rows_expected = []
    for (month, owner), (reached, won) in expected.items():
        for index, stage in enumerate(stages):
            next_reached = reached[index + 1] if index + 1 < len(stages) else None
            to_next = None if next_reached is None or reached[index] == 0 else next_reached / reached[index]
            to_won = None if reached[index] == 0 else won / reached[index]
            rows_expected.append((d(month), owner, stage, reached[0], reached[index], next_reached, won, to_next, to_won))
    assert_rows(warehouse, """
        select period_month, owner_id, stage, cohort_count, reached_count, next_reached_count, won_count,
            conversion_to_next, conversion_to_won
        from marts.fct_kpi_funnel_conversion order by period_month, owner_id, stage_order""", rows_expected)


def test_activity_level(warehouse):
    # Completed, not deleted: ACT1 call U1 03-03 (O1), ACT2 email U1 03-04 (O2), ACT3 meeting U1 2025-03-09 23:30 UTC =
    # Monday 10 March local (O1), ACT4 call U2 03-05 (O4), ACT6 'phone' = call U1 2025-03-31 22:30 UTC = 1 April local,
    # ISO week of 31 March (O1), ACT7 'demo' = meeting U3 03-12 (no opportunity). ACT5 is not completed, ACT8 deleted.
    assert_rows(warehouse, """
        select period_grain, period_start, owner_id, team, activity_count, call_count, email_count, meeting_count,
            other_count, opportunity_activity_count, opportunities_worked, activities_per_opportunity, team_rank
        from marts.fct_kpi_activity_level order by period_grain, period_start, owner_id""", [
        ("month", d("2025-03-01"), "U1", "North", 3, 1, 1, 1, 0, 3, 2, 1.5, 1),
        ("month", d("2025-03-01"), "U2", "North", 1, 1, 0, 0, 0, 1, 1, 1.0, 2),
        ("month", d("2025-03-01"), "U3", "South", 1, 0, 0, 1, 0, 0, 0, None, 1),
        ("month", d("2025-04-01"), "U1", "North", 1, 1, 0, 0, 0, 1, 1, 1.0, 1),
        ("week", d("2025-03-03"), "U1", "North", 2, 1, 1, 0, 0, 2, 2, 1.0, 1),
        ("week", d("2025-03-03"), "U2", "North", 1, 1, 0, 0, 0, 1, 1, 1.0, 2),
        ("week", d("2025-03-10"), "U1", "North", 1, 0, 0, 1, 0, 1, 1, 1.0, 1),
        ("week", d("2025-03-10"), "U3", "South", 1, 0, 0, 1, 0, 0, 0, None, 1),
        ("week", d("2025-03-31"), "U1", "North", 1, 1, 0, 0, 0, 1, 1, 1.0, 1),
    ])


def test_pipeline_value(warehouse):
    # Open, not omitted, at the end of each month (midnight local) and on 2025-06-15; weighted = amount x probability,
    # the stage default (Prospecting 10, Qualification 20, Discovery 40, Proposal 60, Negotiation 80) when NULL.
    # End of March = 2025-03-31 22:00 UTC: O1 is still in Negotiation (it closes at 23:30 UTC).
    # O2's 50000 DKK is 5000 EUR at the snapshot month's 0.10. O4 is 6000 until 10 May, then 8000 and expected in Q3.
    # On 06-15, O5 carries its own probability 50 and O6 is omitted.
    assert_rows(warehouse, """
        select snapshot_date, is_month_end, owner_id, stage, expected_close_quarter, open_count, open_amount, weighted_amount
        from marts.fct_kpi_pipeline_value order by snapshot_date, owner_id, stage_order""", [
        (d("2025-01-31"), True, "U1", "Qualification", d("2025-01-01"), 1, 10000.0, 2000.0),
        (d("2025-02-28"), True, "U1", "Qualification", d("2025-04-01"), 1, 5000.0, 1000.0),
        (d("2025-02-28"), True, "U1", "Proposal", d("2025-01-01"), 1, 10000.0, 6000.0),
        (d("2025-03-31"), True, "U1", "Qualification", d("2025-04-01"), 1, 5000.0, 1000.0),
        (d("2025-03-31"), True, "U1", "Negotiation", d("2025-01-01"), 1, 10000.0, 8000.0),
        (d("2025-03-31"), True, "U2", "Prospecting", d("2025-04-01"), 1, 6000.0, 600.0),
        (d("2025-04-30"), True, "U2", "Prospecting", d("2025-04-01"), 1, 6000.0, 600.0),
        (d("2025-04-30"), True, "U2", "Discovery", d("2025-04-01"), 1, 20000.0, 8000.0),
        (d("2025-05-31"), True, "U2", "Proposal", d("2025-07-01"), 1, 8000.0, 4800.0),
        (d("2025-05-31"), True, "U3", "Prospecting", d("2025-04-01"), 1, 4000.0, 400.0),
        (d("2025-05-31"), True, "U3", "Discovery", d("2025-04-01"), 1, 6000.0, 2400.0),
        (d("2025-06-15"), False, "U2", "Proposal", d("2025-07-01"), 1, 8000.0, 4800.0),
        (d("2025-06-15"), False, "U3", "Qualification", d("2025-04-01"), 1, 4000.0, 2000.0),
    ])


def test_pipeline_created(warehouse):
    # Created per month at the current amount and the created month's rate (O2: 50000 DKK x 0.10 in February).
    assert_rows(warehouse, """
        select period_month, owner_id, product_line, created_count, created_amount, won_to_date_count, still_open_count
        from marts.fct_kpi_pipeline_created order by all""", [
        (d("2025-01-01"), "U1", "Platform", 1, 10000.0, 1, 0),
        (d("2025-02-01"), "U1", "Analytics", 1, 5000.0, 0, 0),
        (d("2025-03-01"), "U2", "Services", 1, 8000.0, 0, 1),
        (d("2025-04-01"), "U2", "Platform", 1, 20000.0, 1, 0),
        (d("2025-05-01"), "U3", "Analytics", 2, 10000.0, 1, 1),
        (d("2025-06-01"), "U3", "Platform", 1, 3000.0, 0, 1),
    ])


def test_forecast_accuracy(warehouse):
    # Forecast for a period = weighted pipeline at the end of the month before, for deals expected in the period:
    #   March: O1 (expected 03-31) 6000 at the end of February; actual March 0 (O1 closed in April, local) -> APE NULL.
    #   April: O2 1000; actual O1 10000 -> error -9000, APE 0.9, accuracy 0.1, bias -0.9.
    #   May: O3 8000 (end of April); actual 20000 -> error -12000, APE 0.6.
    #   June: O5 400 + O9 2400 = 2800 (South); actual O9 6000 -> error -3200, APE 3200 / 6000.
    #   Q2: end of March, expected in April-June: O2 1000 + O4 600 = 1600 (North); actuals North 10000 + 20000, South 6000.
    # Submissions for Q2 made before 1 April 00:00 local: U1's 12000 of 2025-03-31 21:00 UTC (23:00 local) is the latest;
    # 22:30 UTC is already 1 April locally. U2 18000. North 30000 = actual, South has none.
    assert_rows(warehouse, """
        select level, period_grain, period_start, team, pipeline_forecast, actual_amount, forecast_error,
            absolute_percentage_error, forecast_accuracy, forecast_bias, submitted_forecast, submitted_error, submitted_accuracy
        from marts.fct_kpi_forecast_accuracy order by level desc, period_grain, period_start, team""", [
        ("team", "month", d("2025-03-01"), "North", 6000.0, 0.0, 6000.0, None, None, None, None, None, None),
        ("team", "month", d("2025-04-01"), "North", 1000.0, 10000.0, -9000.0, 0.9, 0.1, -0.9, None, None, None),
        ("team", "month", d("2025-05-01"), "North", 8000.0, 20000.0, -12000.0, 0.6, 0.4, -0.6, None, None, None),
        ("team", "month", d("2025-06-01"), "South", 2800.0, 6000.0, -3200.0, 3200 / 6000, 1 - 3200 / 6000, -3200 / 6000, None, None, None),
        ("team", "quarter", d("2025-04-01"), "North", 1600.0, 30000.0, -28400.0, 28400 / 30000, 1 - 28400 / 30000, -28400 / 30000, 30000.0, 0.0, 1.0),
        ("team", "quarter", d("2025-04-01"), "South", 0.0, 6000.0, -6000.0, 1.0, 0.0, -1.0, None, None, None),
        ("company", "month", d("2025-03-01"), "all", 6000.0, 0.0, 6000.0, None, None, None, None, None, None),
        ("company", "month", d("2025-04-01"), "all", 1000.0, 10000.0, -9000.0, 0.9, 0.1, -0.9, None, None, None),
        ("company", "month", d("2025-05-01"), "all", 8000.0, 20000.0, -12000.0, 0.6, 0.4, -0.6, None, None, None),
        ("company", "month", d("2025-06-01"), "all", 2800.0, 6000.0, -3200.0, 3200 / 6000, 1 - 3200 / 6000, -3200 / 6000, None, None, None),
        ("company", "quarter", d("2025-04-01"), "all", 1600.0, 36000.0, -34400.0, 34400 / 36000, 1 - 34400 / 36000, -34400 / 36000, 30000.0, -6000.0, 1 - 6000 / 36000),
    ])


def test_recurring_revenue(warehouse):
    # Month-end MRR: A1 (Enterprise) S1 1000 from January, + S4 200 on 31 March only (ends 04-29) -> expansion, contraction.
    # A2 (SMB) S2 500 in February and March (last day 03-31), nothing on 30 April -> churn, S3 300 from May -> reactivation.
    # A3 (Mid-Market) S5 10000 DKK: April 0.10 -> 1000 new; May 0.12 -> 1200, all of it fx (+200); June S6 5000 DKK
    # x 0.12 = 600 -> contraction -600.
    assert_rows(warehouse, """
        select period_month, segment, opening_mrr, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr, churned_mrr,
            fx_mrr, mrr, arr, paying_accounts
        from marts.fct_kpi_recurring_revenue order by all""", [
        (d("2025-01-01"), "Enterprise", 0.0, 1000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0, 12000.0, 1),
        (d("2025-02-01"), "Enterprise", 1000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0, 12000.0, 1),
        (d("2025-02-01"), "SMB", 0.0, 500.0, 0.0, 0.0, 0.0, 0.0, 0.0, 500.0, 6000.0, 1),
        (d("2025-03-01"), "Enterprise", 1000.0, 0.0, 0.0, 200.0, 0.0, 0.0, 0.0, 1200.0, 14400.0, 1),
        (d("2025-03-01"), "SMB", 500.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 500.0, 6000.0, 1),
        (d("2025-04-01"), "Enterprise", 1200.0, 0.0, 0.0, 0.0, -200.0, 0.0, 0.0, 1000.0, 12000.0, 1),
        (d("2025-04-01"), "Mid-Market", 0.0, 1000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0, 12000.0, 1),
        (d("2025-04-01"), "SMB", 500.0, 0.0, 0.0, 0.0, 0.0, -500.0, 0.0, 0.0, 0.0, 0),
        (d("2025-05-01"), "Enterprise", 1000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0, 12000.0, 1),
        (d("2025-05-01"), "Mid-Market", 1000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 200.0, 1200.0, 14400.0, 1),
        (d("2025-05-01"), "SMB", 0.0, 0.0, 300.0, 0.0, 0.0, 0.0, 0.0, 300.0, 3600.0, 1),
        (d("2025-06-01"), "Enterprise", 1000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0, 12000.0, 1),
        (d("2025-06-01"), "Mid-Market", 1200.0, 0.0, 0.0, 0.0, -600.0, 0.0, 0.0, 600.0, 7200.0, 1),
        (d("2025-06-01"), "SMB", 300.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 300.0, 3600.0, 1),
    ])


def test_customer_retention(warehouse):
    # Customers at month ends: Jan {A1}; Feb, Mar {A1, A2}; Apr {A1, A3}; May, Jun {A1, A2, A3}.
    # March: start A1 1000 + A2 500, end A1 1200 + A2 500: GRR (1000 + 500) / 1500 = 1, NRR 1700 / 1500.
    # April: start (end of March) A1 1200 + A2 500; end A1 1000 + A3 1000: new 1 (A3), churned 1 (A2),
    #   retention (2 - 1) / 2 = 0.5; GRR = (min(1000, 1200) + 0) / 1700; NRR = (1000 + 0) / 1700.
    # May: start A1 1000 + A3 1000; end A1 1000, A2 300, A3 1200: new 1 (A2 back), retention (3 - 1) / 2 = 1,
    #   GRR (1000 + 1000) / 2000 = 1, NRR (1000 + 1200) / 2000 = 1.1.
    # Q2: start (end of March) A1 1200, A2 500; end (end of June) A1 1000, A2 300, A3 600: new 1, retention 1,
    #   GRR = NRR = (1000 + 300) / 1700. No quarter or year other than Q2 has both ends inside the data.
    assert_rows(warehouse, """
        select period_grain, period_start, sum(customers_start), sum(customers_end), sum(new_customers),
            sum(churned_customers), (sum(customers_end) - sum(new_customers)) / sum(customers_start),
            sum(churned_customers) / sum(customers_start), sum(retained_mrr_capped) / sum(start_mrr),
            sum(start_customers_end_mrr) / sum(start_mrr)
        from marts.fct_kpi_customer_retention group by 1, 2 order by 1, 2""", [
        ("month", d("2025-02-01"), 1, 2, 1, 0, 1.0, 0.0, 1.0, 1.0),
        ("month", d("2025-03-01"), 2, 2, 0, 0, 1.0, 0.0, 1.0, 1700 / 1500),
        ("month", d("2025-04-01"), 2, 2, 1, 1, 0.5, 0.5, 1000 / 1700, 1000 / 1700),
        ("month", d("2025-05-01"), 2, 3, 1, 0, 1.0, 0.0, 1.0, 1.1),
        ("month", d("2025-06-01"), 3, 3, 0, 0, 1.0, 0.0, 1900 / 2500, 1900 / 2500),
        ("quarter", d("2025-04-01"), 2, 3, 1, 0, 1.0, 0.0, 1300 / 1700, 1300 / 1700),
    ])
    # the stored ratios of one segment row: SMB in April lost its only customer
    assert_rows(warehouse, """
        select customers_start, customers_end, retention_rate, logo_churn_rate, gross_revenue_retention
        from marts.fct_kpi_customer_retention where period_grain = 'month' and period_start = '2025-04-01' and segment = 'SMB'""",
        [(1, 0, 0.0, 1.0, 0.0)])


def test_quota_attainment(warehouse):
    # Q1: U1 booked nothing (O1 closed on 1 April local). Q2: U1 10000 / 10000; U2 20000 / 25000; U3 6000 / (50000 DKK
    # x 0.10 = 5000). Q2 holds 2025-06-15: 76 of 91 days elapsed, pace = attainment x 91 / 76.
    assert_rows(warehouse, """
        select user_id, period_start, team, quota_amount_original, quota_currency, quota_amount, bookings, attainment,
            is_attained, is_current_period, share_of_period_elapsed, pace
        from marts.fct_kpi_quota_attainment order by period_start, user_id""", [
        ("U1", d("2025-01-01"), "North", 10000.0, "EUR", 10000.0, 0.0, 0.0, 0, False, None, None),
        ("U1", d("2025-04-01"), "North", 10000.0, "EUR", 10000.0, 10000.0, 1.0, 1, True, 76 / 91, 91 / 76),
        ("U2", d("2025-04-01"), "North", 25000.0, "EUR", 25000.0, 20000.0, 0.8, 0, True, 76 / 91, 0.8 * 91 / 76),
        ("U3", d("2025-04-01"), "South", 50000.0, "DKK", 5000.0, 6000.0, 1.2, 1, True, 76 / 91, 1.2 * 91 / 76),
    ])
    # team North in Q2: (10000 + 20000) / (10000 + 25000); share of reps at quota: 2 of 3
    assert_rows(warehouse, """
        select sum(bookings) / sum(quota_amount) from marts.fct_kpi_quota_attainment
        where period_start = '2025-04-01' and team = 'North'""", [(30000 / 35000,)])
    assert_rows(warehouse, "select avg(is_attained) from marts.fct_kpi_quota_attainment where period_start = '2025-04-01'", [(2 / 3,)])


def test_customer_acquisition_cost(warehouse):
    # New customers (first won deal, local close month): A1 in April (O1, lead inbound), A3 in May (O3, no lead),
    # A2 in June (O9, lead webinar). Their MRR at the end of that month: 1000, 1200, 300.
    # Spend: April marketing 3000 inbound + 1000 webinar, sales 5000; May marketing 2000 inbound, sales 5000;
    # June marketing 1500 webinar, sales 40000 DKK x 0.12 = 4800.
    # Every channel has a row for every month: webinar spent nothing in May, inbound nothing in June.
    assert_rows(warehouse, """
        select scope, period_grain, period_start, channel, marketing_spend, sales_spend, acquisition_spend, new_customers,
            cac, average_new_customer_mrr, cac_payback_months
        from marts.fct_kpi_customer_acquisition_cost order by scope desc, period_grain, period_start, channel""", [
        ("company", "month", d("2025-04-01"), "all", 4000.0, 5000.0, 9000.0, 1, 9000.0, 1000.0, 9.0),
        ("company", "month", d("2025-05-01"), "all", 2000.0, 5000.0, 7000.0, 1, 7000.0, 1200.0, 7000 / 1200),
        ("company", "month", d("2025-06-01"), "all", 1500.0, 4800.0, 6300.0, 1, 6300.0, 300.0, 21.0),
        ("company", "quarter", d("2025-04-01"), "all", 7500.0, 14800.0, 22300.0, 3, 22300 / 3, 2500 / 3, 22300 / 2500),
        ("channel", "month", d("2025-04-01"), "inbound", 3000.0, 0.0, 3000.0, 1, 3000.0, 1000.0, 3.0),
        ("channel", "month", d("2025-04-01"), "webinar", 1000.0, 0.0, 1000.0, 0, None, None, None),
        ("channel", "month", d("2025-05-01"), "inbound", 2000.0, 0.0, 2000.0, 0, None, None, None),
        ("channel", "month", d("2025-05-01"), "webinar", 0.0, 0.0, 0.0, 0, None, None, None),
        ("channel", "month", d("2025-06-01"), "inbound", 0.0, 0.0, 0.0, 0, None, None, None),
        ("channel", "month", d("2025-06-01"), "webinar", 1500.0, 0.0, 1500.0, 1, 1500.0, 300.0, 5.0),
        ("channel", "quarter", d("2025-04-01"), "inbound", 5000.0, 0.0, 5000.0, 1, 5000.0, 1000.0, 5.0),
        ("channel", "quarter", d("2025-04-01"), "webinar", 2500.0, 0.0, 2500.0, 1, 2500.0, 300.0, 2500 / 300),
    ])


def test_pipeline_velocity(warehouse):
    # Trailing 90 days ending on the snapshot date (local close dates): O1 won 04-01 (81 d), O2 lost 04-15 (U1),
    # O3 won 05-20 (U2, 48 d, 20000), O9 won 06-10 (U3, 40 d, 6000).
    #   04-30: U1 has 1 won / 2 closed but nothing open -> velocity 0; U2 has O3 and O4 open but no closes -> NULL.
    #   05-31: U2 open O4 -> 1 x 1.0 x 20000 / 48; U3 open O5 and O9, no closes -> NULL.
    #   06-15: U3 open O5 (O6 omitted) -> 1 x 1.0 x 6000 / 40 = 150.
    assert_rows(warehouse, """
        select snapshot_date, owner_id, open_count, won_count_90d, lost_count_90d, win_rate_90d, average_deal_size_90d,
            average_cycle_days_90d, pipeline_velocity_per_day
        from marts.fct_kpi_pipeline_velocity where snapshot_date >= '2025-04-30' order by 1, 2""", [
        (d("2025-04-30"), "U1", 0, 1, 1, 0.5, 10000.0, 81.0, 0.0),
        (d("2025-04-30"), "U2", 2, 0, 0, None, None, None, None),
        (d("2025-05-31"), "U1", 0, 1, 1, 0.5, 10000.0, 81.0, 0.0),
        (d("2025-05-31"), "U2", 1, 1, 0, 1.0, 20000.0, 48.0, 20000 / 48),
        (d("2025-05-31"), "U3", 2, 0, 0, None, None, None, None),
        (d("2025-06-15"), "U1", 0, 1, 1, 0.5, 10000.0, 81.0, 0.0),
        (d("2025-06-15"), "U2", 1, 1, 0, 1.0, 20000.0, 48.0, 20000 / 48),
        (d("2025-06-15"), "U3", 1, 1, 0, 1.0, 6000.0, 40.0, 150.0),
    ])


def test_data_quality_counts(warehouse):
    # O7 negative, O8 deleted, L6 deleted, ACT8 deleted; every other check ran and found nothing
    assert_rows(warehouse, """
        select table_name, issue_type, row_count from marts.fct_data_quality_issues where row_count > 0 order by all""", [
        ("activities", "deleted", 1),
        ("leads", "deleted", 1),
        ("opportunities", "deleted", 1),
        ("opportunities", "negative_amount", 1),
    ])


def test_every_query_of_the_kpi_page_runs(warehouse):
    page = (Path(__file__).parent.parent / "docs" / "kpis.md").read_text()
    queries = [block.split("```", 1)[0] for block in page.split("```sql\n")[1:]]
    assert len(queries) >= 16
    for sql in queries:
        result = rows(warehouse, sql)
        assert result, f"the KPI page's query returned nothing on the hand-made data:\n{sql}"


def test_every_mart_is_the_same_on_every_engine(engine_builds):
    # the same rows on every engine, money equal to the cent, ratios to 1e-9, the same column types
    builds = {name: engine_builds.build("hand_made", name, land, AS_OF) for name in ENGINES}
    assert_marts_equal(builds)

