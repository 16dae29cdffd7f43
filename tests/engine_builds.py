"""Each test data set built on each engine once per test process (the Postgres and Spark builds take
seconds to minutes), and the comparison of their marts."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import duckdb

from orchestration.dbt.runner import run_dbt
from orchestration.engines import ENGINES, Engine
from orchestration.engines.local_postgres import LocalPostgres
from orchestration.engines.parity import compare_tables
from orchestration.settings import SparkConfig

# Spark's builds here run no data tests and no unit tests: each is a Spark job (~550 data tests, minutes of the
# suite; the 5 unit tests a seventh of a build), and they hold nothing an engine decides that the marts compared
# across engines do not; the Spark refresh (tests/test_engine_refresh.py) runs every data and unit test on Spark,
# with the gate.
BUILD_EXCLUDES = {"spark": ("--exclude", "resource_type:test", "resource_type:unit_test")}


def engines_under_test() -> list[str]:
    """CRM_KPIS_TEST_ENGINES (comma-separated), default every engine. An engine listed whose server or
    packages are missing fails its tests: CI must not pass by skipping one."""
    listed = [name.strip().lower() for name in os.environ.get("CRM_KPIS_TEST_ENGINES", ",".join(ENGINES)).split(",") if name.strip()]
    unknown = set(listed) - set(ENGINES)
    assert not unknown, f"CRM_KPIS_TEST_ENGINES: unknown engine(s) {sorted(unknown)}; choose from {', '.join(ENGINES)}"
    return listed


class EngineBuilds:
    """Builds of the test data sets on each engine, each once per test process: the raw tables landed into a
    DuckDB warehouse by the normal landing, moved onto the engine, built by dbt there, and the engine's
    tables the tests query (`read_back`: schemas or schema.table) read back into a DuckDB file of their own (DuckDB's build: the warehouse itself),
    so tests query every engine's results with the same SQL."""

    def __init__(self, root: Path, postgres_server: Callable[[], LocalPostgres]) -> None:
        self.root = root
        self.postgres_server = postgres_server
        self.results: dict[tuple[str, str], Path] = {}
        self.build_seconds: dict[tuple[str, str], float] = {}
        self._spark: Engine | None = None

    def engine(self, name: str, data_set: str) -> Engine:
        if name == "postgres":
            from orchestration.engines.postgres import PostgresEngine

            server = self.postgres_server()
            # a database per data set: nothing of one build is left for the next
            return PostgresEngine({**server.settings, "dbname": f"crm_kpis_{data_set}"})
        if name == "spark":
            from orchestration.engines.spark import SparkEngine

            if self._spark is None:
                # one session (one JVM start) for every Spark build of this process; its files stay out of
                # the working folder
                self._spark = SparkEngine(SparkConfig(home=self.root / "spark", master="local[2]"))
            self._spark.drop_built_schemas()
            return self._spark
        raise ValueError(name)

    def build(self, data_set: str, name: str, land: Callable[[Path], None], as_of: date,
              variables: dict[str, object] | None = None, read_back: Sequence[str] = ("marts",)) -> Path:
        """The DuckDB file holding data set `data_set` as built on engine `name`; `land` fills a new DuckDB
        warehouse with its raw tables."""
        key = (data_set, name)
        if key in self.results:
            return self.results[key]
        warehouse = self.root / data_set / "warehouse.duckdb"
        if not warehouse.exists():
            warehouse.parent.mkdir(parents=True)
            land(warehouse)
        started = time.monotonic()
        if name == "duckdb":
            result = run_dbt(["build"], warehouse, quiet=True, as_of=as_of, variables=variables)
            assert result.returncode == 0, result.stdout[-4000:]
            self.results[key] = warehouse
        else:
            engine = self.engine(name, data_set)
            try:
                engine.copy_raw_tables(warehouse)
                result = run_dbt(["build", *BUILD_EXCLUDES.get(name, ())], warehouse, quiet=True, as_of=as_of, variables=variables,
                                 engine=engine, target_dir=warehouse.parent / f"dbt_target_{name}")
                assert result.returncode == 0, result.stdout[-4000:]
                copy = warehouse.parent / f"{name}.duckdb"
                with duckdb.connect(str(copy)) as connection:
                    engine.copy_to_duckdb(read_back, connection)
            finally:
                if name != "spark":
                    engine.close()
            self.results[key] = copy
        self.build_seconds[key] = time.monotonic() - started
        return self.results[key]

    def close(self) -> None:
        if self._spark is not None:
            self._spark.close()


def assert_marts_equal(builds: dict[str, Path], expected_marts: int = 38) -> None:
    """Every mart of every build equals the first build's: the same columns of the same kinds, the same rows,
    money to the cent and ratios to 1e-9."""
    reference_engine, reference = next(iter(builds.items()))
    with duckdb.connect(str(reference), read_only=True) as connection:
        marts = [name for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        expected = {mart: connection.sql(f"select * from marts.{mart}").to_arrow_table() for mart in marts}
    assert len(marts) == expected_marts, marts
    differences = []
    for name, path in list(builds.items())[1:]:
        with duckdb.connect(str(path), read_only=True) as connection:
            for mart in marts:
                comparison = compare_tables(mart, expected[mart], connection.sql(f"select * from marts.{mart}").to_arrow_table())
                differences += [f"{mart} on {name} vs {reference_engine}: {difference}" for difference in comparison.differences]
    assert not differences, "\n".join(differences)
