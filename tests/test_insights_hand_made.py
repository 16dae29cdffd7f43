"""Every insight mart on a small hand-made CRM (tests/fixtures/insights_hand_made), computed by hand.

As of 2025-06-30, business time zone Europe/Copenhagen, reporting currency EUR (DKK = 0.10 EUR in
every month). Every timestamp is 10:00 UTC, so local dates equal the UTC dates and durations are
whole days. Every deal starts in Prospecting, most move to Proposal, then close:

    deal owner account (industry, segment)  product line  created  Proposal  closed        amount     bundle
    D1   U1    A1 (Software, Enterprise)    Platform      01-06    01-16     02-05 won     10000      P1 + P2
    D2   U2    A2 (Retail, SMB)             Analytics     01-08    01-18     02-07 lost     5000      P3
    D3   U3    A3 (Software, Mid-Market)    Platform      02-03    02-08     03-10 won      8000      P1 twice
    D4   U3    A4 (Retail, SMB)             Analytics     02-10    -         03-12 lost     3000      none
    D5   U1    A1                           Analytics     04-01    04-11     05-01 lost     6000      P3
    D6   U2    A2                           Platform      04-07    04-17     04-27 won     30000 DKK  P1 + P2
    D7   U3    A3                           Platform      04-14    04-24     05-14 lost     9000      none
    D8   U3    A4                           Analytics     04-20    05-10     06-19 won      4000      P3
    D9   U1    A1                           Platform      03-03    03-13     open          12000  expected 06-15
    D10  U2    A2                           Analytics     06-02    -         open           7000  expected 08-31
    D11  U3    A3                           Platform      06-16    06-23     open           5000  expected 07-31

Expected close dates of the closed deals are their close dates, except D6 (04-30) and D8 (05-31).
Teams: U1 and U2 North, U3 South. The build uses smaller activity buckets than the defaults (weekly
0 / 0.5 / 1, per deal 0 / 2 / 4) so that a handful of activities spreads over every bucket.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pytest

from orchestration.dbt.runner import dbt_target_dir, run_dbt
from orchestration.landing import land_directory
from tests.exact_rows import assert_rows, rows

FIXTURE = Path(__file__).parent / "fixtures" / "insights_hand_made"
AS_OF = date(2025, 6, 30)
BUCKETS = {"weekly_activity_buckets": [0, 0.5, 1], "deal_activity_buckets": [0, 2, 4]}
Z = 1.96
d = date.fromisoformat


def wilson(successes: int, trials: int) -> tuple[float, float]:
    p = successes / trials
    centre = (p + Z * Z / (2 * trials)) / (1 + Z * Z / trials)
    half = Z * math.sqrt(p * (1 - p) / trials + Z * Z / (4 * trials * trials)) / (1 + Z * Z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("insights_hand_made") / "warehouse.duckdb"
    report = land_directory(FIXTURE, path)
    assert report.rows_read == report.rows_landed == 102
    result = run_dbt(["build"], path, quiet=True, as_of=AS_OF, variables=BUCKETS)
    assert result.returncode == 0, result.stdout[-3000:]
    return path


def test_rep_activity_intensity(warehouse):
    # Completed, not deleted activities per owner and month (X07 is deleted, X18 not completed):
    #   U1: Jan X01-X03 = 3, Feb X04 + X05 (after D1 closed, still the rep's work) = 2, Mar X11 (A5, no deal) = 1, Apr X12-X13 = 2
    #   U2: Jan X06 = 1, Apr X14-X17 + X19 = 5;  U3: Feb X08-X09 = 2, Mar X10 = 1, May X20-X22 = 3, Jun X23 = 1
    # Per week = count x 7 / days of the month; buckets [0, 0.5), [0.5, 1), 1+. Closed that month by the owner:
    #   U1 Feb D1 won (30 days), U1 May D5 lost, U2 Feb D2 lost, U2 Apr D6 won (20 days, 3000),
    #   U3 Mar D3 won (35 days) and D4 lost, U3 May D7 lost, U3 Jun D8 won (60 days).
    assert_rows(warehouse, """
        select period_month, owner_id, days_in_period, activity_count, activities_per_week, intensity_bucket,
            won_count, lost_count, win_rate, won_amount, won_cycle_days_sum, won_cycle_count
        from marts.fct_insight_rep_activity_intensity order by period_month, owner_id""", [
        (d("2025-01-01"), "U1", 31, 3, 21 / 31, "0.5-1", 0, 0, None, 0.0, 0, 0),
        (d("2025-01-01"), "U2", 31, 1, 7 / 31, "0-0.5", 0, 0, None, 0.0, 0, 0),
        (d("2025-02-01"), "U1", 28, 2, 0.5, "0.5-1", 1, 0, 1.0, 10000.0, 30, 1),
        (d("2025-02-01"), "U2", 28, 0, 0.0, "0-0.5", 0, 1, 0.0, 0.0, 0, 0),
        (d("2025-02-01"), "U3", 28, 2, 0.5, "0.5-1", 0, 0, None, 0.0, 0, 0),
        (d("2025-03-01"), "U1", 31, 1, 7 / 31, "0-0.5", 0, 0, None, 0.0, 0, 0),
        (d("2025-03-01"), "U3", 31, 1, 7 / 31, "0-0.5", 1, 1, 0.5, 8000.0, 35, 1),
        (d("2025-04-01"), "U1", 30, 2, 14 / 30, "0-0.5", 0, 0, None, 0.0, 0, 0),
        (d("2025-04-01"), "U2", 30, 5, 35 / 30, "1+", 1, 0, 1.0, 3000.0, 20, 1),
        (d("2025-05-01"), "U1", 31, 0, 0.0, "0-0.5", 0, 1, 0.0, 0.0, 0, 0),
        (d("2025-05-01"), "U3", 31, 3, 21 / 31, "0.5-1", 0, 1, 0.0, 0.0, 0, 0),
        (d("2025-06-01"), "U3", 30, 1, 7 / 30, "0-0.5", 1, 0, 1.0, 4000.0, 60, 1),
    ])
    # per bucket, parts summed: 0-0.5 won 2 of 5 (U1 May, U2 Feb, U3 Mar 1/2, U3 Jun), 0.5-1 won 1 of 2, 1+ 1 of 1;
    # activities per week of the 0-0.5 bucket = 7 x (1 + 0 + 1 + 1 + 2 + 0 + 1) / (31 + 28 + 31 + 31 + 30 + 31 + 30),
    # of 0.5-1 (U1 Jan and Feb, U3 Feb and May) 7 x (3 + 2 + 2 + 3) / (31 + 28 + 28 + 31)
    assert_rows(warehouse, """
        select intensity_bucket, sum(won_count), sum(won_count + lost_count), sum(won_count) / sum(won_count + lost_count),
            7.0 * sum(activity_count) / sum(days_in_period)
        from marts.fct_insight_rep_activity_intensity group by intensity_bucket order by min(intensity_bucket_order)""", [
        ("0-0.5", 2, 5, 0.4, 7 * 6 / 212), ("0.5-1", 1, 2, 0.5, 7 * 10 / 118), ("1+", 1, 1, 1.0, 35 / 30),
    ])


def test_deal_activity_intensity(warehouse):
    # Activities on the deal before it closed: D1 X01-X04 = 4 (X05 is after the close), D2 X06 = 1 (X07 deleted),
    # D3 3, D4 0, D5 2, D6 5 (X18 not completed), D7 1, D8 3. Buckets [0, 2) "0-1", [2, 4) "2-3", 4+.
    assert_rows(warehouse, """
        select period_month, owner_id, segment, intensity_bucket, closed_count, won_count, lost_count, activity_count,
            win_rate, won_amount, won_cycle_days_sum
        from marts.fct_insight_deal_activity_intensity order by all""", [
        (d("2025-02-01"), "U1", "Enterprise", "4+", 1, 1, 0, 4, 1.0, 10000.0, 30),
        (d("2025-02-01"), "U2", "SMB", "0-1", 1, 0, 1, 1, 0.0, 0.0, 0),
        (d("2025-03-01"), "U3", "Mid-Market", "2-3", 1, 1, 0, 3, 1.0, 8000.0, 35),
        (d("2025-03-01"), "U3", "SMB", "0-1", 1, 0, 1, 0, 0.0, 0.0, 0),
        (d("2025-04-01"), "U2", "SMB", "4+", 1, 1, 0, 5, 1.0, 3000.0, 20),
        (d("2025-05-01"), "U1", "Enterprise", "2-3", 1, 0, 1, 2, 0.0, 0.0, 0),
        (d("2025-05-01"), "U3", "Mid-Market", "0-1", 1, 0, 1, 1, 0.0, 0.0, 0),
        (d("2025-06-01"), "U3", "SMB", "2-3", 1, 1, 0, 3, 1.0, 4000.0, 60),
    ])
    # the worked deals win: 0-1 won 0 of 3, 2-3 won 2 of 3 (cycle (35 + 60) / 2), 4+ won 2 of 2 (cycle (30 + 20) / 2)
    low, high = wilson(2, 3)
    assert_rows(warehouse, """
        select intensity_bucket, sum(won_count), sum(closed_count), sum(won_cycle_days_sum) / nullif(sum(won_cycle_count), 0)
        from marts.fct_insight_deal_activity_intensity group by 1 order by min(intensity_bucket_order)""", [
        ("0-1", 0, 3, None), ("2-3", 2, 3, 47.5), ("4+", 2, 2, 25.0),
    ])
    assert_rows(warehouse, """select win_rate_ci_low, win_rate_ci_high from marts.fct_insight_deal_activity_intensity
        where owner_id = 'U1' and intensity_bucket = '4+'""", [wilson(1, 1)])
    assert low < 2 / 3 < high


def test_stage_win_probability(warehouse):
    # Real stage visits of closed deals (D4 never reached Proposal), closed by each snapshot:
    #   01-31 none; 02-28 D1 won, D2 lost; 03-31 + D3 won, D4 lost (Prospecting only); 04-30 + D6 won;
    #   05-31 + D5, D7 lost; 06-30 + D8 won.
    # calibrated = (won + 10 x default) / (reached + 10), defaults Prospecting 0.1, Proposal 0.6.
    expected = {
        "2025-01-31": ((0, 0), (0, 0)), "2025-02-28": ((2, 1), (2, 1)), "2025-03-31": ((4, 2), (3, 2)),
        "2025-04-30": ((5, 3), (4, 3)), "2025-05-31": ((7, 3), (6, 3)), "2025-06-30": ((8, 4), (7, 4)),
    }
    want = []
    for snapshot, stages in expected.items():
        for stage, default, (reached, won) in zip(("Prospecting", "Proposal"), (0.1, 0.6), stages):
            empirical = won / reached if reached else None
            want.append((d(snapshot), stage, reached, won, empirical, (won + 10 * default) / (reached + 10)))
    assert_rows(warehouse, """
        select snapshot_date, stage, reached_count, won_count, empirical_probability, calibrated_probability
        from marts.fct_insight_stage_win_probability
        where cut = 'all' and stage in ('Prospecting', 'Proposal') order by snapshot_date, stage_order""", want)
    # a stage no deal sat in keeps its default; every open stage has a row at every snapshot
    assert_rows(warehouse, """select count(*), min(calibrated_probability), max(calibrated_probability)
        from marts.fct_insight_stage_win_probability where cut = 'all' and stage = 'Negotiation'""", [(6, 0.8, 0.8)])
    # by segment at the build date: SMB deals D2 lost, D4 lost, D6 won, D8 won sat in Prospecting: 2 of 4
    assert_rows(warehouse, """select reached_count, won_count, empirical_probability_ci_low, empirical_probability_ci_high
        from marts.fct_insight_stage_win_probability
        where snapshot_date = '2025-06-30' and cut = 'segment' and cut_value = 'SMB' and stage = 'Prospecting'""",
        [(4, 2, *wilson(2, 4))])


def test_calibrated_pipeline(warehouse):
    # Open at each month end (and the build date); weighted at 60 % / 10 % (no deal has its own probability),
    # calibrated at the snapshot's learned probabilities of test_stage_win_probability.
    assert_rows(warehouse, """
        select snapshot_date, owner_id, segment, stage, expected_close_quarter, open_count, open_amount, weighted_amount,
            calibrated_weighted_amount
        from marts.fct_insight_calibrated_pipeline order by snapshot_date, owner_id, segment, stage""", [
        (d("2025-01-31"), "U1", "Enterprise", "Proposal", d("2025-01-01"), 1, 10000.0, 6000.0, 6000.0),
        (d("2025-01-31"), "U2", "SMB", "Proposal", d("2025-01-01"), 1, 5000.0, 3000.0, 3000.0),
        (d("2025-02-28"), "U3", "Mid-Market", "Proposal", d("2025-01-01"), 1, 8000.0, 4800.0, 8000 * 7 / 12),
        (d("2025-02-28"), "U3", "SMB", "Prospecting", d("2025-01-01"), 1, 3000.0, 300.0, 500.0),
        (d("2025-03-31"), "U1", "Enterprise", "Proposal", d("2025-04-01"), 1, 12000.0, 7200.0, 12000 * 8 / 13),
        (d("2025-04-30"), "U1", "Enterprise", "Proposal", d("2025-04-01"), 2, 18000.0, 10800.0, 18000 * 9 / 14),
        (d("2025-04-30"), "U3", "Mid-Market", "Proposal", d("2025-04-01"), 1, 9000.0, 5400.0, 9000 * 9 / 14),
        (d("2025-04-30"), "U3", "SMB", "Prospecting", d("2025-04-01"), 1, 4000.0, 400.0, 4000 * 4 / 15),
        (d("2025-05-31"), "U1", "Enterprise", "Proposal", d("2025-04-01"), 1, 12000.0, 7200.0, 12000 * 9 / 16),
        (d("2025-05-31"), "U3", "SMB", "Proposal", d("2025-04-01"), 1, 4000.0, 2400.0, 4000 * 9 / 16),
        (d("2025-06-30"), "U1", "Enterprise", "Proposal", d("2025-04-01"), 1, 12000.0, 7200.0, 12000 * 10 / 17),
        (d("2025-06-30"), "U2", "SMB", "Prospecting", d("2025-07-01"), 1, 7000.0, 700.0, 7000 * 5 / 18),
        (d("2025-06-30"), "U3", "Mid-Market", "Proposal", d("2025-07-01"), 1, 5000.0, 3000.0, 5000 * 10 / 17),
    ])


def test_forecast_backtest(warehouse):
    # Forecast of a period = the snapshot at the end of the month before, deals expected in the period:
    #   Feb (01-31): D1 6000 (U1), D2 3000 (U2), learned = default; actual D1 10000.
    #   Mar (02-28): D3 4800 | 8000 x 7/12 and D4 300 | 500 (U3); actual D3 8000.
    #   Apr (03-31): D9 expects June, so 0; actual D6 3000 (U2).
    #   May (04-30): D5 3600 | 6000 x 9/14 (U1); D7 5400 | 9000 x 9/14 and D8 400 | 4000 x 4/15 (U3); actual 0 (both lost).
    #   Jun (05-31): D9 7200 | 12000 x 9/16 (U1); D8 expected May; actual D8 4000 (U3).
    #   Q1: no snapshot before 2025 -> NULL; Q2 (03-31): D9 7200 | 12000 x 8/13; actuals U2 3000, U3 4000.
    assert_rows(warehouse, """
        select period_grain, period_start, owner_id, default_forecast, calibrated_forecast, actual_amount,
            default_absolute_percentage_error, calibrated_absolute_percentage_error, default_bias
        from marts.fct_insight_forecast_backtest order by period_grain, period_start, owner_id""", [
        ("month", d("2025-02-01"), "U1", 6000.0, 6000.0, 10000.0, 0.4, 0.4, -0.4),
        ("month", d("2025-02-01"), "U2", 3000.0, 3000.0, 0.0, None, None, None),
        ("month", d("2025-03-01"), "U3", 5100.0, 8000 * 7 / 12 + 500, 8000.0, 2900 / 8000, (8000 - 8000 * 7 / 12 - 500) / 8000, -2900 / 8000),
        ("month", d("2025-04-01"), "U2", 0.0, 0.0, 3000.0, 1.0, 1.0, -1.0),
        ("month", d("2025-05-01"), "U1", 3600.0, 6000 * 9 / 14, 0.0, None, None, None),
        ("month", d("2025-05-01"), "U3", 5800.0, 9000 * 9 / 14 + 4000 * 4 / 15, 0.0, None, None, None),
        ("month", d("2025-06-01"), "U1", 7200.0, 6750.0, 0.0, None, None, None),
        ("month", d("2025-06-01"), "U3", 0.0, 0.0, 4000.0, 1.0, 1.0, -1.0),
        ("quarter", d("2025-01-01"), "U1", None, None, 10000.0, None, None, None),
        ("quarter", d("2025-01-01"), "U3", None, None, 8000.0, None, None, None),
        ("quarter", d("2025-04-01"), "U1", 7200.0, 12000 * 8 / 13, 0.0, None, None, None),
        ("quarter", d("2025-04-01"), "U2", 0.0, 0.0, 3000.0, 1.0, 1.0, -1.0),
        ("quarter", d("2025-04-01"), "U3", 0.0, 0.0, 4000.0, 1.0, 1.0, -1.0),
    ])
    # company Q2, summed then divided: default 7200 vs 7000 -> APE 200 / 7000; calibrated 12000 x 8/13 vs 7000
    assert_rows(warehouse, """
        select sum(default_forecast), sum(calibrated_forecast), sum(actual_amount),
            abs(sum(default_forecast) - sum(actual_amount)) / sum(actual_amount),
            abs(sum(calibrated_forecast) - sum(actual_amount)) / sum(actual_amount)
        from marts.fct_insight_forecast_backtest where period_grain = 'quarter' and period_start = '2025-04-01'""",
        [(7200.0, 12000 * 8 / 13, 7000.0, 200 / 7000, (12000 * 8 / 13 - 7000) / 7000)])


def test_backtest_default_forecast_is_the_kpi_forecast(warehouse):
    assert rows(warehouse, """
        with backtest as (
            select b.period_grain, b.period_start, coalesce(u.team, 'unknown') as team,
                sum(b.default_forecast) as forecast, sum(b.actual_amount) as actual
            from marts.fct_insight_forecast_backtest b left join marts.dim_users u on u.user_id = b.owner_id
            group by 1, 2, 3)
        select * from backtest b full join (select * from marts.fct_kpi_forecast_accuracy where level = 'team') k
            on b.period_grain = k.period_grain and b.period_start = k.period_start and b.team = k.team
        where b.forecast is distinct from k.pipeline_forecast or b.actual is distinct from k.actual_amount""") == []
    assert rows(warehouse, """
        select p.snapshot_date from (select snapshot_date, sum(weighted_amount) w from marts.fct_kpi_pipeline_value group by 1) p
        full join (select snapshot_date, sum(weighted_amount) w from marts.fct_insight_calibrated_pipeline group by 1) c
            using (snapshot_date)
        where p.w is distinct from c.w""") == []


def test_stalled_deals(warehouse):
    # Benchmarks from won deals' real visits (all ended within 365 days of 06-30):
    #   Prospecting D1 10, D3 5, D6 10, D8 20 -> sorted 5, 10, 10, 20: p75 at position 2.25 = 10 + 0.25 x 10 = 12.5, median 10
    #   Proposal D1 20, D3 30, D6 10, D8 40 -> 10, 20, 30, 40: p75 = 30 + 0.25 x 10 = 32.5, median 25
    # Open on 06-30: D9 in Proposal since 03-13 = 18 + 30 + 31 + 30 = 109 days (stalled; expected 06-15, 15 days late),
    # D10 in Prospecting since 06-02 = 28 days (stalled), D11 in Proposal since 06-23 = 7 days (not).
    assert_rows(warehouse, """
        select opportunity_id, owner_id, stage, entered_stage_date, days_in_stage, benchmark_days, benchmark_median_days,
            benchmark_visit_count, days_over_benchmark, is_stalled, days_past_expected_close, amount, weighted_amount
        from marts.fct_insight_stalled_deals order by days_over_benchmark desc""", [
        ("D9", "U1", "Proposal", d("2025-03-13"), 109, 32.5, 25.0, 4, 76.5, True, 15, 12000.0, 7200.0),
        ("D10", "U2", "Prospecting", d("2025-06-02"), 28, 12.5, 10.0, 4, 15.5, True, 0, 7000.0, 700.0),
        ("D11", "U3", "Proposal", d("2025-06-23"), 7, 32.5, 25.0, 4, -25.5, False, 0, 5000.0, 3000.0),
    ])


def test_bundle_deal_size(warehouse):
    # Distinct products on the deal's line items: D1 P1 + P2 and D6 P1 + P2 are multi-product; D3 holds P1 twice and is
    # single-product like D2, D5, D8; D4 and D7 have no line items. D6 is 30000 DKK = 3000 EUR.
    assert_rows(warehouse, """
        select bundle_type, sum(closed_count), sum(won_count), sum(won_amount), sum(won_amount) / nullif(sum(won_count), 0),
            sum(won_product_count) / nullif(sum(won_count), 0)
        from marts.fct_insight_bundle_deal_size group by 1 order by 1""", [
        ("multi_product", 2, 2, 13000.0, 6500.0, 2.0),
        ("no_line_items", 2, 0, 0.0, None, None),
        ("single_product", 4, 2, 12000.0, 6000.0, 1.0),
    ])
    assert_rows(warehouse, """select win_rate, win_rate_ci_low, win_rate_ci_high from marts.fct_insight_bundle_deal_size
        where period_month = '2025-03-01' and bundle_type = 'single_product'""", [(1.0, *wilson(1, 1))])


def test_retention_by_cadence(warehouse):
    # Customers at the end of March (start of Q2): A1 1000, A2 500, A3 800, A4 300, A5 2000; at the end of June:
    # A1 1000, A3 800, A5 2500 (A2 ended 05-31, A4 04-30). Only Q2 has both ends in the data (subscriptions start 2025).
    # Q1 activities with the account: A1 X01 call, X02 meeting, X03 email, X04 and X05 meetings -> 4 check-ins, monthly;
    # A2 X06 email (X07 deleted) -> touches only; A3 X08 call, X09 email, X10 meeting -> 2, quarterly;
    # A4 nothing -> no contact; A5 X11 meeting -> 1, quarterly.
    assert_rows(warehouse, """
        select period_start, engagement_quarter_start, owner_id, segment, cadence, customers_start, retained_customers,
            churned_customers, retention_rate, touch_count, check_in_count, start_mrr, retained_mrr_capped,
            start_customers_end_mrr, net_revenue_retention
        from marts.fct_insight_retention_by_cadence order by owner_id, cadence_order""", [
        (d("2025-04-01"), d("2025-01-01"), "U1", "Enterprise", "quarterly_check_in", 1, 1, 0, 1.0, 1, 1, 2000.0, 2000.0, 2500.0, 1.25),
        (d("2025-04-01"), d("2025-01-01"), "U1", "Enterprise", "monthly_check_in", 1, 1, 0, 1.0, 5, 4, 1000.0, 1000.0, 1000.0, 1.0),
        (d("2025-04-01"), d("2025-01-01"), "U2", "SMB", "touches_only", 1, 0, 1, 0.0, 1, 0, 500.0, 0.0, 0.0, 0.0),
        (d("2025-04-01"), d("2025-01-01"), "U3", "SMB", "no_contact", 1, 0, 1, 0.0, 0, 0, 300.0, 0.0, 0.0, 0.0),
        (d("2025-04-01"), d("2025-01-01"), "U3", "Mid-Market", "quarterly_check_in", 1, 1, 0, 1.0, 3, 2, 800.0, 800.0, 800.0, 1.0),
    ])
    # summed over cadences it is fct_kpi_customer_retention's Q2: 5 at the start, 3 retained, 2 churned
    assert_rows(warehouse, """
        select sum(c.customers_start), sum(c.retained_customers), sum(c.start_mrr),
            (select sum(customers_start) from marts.fct_kpi_customer_retention where period_grain = 'quarter' and period_start = '2025-04-01'),
            (select sum(retained_customers) from marts.fct_kpi_customer_retention where period_grain = 'quarter' and period_start = '2025-04-01')
        from marts.fct_insight_retention_by_cadence c""", [(5, 3, 4600.0, 5, 3)])


def test_win_rate_movers(warehouse):
    # Q2 against Q1: Software won 2 of 2 (D1, D3) then 0 of 2 (D5, D7); Retail 0 of 2 (D2, D4) then 2 of 2 (D6, D8);
    # Platform 2 of 2 then 1 of 2 (D6 won, D7 lost); Analytics 0 of 2 then 1 of 2 (D5 lost, D8 won).
    # z for Software: pooled 2 / 4 = 0.5, se = sqrt(0.25 x (1/2 + 1/2)) = 0.5, z = (0 - 1) / 0.5 = -2.
    assert_rows(warehouse, """
        select dimension, dimension_value, sum(won_count), sum(won_count + lost_count), sum(previous_won_count),
            sum(previous_won_count + previous_lost_count),
            sum(won_count) / sum(won_count + lost_count) - sum(previous_won_count) / sum(previous_won_count + previous_lost_count)
        from marts.fct_insight_win_rate_movers where period_grain = 'quarter' and period_start = '2025-04-01'
        group by 1, 2 order by 1, 2""", [
        ("industry", "Retail", 2, 2, 0, 2, 1.0), ("industry", "Software", 0, 2, 2, 2, -1.0),
        ("product_line", "Analytics", 1, 2, 0, 2, 0.5), ("product_line", "Platform", 1, 2, 2, 2, -0.5),
    ])
    # one cell holds both periods' deals of one owner and segment: U3 Mid-Market Software, D3 won in Q1 and D7 lost in Q2
    assert_rows(warehouse, """
        select won_count, lost_count, previous_won_count, previous_lost_count, win_rate_change, change_z_score
        from marts.fct_insight_win_rate_movers where period_grain = 'quarter' and period_start = '2025-04-01'
            and owner_id = 'U3' and segment = 'Mid-Market' and dimension = 'industry'""", [(0, 1, 1, 0, -1.0, -math.sqrt(2))])
    assert_rows(warehouse, """select change_z_score from marts.fct_insight_win_rate_movers
        where period_grain = 'quarter' and period_start = '2025-04-01' and owner_id = 'U3' and dimension = 'product_line'
            and segment = 'Mid-Market'""", [(-math.sqrt(2),)])
    # the current parts are the win-rate KPI's, per month and owner; a quarter with no closes but a previous one
    # (Q3 2025) lies after the build date and has no row
    assert rows(warehouse, """
        select m.period_start, m.owner_id from
            (select period_start, owner_id, sum(won_count) w, sum(lost_count) l from marts.fct_insight_win_rate_movers
             where period_grain = 'month' and dimension = 'industry' group by 1, 2 having sum(won_count + lost_count) > 0) m
        full join (select period_month, owner_id, sum(won_count) w, sum(lost_count) l from marts.fct_kpi_win_rate group by 1, 2) k
            on m.period_start = k.period_month and m.owner_id = k.owner_id
        where m.w is distinct from k.w or m.l is distinct from k.l""") == []
    assert rows(warehouse, "select max(period_start) from marts.fct_insight_win_rate_movers where period_grain = 'quarter'") == [(d("2025-04-01"),)]


def test_lead_source_conversion(warehouse):
    # January cohort: webinar L1 (-> D1 won), L2 (-> D3 won), L3 open: 2 of 3 converted and customers;
    # outbound L4 (-> D2 lost), L5, L6, L7 open: 1 of 4 converted, no customer.
    assert_rows(warehouse, """
        select lead_source, sum(lead_count), sum(converted_count), sum(customer_count),
            sum(converted_count) / sum(lead_count)
        from marts.fct_insight_lead_source_conversion group by 1 order by 1""", [
        ("outbound", 4, 1, 0, 0.25), ("webinar", 3, 2, 2, 2 / 3),
    ])
    assert_rows(warehouse, """
        select owner_id, lead_count, converted_count, conversion_rate, conversion_rate_ci_low, conversion_rate_ci_high,
            lead_to_customer_rate_ci_low, lead_to_customer_rate_ci_high
        from marts.fct_insight_lead_source_conversion where lead_source = 'webinar' order by owner_id""", [
        ("U1", 2, 1, 0.5, *wilson(1, 2), *wilson(1, 2)),
        ("U3", 1, 1, 1.0, *wilson(1, 1), *wilson(1, 1)),
    ])
    # 2 of 3 against 1 of 4 looks like "webinar converts 2.7 times better", yet the intervals overlap widely
    webinar, outbound = wilson(2, 3), wilson(1, 4)
    assert webinar[0] < outbound[1]


INSIGHT_MART_TESTS = {
    "fct_insight_rep_activity_intensity": {"unique_combination", "not_null", "relationships", "between"},
    "fct_insight_deal_activity_intensity": {"unique_combination", "not_null", "relationships", "between"},
    "fct_insight_stage_win_probability": {"unique_combination", "not_null", "accepted_values", "between"},
    "fct_insight_calibrated_pipeline": {"unique_combination", "not_null", "relationships", "accepted_values", "between"},
    "fct_insight_forecast_backtest": {"unique_combination", "not_null", "relationships", "accepted_values"},
    "fct_insight_stalled_deals": {"unique", "not_null", "unique_combination", "relationships", "accepted_values"},
    "fct_insight_bundle_deal_size": {"unique_combination", "not_null", "relationships", "accepted_values", "between"},
    "fct_insight_retention_by_cadence": {"unique_combination", "not_null", "relationships", "accepted_values", "between"},
    "fct_insight_win_rate_movers": {"unique_combination", "not_null", "relationships", "accepted_values", "between"},
    "fct_insight_lead_source_conversion": {"unique_combination", "not_null", "relationships", "between"},
    "int_insight_pipeline_calibrated": {"unique_combination", "not_null", "between"},
}


def test_manifest_holds_the_insight_tests(warehouse):
    manifest = json.loads((dbt_target_dir(warehouse) / "manifest.json").read_text())
    tests_by_model: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            for parent in node["depends_on"]["nodes"]:
                tests_by_model.setdefault(parent.split(".")[-1], set()).add(node["test_metadata"]["name"])
    for model, expected in INSIGHT_MART_TESTS.items():
        assert expected <= tests_by_model.get(model, set()), f"{model} lacks {expected - tests_by_model.get(model, set())}"
    # every ratio and interval column of every insight mart is range-tested, none forgotten by a misspelt key
    range_tested = {(node["depends_on"]["nodes"][0].split(".")[-1], node["column_name"]) for node in manifest["nodes"].values()
                    if node["resource_type"] == "test" and (node.get("test_metadata") or {}).get("name") == "between"}
    for _name, node in manifest["nodes"].items():
        if node["resource_type"] == "model" and node["name"].startswith("fct_insight_"):
            for column in node["columns"]:
                if column.endswith(("_rate", "_ci_low", "_ci_high", "_probability")):
                    assert (node["name"], column) in range_tested, f"{node['name']}.{column} has no range test"
            assert node["schema"] == "marts" and node["config"]["materialized"] == "table"


def test_every_query_of_the_insights_page_runs(warehouse):
    page = (Path(__file__).parent.parent / "docs" / "insights.md").read_text()
    queries = [block.split("```", 1)[0] for block in page.split("```sql\n")[1:]]
    assert len(queries) >= 7
    for sql in queries:
        assert rows(warehouse, sql), f"the insights page's query returned nothing on the hand-made data:\n{sql}"
