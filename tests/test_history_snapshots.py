"""A source without history (an export, a mapping file, a sparse CRM): each refresh snapshots its
opportunities (snapshot snp_opportunities_without_history, SCD2 on updated_at), so a deal's past stays
as it was seen, instead of today's values being read back to its creation.

    refresh 1 (as of 2025-02-28): O1 Proposal, 1000 EUR, created 2025-01-10, updated 2025-01-10
    refresh 2 (as of 2025-03-31): O1 Closed Won, 1200 EUR, closed and updated 2025-03-15
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt.runner import run_dbt
from orchestration.landing import land_directory

pytestmark = pytest.mark.seconds(60)

USERS = "user_id,full_name,team,updated_at\nU1,Ada,North,2025-01-01 00:00:00\n"
ACCOUNTS = "account_id,account_name,segment,created_at,updated_at\nA1,Acme,SMB,2025-01-01 00:00:00,2025-01-01 00:00:00\n"
HEADER = "opportunity_id,account_id,owner_id,stage,amount,currency,created_at,closed_at,is_closed,is_won,updated_at\n"


def write(folder: Path, table: str, name: str, content: str) -> None:
    (folder / table).mkdir(parents=True, exist_ok=True)
    (folder / table / name).write_text(content)


def build(warehouse: Path, as_of: date) -> None:
    result = run_dbt(["build"], warehouse, quiet=True, as_of=as_of)
    assert result.returncode == 0, result.stdout[-3000:]


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_each_refresh_keeps_the_version_it_saw(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write(landing, "users", "users.csv", USERS)
    write(landing, "accounts", "accounts.csv", ACCOUNTS)
    write(landing, "opportunities", "day1.csv", HEADER + "O1,A1,U1,Proposal,1000,EUR,2025-01-10 09:00:00,,false,false,2025-01-10 09:00:00\n")
    land_directory(landing, warehouse)
    build(warehouse, date(2025, 2, 28))

    write(landing, "opportunities", "day2.csv",
          HEADER + "O1,A1,U1,Closed Won,1200,EUR,2025-01-10 09:00:00,2025-03-15 10:00:00,true,true,2025-03-15 10:00:00\n")
    land_directory(landing, warehouse)
    build(warehouse, date(2025, 3, 31))

    # the first version holds from creation, the second from its updated_at
    assert rows(warehouse, """
        select valid_from, valid_to, stage, amount, is_derived_from_current_values
        from intermediate.int_opportunity_history_intervals order by change_seq""") == [
        (datetime(2025, 1, 10, 9), datetime(2025, 3, 15, 10), "Proposal", Decimal(1000), True),
        (datetime(2025, 3, 15, 10), None, "Closed Won", Decimal(1200), True),
    ]
    # February's month-end pipeline still holds O1 as it was then (read back from today's values it
    # would be a won deal since January, and in no pipeline at all)
    assert rows(warehouse, """
        select snapshot_date, stage, open_count, open_amount from marts.fct_kpi_pipeline_value
        where snapshot_date in ('2025-01-31', '2025-02-28', '2025-03-31') order by snapshot_date""") == [
        (date(2025, 1, 31), "Proposal", 1, Decimal(1000)), (date(2025, 2, 28), "Proposal", 1, Decimal(1000))]
    assert rows(warehouse, "select period_month, won_count, won_amount from marts.fct_kpi_win_rate") == [
        (date(2025, 3, 1), 1, Decimal(1200))]
    assert rows(warehouse, """
        select row_count from marts.fct_data_quality_issues where issue_type = 'opportunity_without_history'""") == [(1,)]
