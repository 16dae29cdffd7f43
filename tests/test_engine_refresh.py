"""`crm-kpis refresh` end to end on Postgres and on Spark, through the real CLI: files landed by DuckDB's
readers, the raw tables copied onto the engine, dbt built there, Great Expectations on the engine's marts,
the marts swapped in as the engine's schema `published` and served from there (serving file + Parquet,
publish_log naming the engine).

A refresh whose gate fails is not repeated here: the gate and the publish after it are the same steps of the
same job on every engine, and an engine's `published` schema is written by the publish step alone, which a
failed blocking check never starts (tests/test_refresh_pipeline.py and tests/test_refresh_trust.py plant the
failures on DuckDB). On Spark the publish step itself is exercised again: each publish repoints the views of
`published` to a new version and keeps one older version for slow readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.engines import open_engine
from orchestration.engines.parity import compare_tables
from orchestration.generator import GeneratorSettings, generate_landing
from orchestration.settings import Settings
from tests.engine_builds import engines_under_test

pytestmark = pytest.mark.seconds(380)

AS_OF = date(2026, 6, 30)
CLI = str(Path(sys.executable).parent / "crm-kpis")
ENGINES = [name for name in engines_under_test() if name != "duckdb"]


def environment(home: Path, engine: str, postgres: dict[str, str], **extra: str) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("CRM_KPIS_", "DAGSTER_HOME", "PG"))}
    connection = {}
    if engine == "postgres":
        connection = {"PGHOST": postgres["host"], "PGPORT": str(postgres["port"]), "PGUSER": postgres["user"],
                      "PGDATABASE": f"refresh_{home.name.lower()}"}
    return {**clean, **connection, "CRM_KPIS_HOME": str(home), "CRM_KPIS_ENGINE": engine, "CRM_KPIS_AS_OF_DATE": AS_OF.isoformat(),
            "CRM_KPIS_SPARK_MASTER": "local[2]", **extra}


def served(home: Path) -> tuple[list[tuple], dict[str, int]]:
    with duckdb.connect(str(home / "serving" / "warehouse.duckdb"), read_only=True) as connection:
        log = connection.execute("select publish_id, engine, row_counts from meta.publish_log order by published_at").fetchall()
        marts = {name: connection.execute(f"select count(*) from marts.{name}").fetchone()[0] for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    return log, marts


def published_on_engine(settings: Settings) -> dict[str, object]:
    with open_engine(settings) as engine:
        return {name: engine.read_table("published", name) for name in engine.table_names("published")}


@pytest.mark.parametrize("engine", ENGINES)
def test_refresh_publishes_from_the_engine(engine, tmp_path, request):
    postgres = request.getfixturevalue("postgres_server").settings if engine == "postgres" else {}
    if engine == "spark":
        # one Spark session per process: the engine builds' session (another metastore) must not answer for this home's
        request.getfixturevalue("engine_builds").close()
    home = tmp_path / f"home{engine}"
    generate_landing(GeneratorSettings(300, 3, AS_OF), home / "landing", "parquet")
    variables = environment(home, engine, postgres)

    first = subprocess.run([CLI, "refresh"], env=variables, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert f"onto {engine}" in first.stderr and "quality gate passed" in first.stderr, first.stderr[-3000:]

    log, marts = served(home)
    assert [entry[1] for entry in log] == [engine]
    settings = Settings.from_environment(variables)
    published = published_on_engine(settings)
    # every mart was published on the engine and served from there, row for row
    assert set(published) == set(marts) and len(marts) >= 30
    assert json.loads(log[0][2]) == marts
    with duckdb.connect(str(home / "serving" / "warehouse.duckdb"), read_only=True) as connection:
        for mart in ("fct_kpi_win_rate", "fct_kpi_recurring_revenue", "fct_kpi_pipeline_value"):
            comparison = compare_tables(mart, published[mart], connection.sql(f"select * from marts.{mart}").to_arrow_table())
            assert comparison.equal, comparison.differences
        assert connection.execute("select sum(won_count) > 0 from marts.fct_kpi_win_rate").fetchone() == (True,)

    if engine == "spark":
        assert_spark_publishes_repoint_views(settings, sorted(published))


def assert_spark_publishes_repoint_views(settings: Settings, marts: list[str]) -> None:
    with open_engine(settings) as engine:
        session = engine.session
        first = {row[0] for row in session.sql("show databases").collect() if row[0].startswith("published_")}
        assert len(first) == 1
        for version in ("second", "third"):
            engine.publish_marts(marts[:2], version)
            target = session.sql(f"describe table extended published.{marts[0]}").collect()
            assert any(f"published_{version}" in str(row) for row in target), target
        versions = {row[0] for row in session.sql("show databases").collect() if row[0].startswith("published_")}
        # the newest two versions are kept: the current one and one a slow reader may still be reading
        assert versions == {"published_second", "published_third"}
        # a mart that is no longer built is no longer published
        assert engine.table_names("published") == marts[:2]
        assert engine.read_table("published", marts[0]).num_rows == engine.read_table("marts", marts[0]).num_rows
