"""The engine module on its own: raw tables reach Postgres and come back value for value (NULL is not an empty
string, decimals keep their scale, timestamps stay UTC), the engine setting is checked, and the comparison of
two engines' tables sees what differs. The full builds on every engine are in test_kpis_hand_made.py and
test_source_adapters.py."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from orchestration.engines import EngineError, open_engine
from orchestration.engines.parity import compare_tables
from orchestration.engines.postgres import PostgresEngine
from orchestration.settings import Settings, SettingsError

TRICKY = """
    select * from (values
        ('A1', 'Ærø, "quoted"' || chr(10) || 'second line', 1234.50::decimal(18,2), 0.1::double, true,
         date '2025-03-31', timestamp '2025-03-31 23:30:00', 42::bigint),
        ('A2', '', null::decimal(18,2), null::double, null::boolean, null::date, null::timestamp, null::bigint),
        ('A3', null, -0.01::decimal(18,2), 1e-300::double, false, date '1901-01-01', timestamp '2025-10-26 00:30:00.123456', -1::bigint)
    ) as t(account_id, note, amount, ratio, flag, day, changed_at, counter)"""


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute("create schema raw")
        connection.execute(f"create table raw.accounts as {TRICKY}")
        connection.execute("create schema raw_salesforce")
        connection.execute("create table raw_salesforce.account as select account_id from raw.accounts")
        connection.execute("create schema staging")  # not a raw schema: not copied
        connection.execute("create table staging.ignored as select 1 as x")
    return path


def test_raw_tables_reach_postgres_and_come_back_value_for_value(warehouse, postgres_server):
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        expected = connection.sql("select * from raw.accounts").to_arrow_table()
    with PostgresEngine({**postgres_server.settings, "dbname": "engine_round_trip"}) as engine:
        assert engine.copy_raw_tables(warehouse) == {"raw.accounts": 3, "raw_salesforce.account": 3}
        assert engine.table_names("staging") == []
        back = engine.read_table("raw", "accounts")
        # copying again replaces, never appends
        engine.copy_raw_tables(warehouse, ["raw"])
        assert engine.read_table("raw", "accounts").num_rows == 3
    assert back.schema.equals(expected.schema), f"{back.schema}\n!=\n{expected.schema}"
    assert back.to_pylist() == expected.to_pylist()
    assert back.column("note").to_pylist()[1:] == ["", None]
    assert back.column("amount").to_pylist() == [Decimal("1234.50"), None, Decimal("-0.01")]
    assert back.column("changed_at").to_pylist()[2] == datetime(2025, 10, 26, 0, 30, 0, 123456)
    assert back.column("day").to_pylist()[0] == date(2025, 3, 31)


def test_a_schema_that_is_not_there_is_named(warehouse, postgres_server):
    with PostgresEngine({**postgres_server.settings, "dbname": "engine_round_trip"}) as engine:
        with pytest.raises(EngineError, match="no schema raw_hubspot"):
            engine.copy_raw_tables(warehouse, ["raw_hubspot"])


def test_an_unreachable_server_is_one_clear_error(postgres_server):
    with pytest.raises(EngineError, match="cannot connect to Postgres .*PGHOST"):
        PostgresEngine({**postgres_server.settings, "port": "1"})


def test_the_engine_is_one_setting(tmp_path):
    home = {"CRM_KPIS_HOME": str(tmp_path)}
    assert Settings.from_environment(home).engine == "duckdb"
    postgres = Settings.from_environment({**home, "CRM_KPIS_ENGINE": " Postgres "})
    assert postgres.engine == "postgres" and postgres.dbt_vars()["warehouse_path"] == str((tmp_path / "warehouse.duckdb").resolve())
    with pytest.raises(SettingsError, match="unknown engine 'oracle'; choose from duckdb, postgres, spark"):
        Settings.from_environment({**home, "CRM_KPIS_ENGINE": "oracle"})
    engine = open_engine(Settings.from_environment(home))
    assert engine.name == "duckdb" and not engine.runs_dbt_in_process and engine.dbt_environment() == {}
    spark = Settings.from_environment({**home, "CRM_KPIS_ENGINE": "spark", "CRM_KPIS_SPARK_MASTER": "local[2]"})
    assert spark.spark.home == (tmp_path / "spark").resolve()
    assert "--master local[2] " in open_engine(spark).dbt_environment()["PYSPARK_SUBMIT_ARGS"]


MONEY = pa.decimal128(28, 6)


def test_the_comparison_sees_money_off_by_a_cent_a_ratio_off_by_more_than_1e_9_and_a_changed_type():
    def table(amount: str, ratio: float, amount_type: pa.DataType = MONEY) -> pa.Table:
        return pa.table({"owner_id": ["U1", "U2"], "amount": pa.array([Decimal("10.000000"), Decimal(amount)], amount_type),
                         "ratio": [0.5, ratio]})

    reference = table("20.000000", 1 / 3)
    assert compare_tables("t", reference, table("20.004999", 1 / 3 + 1e-12)).equal
    assert "amount: Decimal('20.000000') != Decimal('20.010000')" in compare_tables("t", reference, table("20.010000", 1 / 3)).differences[0]
    assert "ratio" in compare_tables("t", reference, table("20.000000", 1 / 3 + 1e-6)).differences[0]
    assert compare_tables("t", reference, table("20", 1 / 3, pa.decimal128(38, 12))).differences == [
        "column amount: decimal(6) != decimal(12)"]
    # rows in another order are the same rows
    assert compare_tables("t", reference, reference.take([1, 0])).equal
