"""The `crm-kpis` console script, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.seconds(80)

CLI = str(Path(sys.executable).parent / "crm-kpis")


def run(*arguments: str, home: Path) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CRM_KPIS_", "DAGSTER_HOME"))}
    environment["CRM_KPIS_HOME"] = str(home)
    return subprocess.run([CLI, *arguments], capture_output=True, text=True, env=environment)


def test_help_lists_the_commands(tmp_path):
    result = run("--help", home=tmp_path)
    assert result.returncode == 0
    for command in ("generate", "map", "land", "load-source", "refresh", "demo", "dashboard", "metrics", "sql"):
        assert command in result.stdout


def test_demo_generates_refreshes_publishes_and_summarises(tmp_path):
    result = run("demo", "--opportunities", "400", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # progress per step on stderr, the summary on stdout
    for step in ("landing files", "building the dbt models", "quality gate passed", "published"):
        assert step in result.stderr, step
    assert "(holds)" in result.stderr
    assert ": published" in result.stdout and "win rate" in result.stdout and "ARR now" in result.stdout
    assert (tmp_path / "warehouse.duckdb").exists() and (tmp_path / "serving" / "warehouse.duckdb").exists()
    # the publish wrote the dashboard, and the demo says where to open it
    dashboard = tmp_path / "serving" / "dashboard" / "index.html"
    assert "dashboard written to" in result.stderr and dashboard.exists()
    assert f"Dashboard: {dashboard.resolve().as_uri()}" in result.stdout
    # the semantic layer and the SQL prompt work on what the demo published
    assert (tmp_path / "serving" / "semantic_manifest.json").exists()
    metrics = run("metrics", "--metrics", "win_rate,won_count,closed_count", "--group-by", "metric_time__quarter,owner__team",
                  "--order", "metric_time__quarter,owner__team", home=tmp_path)
    assert metrics.returncode == 0, metrics.stdout + metrics.stderr
    assert "owner__team" in metrics.stdout and "win_rate" in metrics.stdout
    sql = run("sql", "-c", "select sum(won_count) * 1.0 / sum(won_count + lost_count) as win_rate from fct_kpi_win_rate", "--csv",
              home=tmp_path)
    assert sql.returncode == 0, sql.stderr
    assert sql.stdout.splitlines()[0] == "win_rate" and 0 < float(sql.stdout.splitlines()[1]) < 1


def test_dashboard_without_a_published_serving_file_fails_in_one_line(tmp_path):
    result = run("dashboard", home=tmp_path)
    assert result.returncode == 1 and not (tmp_path / "serving" / "dashboard").exists()
    assert result.stderr.strip().splitlines()[-1] == (
        f"crm-kpis dashboard: error: no serving file at {tmp_path / 'serving' / 'warehouse.duckdb'}: "
        "run `crm-kpis refresh` (or `make demo`) first")


def test_land_failure_is_one_line_and_non_zero(tmp_path):
    missing = run("land", "--landing", str(tmp_path / "nowhere"), home=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == f"crm-kpis land: error: landing folder {tmp_path / 'nowhere'} does not exist"

    bad = tmp_path / "landing" / "opportunities"
    bad.mkdir(parents=True)
    (bad / "o.csv").write_text("opportunity_id,stage\nO1,Proposal\n")
    rejected = run("land", home=tmp_path)
    assert rejected.returncode == 1
    last = rejected.stderr.strip().splitlines()[-1]
    assert last.startswith("crm-kpis land: error: opportunities/o.csv: missing required column(s) account_id, owner_id, amount")


def test_settings_shows_every_setting_with_its_value(tmp_path):
    from orchestration.settings import RUNTIME_SETTINGS

    result = run("settings", home=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:]}
    assert {setting.environment_variable for setting in RUNTIME_SETTINGS} <= set(shown)
    assert shown["CRM_KPIS_FULL_REFRESH_WEEKDAY"] == "sunday"
    assert shown["CRM_KPIS_GATE_ROWS_PER_PART"] == "1000000"
    assert shown["CRM_KPIS_SPARK_SHUFFLE_PARTITIONS"] == "4"
