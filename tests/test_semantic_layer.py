"""The semantic layer (MetricFlow on dbt's semantic manifest) on the hand-made CRM, queried the way an
analyst does, `crm-kpis metrics ... --csv FILE`, against the published serving file: every metric equals the
hand-computed value at month, quarter and team roll-ups (the data and its arithmetic are in the docstring
of tests/test_kpis_hand_made.py).

Roll-ups that averaging ratios gets wrong: North's win rate in Q2 is 2 won of 3 closed (not the mean of
April's 0.5 and May's 1.0), its value win rate 30000 / 35000."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.serving.publish import serving_file_changes
from orchestration.serving.semantic_manifest import published_semantic_manifest
from tests.exact_rows import same
from tests.published_fixture import Published, build_and_publish

pytestmark = pytest.mark.seconds(100)

CLI = str(Path(sys.executable).parent / "crm-kpis")
Q1, Q2 = "2025-01-01", "2025-04-01"

# one metric per KPI of the spec (and its parts), named after the KPI table column it computes
KPI_METRICS = {
    "fct_kpi_win_rate": ["win_rate", "value_win_rate", "won_count", "lost_count", "won_amount", "lost_amount"],
    "fct_kpi_sales_cycle": ["won_cycle_days_avg", "lost_cycle_days_avg", "won_cycle_days_median"],
    "fct_kpi_time_in_stage": ["days_avg", "visit_count", "skipped_count", "regression_count"],
    "fct_kpi_lead_conversion": ["conversion_rate", "conversion_rate_30_days", "conversion_rate_90_days", "days_to_convert_median"],
    "fct_kpi_lead_to_customer": ["lead_to_customer_rate", "customer_count"],
    "fct_kpi_funnel_conversion": ["conversion_to_next", "conversion_to_won", "reached_count"],
    "fct_kpi_average_deal_size": ["average_deal_size", "median_deal_size", "largest_deal"],
    "fct_kpi_activity_level": ["activity_count", "call_count", "email_count", "meeting_count", "other_count",
                               "activities_per_opportunity"],
    "fct_kpi_pipeline_value": ["open_count", "open_amount", "weighted_amount"],
    "fct_kpi_pipeline_created": ["created_count", "created_amount"],
    "fct_kpi_forecast_accuracy": ["pipeline_forecast", "actual_amount", "forecast_accuracy", "forecast_bias",
                                  "quarterly_forecast_accuracy", "submitted_accuracy"],
    "fct_kpi_recurring_revenue": ["mrr", "arr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"],
    "fct_kpi_customer_retention": ["retention_rate", "logo_churn_rate", "gross_revenue_retention", "net_revenue_retention",
                                   "quarterly_retention_rate"],
    "fct_kpi_quota_attainment": ["attainment", "bookings", "quota_amount", "share_of_reps_at_quota"],
    "fct_kpi_customer_acquisition_cost": ["cac", "channel_cac", "acquisition_spend", "new_customers", "cac_payback_months"],
    "fct_kpi_pipeline_velocity": ["pipeline_velocity_per_day", "win_rate_90d", "average_deal_size_90d", "average_cycle_days_90d"],
}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Published:
    return build_and_publish(tmp_path_factory.mktemp("semantic"))


def environment(published: Published) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("CRM_KPIS_", "DBT_"))}
    return {**clean, "CRM_KPIS_HOME": str(published.warehouse.parent), "CRM_KPIS_SERVING": str(published.record.serving_file.parent)}


def metrics(published: Published, tmp_path: Path, metric_names: str, group_by: str, *extra: str) -> list[tuple]:
    """`crm-kpis metrics --metrics ... --group-by ... --csv FILE`, rows ordered by the group-by, values typed."""
    out = tmp_path / "result.csv"
    out.unlink(missing_ok=True)
    result = subprocess.run(
        [CLI, "metrics", "--metrics", metric_names, "--group-by", group_by, "--order", group_by, "--csv", out.name, *extra],
        env=environment(published), cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(out) as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    groups, names = group_by.split(","), metric_names.split(",")
    assert sorted(header) == sorted(groups + names), header
    # MetricFlow orders the metric columns its own way: take them in the order asked for
    return [tuple(row[header.index(group)][:10] if group.startswith("metric_time") else row[header.index(group)] for group in groups)
            + tuple(float(row[header.index(name)]) if row[header.index(name)] != "" else None for name in names)
            for row in body]


def assert_metric_rows(actual: list[tuple], expected: list[tuple]) -> None:
    assert len(actual) == len(expected), f"{len(actual)} rows, expected {len(expected)}:\n{actual}"
    for got, want in zip(actual, expected):
        assert len(got) == len(want) and all(same(g, w) for g, w in zip(got, want)), f"\n got  {got}\n want {want}"


def test_every_kpi_has_its_metrics_in_the_published_semantic_manifest(published):
    manifest = json.loads(published_semantic_manifest(published.record.serving_file.parent).read_text())
    names = {metric["name"] for metric in manifest["metrics"]}
    missing = {kpi: sorted(set(wanted) - names) for kpi, wanted in KPI_METRICS.items() if set(wanted) - names}
    assert not missing, missing
    time_spines = manifest["project_configuration"]["time_spines"]
    assert [spine["node_relation"]["alias"] for spine in time_spines] == ["metricflow_time_spine"]
    ratios = {metric["name"]: metric for metric in manifest["metrics"] if metric["type"] == "ratio"}
    assert ratios["win_rate"]["type_params"]["numerator"]["name"] == "won_count"
    assert ratios["win_rate"]["type_params"]["denominator"]["name"] == "closed_count"


def test_win_rate_rolls_up_by_month_quarter_and_team(published, tmp_path):
    assert_metric_rows(metrics(published, tmp_path, "win_rate,value_win_rate,won_count,closed_count", "metric_time__month"), [
        ("2025-04-01", 0.5, 10000 / 15000, 1, 2), ("2025-05-01", 1.0, 1.0, 1, 1), ("2025-06-01", 1.0, 1.0, 1, 1)])
    assert_metric_rows(metrics(published, tmp_path, "win_rate,value_win_rate", "metric_time__quarter,owner__team"), [
        (Q2, "North", 2 / 3, 30000 / 35000), (Q2, "South", 1.0, 1.0)])
    assert_metric_rows(metrics(published, tmp_path, "win_rate,won_amount,lost_amount", "metric_time__quarter"), [
        (Q2, 3 / 4, 36000.0, 5000.0)])


def test_deal_size_cycle_and_pipeline_created(published, tmp_path):
    # North's Q2 median deal is the median of its two won deals (10000, 20000), not a month's median
    assert_metric_rows(metrics(published, tmp_path, "average_deal_size,median_deal_size,largest_deal,won_cycle_days_avg,lost_cycle_days_avg",
                               "metric_time__quarter,owner__team"), [
        (Q2, "North", 15000.0, 15000.0, 20000.0, (81 + 48) / 2, 73.0), (Q2, "South", 6000.0, 6000.0, 6000.0, 40.0, None)])
    # by creation date at the created month's rate: Q1 O1 10000, O2 5000, O4 8000; Q2 O3 20000, O5 4000, O9 6000, O6 3000
    assert_metric_rows(metrics(published, tmp_path, "created_count,created_amount", "metric_time__quarter"), [
        (Q1, 3, 23000.0), (Q2, 4, 33000.0)])


def test_lead_conversion_by_cohort_and_team(published, tmp_path):
    # January: L1, L2, L3 converted, customers L1 and L3; February: L5 converted and a customer, L4 not
    assert_metric_rows(metrics(published, tmp_path, "conversion_rate,lead_to_customer_rate,lead_count", "metric_time__month"), [
        ("2025-01-01", 1.0, 2 / 3, 3), ("2025-02-01", 0.5, 0.5, 2)])
    # owners: North L1, L2 (U1), L4 (U2); South L3, L5 (U3)
    assert_metric_rows(metrics(published, tmp_path, "conversion_rate,lead_to_customer_rate,conversion_rate_90_days",
                               "metric_time__quarter,owner__team"), [
        (Q1, "North", 2 / 3, 1 / 3, 2 / 3), (Q1, "South", 1.0, 1.0, 0.5)])


def test_activities_attainment_and_acquisition_cost(published, tmp_path):
    assert_metric_rows(metrics(published, tmp_path, "activity_count,call_count,activities_per_opportunity", "metric_time__month,owner__team"), [
        ("2025-03-01", "North", 4, 2, 4 / 3), ("2025-03-01", "South", 1, 0, None), ("2025-04-01", "North", 1, 1, 1.0)])
    assert_metric_rows(metrics(published, tmp_path, "attainment,bookings,quota_amount,share_of_reps_at_quota", "metric_time__quarter,owner__team"), [
        (Q1, "North", 0.0, 0.0, 10000.0, 0.0), (Q2, "North", 30000 / 35000, 30000.0, 35000.0, 0.5), (Q2, "South", 1.2, 6000.0, 5000.0, 1.0)])
    assert_metric_rows(metrics(published, tmp_path, "attainment", "metric_time__quarter"), [(Q1, 0.0), (Q2, 36000 / 40000)])
    # the quarter is the sum of its months, divided afterwards: 22300 / 3; payback 22300 / 2500
    assert_metric_rows(metrics(published, tmp_path, "cac,acquisition_spend,new_customers,cac_payback_months", "metric_time__quarter"), [
        (Q2, 22300 / 3, 22300.0, 3, 22300 / 2500)])
    assert_metric_rows(metrics(published, tmp_path, "channel_cac", "metric_time__quarter,acquisition_month__channel"), [
        (Q2, "inbound", 5000.0), (Q2, "webinar", 2500.0)])


def test_stocks_take_the_last_snapshot_of_the_period(published, tmp_path):
    # pipeline is a stock: a quarter is its last snapshot (31 March; 15 June, the build date), never a sum of months
    assert_metric_rows(metrics(published, tmp_path, "open_count,open_amount,weighted_amount", "metric_time__quarter,owner__team"), [
        (Q1, "North", 3, 21000.0, 9600.0), (Q2, "North", 1, 8000.0, 4800.0), (Q2, "South", 1, 4000.0, 2000.0)])
    assert_metric_rows(metrics(published, tmp_path, "mrr,opening_mrr,new_mrr,churned_mrr", "metric_time__quarter"), [
        (Q1, 1700.0, 0.0, 1500.0, 0.0), (Q2, 1900.0, 1700.0, 1000.0, -500.0)])
    # velocity on 15 June from the company's summed trailing parts: 2 open x 3/4 x 36000/3 / (169/3 days)
    assert_metric_rows(metrics(published, tmp_path, "pipeline_velocity_per_day,win_rate_90d", "metric_time__month",
                               "--where", "{{ TimeDimension('metric_time', 'month') }} = '2025-06-01'"), [
        ("2025-06-01", 2 * 0.75 * 12000 / (169 / 3), 0.75)])


def test_stage_funnel_forecast_and_retention(published, tmp_path):
    assert_metric_rows(metrics(published, tmp_path, "days_avg,visit_count", "stage_visit__stage",
                               "--where", "{{ Dimension('stage_visit__stage') }} in ('Prospecting', 'Negotiation')"), [
        ("Negotiation", (30 + 14.5 / 24 + 18 + 4 / 24 + 5) / 3, 3), ("Prospecting", 141 / 6, 6)])
    assert_metric_rows(metrics(published, tmp_path, "conversion_to_won,reached_count", "metric_time__quarter,funnel_stage__stage",
                               "--where", "{{ Dimension('funnel_stage__stage') }} = 'Prospecting'"), [
        (Q1, "Prospecting", 1 / 3, 3), (Q2, "Prospecting", 2 / 4, 4)])
    assert_metric_rows(metrics(published, tmp_path, "forecast_accuracy,quarterly_forecast_accuracy", "metric_time__quarter"), [
        (Q1, None, None), (Q2, 1 - abs(11800 - 36000) / 36000, 1 - 34400 / 36000)])
    assert_metric_rows(metrics(published, tmp_path, "retention_rate,gross_revenue_retention,net_revenue_retention", "metric_time__month",
                               "--where", "{{ TimeDimension('metric_time', 'month') }} = '2025-04-01'"), [
        ("2025-04-01", 0.5, 1000 / 1700, 1000 / 1700)])


def test_metrics_read_the_serving_file_only_and_leave_it_untouched(published, tmp_path):
    moved = published.warehouse.with_name("elsewhere.duckdb")
    published.warehouse.rename(moved)  # the working warehouse is not what MetricFlow reads
    try:
        assert_metric_rows(metrics(published, tmp_path, "won_amount", "metric_time__quarter"), [(Q2, 36000.0)])
    finally:
        moved.rename(published.warehouse)
    served = published.record.serving_file
    assert stat.S_IMODE(served.stat().st_mode) == 0o444
    assert all(change["intact"] for change in serving_file_changes(served))


def test_an_unknown_metric_and_a_missing_serving_file_fail(published, tmp_path):
    unknown = subprocess.run([CLI, "metrics", "--metrics", "win_rat", "--group-by", "metric_time__month"],
                             env=environment(published), capture_output=True, text=True)
    assert unknown.returncode != 0
    assert "win_rat" in unknown.stdout + unknown.stderr
    missing = subprocess.run([CLI, "metrics", "--serving", str(tmp_path / "none.duckdb"), "--metrics", "win_rate"],
                             env=environment(published), capture_output=True, text=True)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"crm-kpis metrics: error: no serving file at {tmp_path / 'none.duckdb'}: run `crm-kpis refresh` (or `make demo`) first"]
