"""What BI tools and analysts open: the published serving file of the hand-made CRM read by an older DuckDB
release (installed into a throwaway venv, never into the project's lock), its types and comments, the
Parquet exports' types, the SQLAlchemy route (duckdb-engine: Superset, Jupyter) through SQLAlchemy's
inspector, and `crm-kpis sql`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy

from orchestration.serving.client_format import mart_descriptions, storage_version_number
from orchestration.settings import PROJECT_DIR
from tests.published_fixture import Published, build_and_publish

CLI = str(Path(sys.executable).parent / "crm-kpis")
# older than the DuckDB CLI 1.5.6 of the issue, which could not open a DuckDB 2.0 file at all
OLDER_DUCKDB = "1.1.3"
UV = PROJECT_DIR / ".tools" / "bin" / "uv"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Published:
    return build_and_publish(tmp_path_factory.mktemp("clients"))


@pytest.fixture(scope="module")
def older_duckdb(tmp_path_factory) -> Path:
    """A Python with DuckDB OLDER_DUCKDB from the package index, in a venv of the test's own."""
    assert UV.exists(), f"{UV} is missing: run `make install`"
    venv = tmp_path_factory.mktemp("older-duckdb") / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run([str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), f"duckdb=={OLDER_DUCKDB}"],
                   check=True)
    return venv / "bin" / "python"


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_an_older_duckdb_release_opens_the_serving_file(published, older_duckdb):
    served = published.record.serving_file
    assert storage_version_number(served) == 64  # what DuckDB 0.9 to 1.1 write and every later release reads
    script = f"""
import duckdb, json
c = duckdb.connect({str(served)!r}, read_only=True)
counts = {{t: c.execute(f"select count(*) from marts.{{t}}").fetchone()[0]
          for (t,) in c.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}}
rate = c.execute("select sum(won_count) * 1.0 / sum(won_count + lost_count) from marts.fct_kpi_win_rate").fetchone()[0]
comment = c.execute("select comment from duckdb_tables() where table_name = 'fct_kpi_win_rate'").fetchone()[0]
print(json.dumps({{"version": duckdb.__version__, "counts": counts, "win_rate": rate, "comment": comment}}))
"""
    result = subprocess.run([str(older_duckdb), "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout)
    assert seen["version"] == OLDER_DUCKDB
    assert seen["counts"] == published.record.row_counts
    assert seen["win_rate"] == 3 / 4
    assert seen["comment"].startswith("KPI 1, win rate.")


def test_counts_are_bigint_ratios_double_money_decimal_in_the_file_and_the_parquet(published):
    served = published.record.serving_file
    types = dict(((table, column), data_type) for table, column, data_type in query(served, """
        select table_name, column_name, data_type from information_schema.columns where table_schema = 'marts'"""))
    assert not {key: value for key, value in types.items() if value in ("HUGEINT", "UHUGEINT", "FLOAT")}
    assert types[("fct_kpi_win_rate", "won_count")] == "BIGINT"
    assert types[("fct_kpi_activity_level", "call_count")] == "BIGINT"
    assert types[("fct_kpi_win_rate", "win_rate")] == "DOUBLE"
    assert types[("fct_kpi_win_rate", "won_amount")].startswith("DECIMAL(")
    for mart in ("fct_kpi_win_rate", "fct_kpi_activity_level", "fct_opportunities"):
        parquet = published.record.parquet_folder / f"{mart}.parquet"
        exported = {name: data_type for name, data_type, *_ in duckdb.sql(f"describe select * from '{parquet}'").fetchall()}
        assert exported == {column: data_type for (table, column), data_type in types.items() if table == mart}, mart


def test_every_mart_and_described_column_carries_its_dbt_description(published):
    served = published.record.serving_file
    descriptions = mart_descriptions(published.warehouse.parent / "dbt_target" / "manifest.json")
    tables = dict(query(served, "select table_name, comment from duckdb_tables() where schema_name = 'marts'"))
    assert set(tables) == set(published.record.row_counts)
    assert all(tables[mart] == descriptions[mart].description for mart in tables), \
        [mart for mart in tables if tables[mart] != descriptions[mart].description]
    columns = {(table, column): comment for table, column, comment in query(served, """
        select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'""")}
    expected = {(mart, column): text for mart, described in descriptions.items() for column, text in described.columns.items()
                if (mart, column) in columns}
    assert {key: columns[key] for key in expected} == expected
    assert columns[("fct_opportunities", "lost_reason")].startswith("Why a lost deal was lost")


def test_sqlalchemy_inspector_lists_tables_and_columns_and_queries_a_mart(published):
    major, minor = (int(part) for part in sqlalchemy.__version__.split(".")[:2])
    assert (major, minor) < (2, 1), "duckdb-engine's reflection needs SQLAlchemy 2.0 (pyproject.toml)"
    engine = sqlalchemy.create_engine(f"duckdb:///{published.record.serving_file}", connect_args={"read_only": True})
    try:
        inspector = sqlalchemy.inspect(engine)
        assert "warehouse.marts" in inspector.get_schema_names()  # duckdb-engine names schemas with their catalog
        tables = inspector.get_table_names(schema="marts")
        assert {"fct_kpi_win_rate", "fct_opportunities", "dim_users"} <= set(tables)
        columns = {column["name"]: str(column["type"]) for column in inspector.get_columns("fct_kpi_win_rate", schema="marts")}
        assert columns["won_count"] == "BIGINT" and columns["win_rate"] in ("DOUBLE", "FLOAT", "DOUBLE PRECISION")
        assert inspector.get_pk_constraint("fct_kpi_win_rate", schema="marts")["constrained_columns"] == []
        assert inspector.get_table_comment("fct_kpi_win_rate", schema="marts")["text"].startswith("KPI 1, win rate.")
        win_rate = sqlalchemy.Table("fct_kpi_win_rate", sqlalchemy.MetaData(), schema="marts", autoload_with=engine)
        statement = sqlalchemy.select(sqlalchemy.func.sum(win_rate.c.won_count), sqlalchemy.func.sum(win_rate.c.lost_count))
        with engine.connect() as connection:
            assert connection.execute(statement).one() == (3, 1)
    finally:
        engine.dispose()


def environment(published: Published) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CRM_KPIS_")}
    return {**clean, "CRM_KPIS_HOME": str(published.warehouse.parent), "CRM_KPIS_SERVING": str(published.record.serving_file.parent)}


def sql(published: Published, *arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "sql", *arguments], env=environment(published), input=stdin, capture_output=True, text=True)


def test_crm_kpis_sql_runs_one_statement_and_refuses_writes(published):
    result = sql(published, "-c", "select owner_id, sum(won_count) as won from fct_kpi_win_rate group by owner_id order by owner_id", "--csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["owner_id,won", "U1,1", "U2,1", "U3,1"]
    table = sql(published, "-c", "select count(*) as deals from marts.fct_opportunities where counts_in_kpis")
    assert table.returncode == 0 and "deals" in table.stdout and "7" in table.stdout
    write = sql(published, "-c", "delete from marts.fct_kpi_win_rate")
    assert write.returncode == 1
    assert write.stderr.strip().splitlines()[-1].startswith("crm-kpis sql: error: ") and "read-only" in write.stderr
    # the working warehouse (or any other file) is out of reach
    escape = sql(published, "-c", f"attach '{published.warehouse}' as work")
    assert escape.returncode == 1
    assert query(published.record.serving_file, "select count(*) from marts.fct_kpi_win_rate") == [(4,)]


def test_crm_kpis_sql_prompt_reads_statements_until_the_end(published):
    result = sql(published, stdin=".tables\nselect lost_reason, sum(lost_count) as lost\n  from fct_kpi_win_rate_by_lost_reason\n"
                                  "  group by 1 order by 1;\nselect * from no_such_table;\n.describe fct_leads\n")
    assert result.returncode == 0, result.stderr
    assert "marts.fct_opportunities" in result.stdout and "meta.publish_log" in result.stdout
    assert "price" in result.stdout and "won" in result.stdout
    assert "error: Catalog Error" in result.stdout
    assert "is_customer" in result.stdout and "Its opportunity is won" in result.stdout


def test_the_gate_reads_the_served_marts_only_when_the_file_was_written_after_its_publish(published, tmp_path, monkeypatch):
    """The serving-file-intact check compares each served mart with the checksum its publish recorded; it reads the
    marts only when the file is no longer the very file its publish left (inode, size, times), and then still tells
    a write that changed nothing from one that changed a mart."""
    from orchestration.serving import publish as publishing

    record = publishing.publish(published.warehouse, tmp_path / "serving", "identity", [])
    served = record.serving_file
    assert served.with_name(served.name + publishing.PUBLISHED_IDENTITY_SUFFIX).exists()

    def refuse(*_: object, **__: object) -> str:
        raise AssertionError("an untouched serving file was read again")

    with monkeypatch.context() as patched:
        patched.setattr(publishing, "content_checksum", refuse)
        untouched = publishing.serving_file_changes(served)
    assert {change["mart"] for change in untouched} == set(record.row_counts) and all(change["intact"] for change in untouched)

    os.chmod(served, 0o644)  # a client that forgot read_only (root ignores the mode anyway)
    with duckdb.connect(str(served)) as connection:  # a write that changes no row: read again, still intact
        connection.execute("create table main.scratch as select 1 as one")
        connection.execute("drop table main.scratch")
        connection.execute("checkpoint")
    assert all(change["intact"] for change in publishing.serving_file_changes(served))
    with duckdb.connect(str(served)) as connection:
        deleted = connection.execute("delete from marts.fct_kpi_win_rate where won_count > 0").fetchone()[0]
    assert deleted > 0
    changed = [change["mart"] for change in publishing.serving_file_changes(served) if not change["intact"]]
    assert changed == ["fct_kpi_win_rate"]
