"""A CRM adapter through the whole refresh a user runs: `crm-kpis load-source` then `crm-kpis refresh`
with CRM_KPIS_SOURCES=superoffice: landing has nothing to do, dbt builds from raw_superoffice, the
quality gate passes and the marts are published. Run as the CLI in its own process, because the
Dagster definitions are built from a dbt manifest parsed for the selected sources."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.seconds(80)

PROJECT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "superoffice"


def crm_kpis(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *arguments], cwd=PROJECT,
                          env={**os.environ, **environment}, capture_output=True, text=True)


def test_superoffice_refresh_publishes_its_kpis(tmp_path):
    environment = {
        "CRM_KPIS_HOME": str(tmp_path),
        "CRM_KPIS_SOURCES": "superoffice",
        "CRM_KPIS_AS_OF_DATE": "2025-06-30",
        # the fixture's newest change is 20 June
        "CRM_KPIS_GATE_MAX_DATA_AGE_DAYS": "15",
    }
    loaded = crm_kpis(["load-source", "superoffice", str(FIXTURE)], environment)
    assert loaded.returncode == 0, loaded.stderr
    assert "raw_superoffice.sale (5 rows)" in loaded.stderr

    refreshed = crm_kpis(["refresh"], environment)
    assert refreshed.returncode == 0, refreshed.stderr[-4000:]
    with duckdb.connect(str(tmp_path / "serving" / "warehouse.duckdb"), read_only=True) as serving:
        assert serving.execute("""
            select owner_id, sum(won_count), sum(lost_count), sum(won_amount)
            from marts.fct_kpi_win_rate group by 1 order by 1""").fetchall() == [
            ("superoffice:1", 1, 0, 15000), ("superoffice:2", 1, 1, 3000)]
        assert serving.execute("select count(*) from meta.publish_log").fetchone() == (1,)
