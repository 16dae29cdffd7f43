"""The engine the dbt project builds on, one setting: CRM_KPIS_ENGINE = duckdb (default, the embedded warehouse
file), postgres or spark. Each is a dbt target of profiles.yml.

On every engine the raw tables are landed into the DuckDB warehouse by DuckDB's readers (landing, CRM loaders);
an engine then offers:

    engine = open_engine(warehouse=Path("data/warehouse.duckdb"))    # CRM_KPIS_ENGINE, or name="postgres"
    engine.copy_raw_tables(warehouse)          # raw, raw_<source> onto the engine (a no-op on DuckDB)
    run_dbt(["build"], warehouse, engine=engine)   # orchestration.dbt_build: the engine's target and environment
    engine.read_table("marts", "fct_kpi_win_rate")  # Arrow, with DuckDB's types
    engine.copy_to_duckdb(["marts"], connection)   # e.g. to publish from the engine
    engine.close()

`orchestration.engines.parity.compare_tables` compares two engines' tables (money to the cent, ratios to 1e-9).
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.engines.base import BUILT_SCHEMAS, Engine, EngineError

ENGINE_VARIABLE = "CRM_KPIS_ENGINE"
ENGINE_NAMES = ("duckdb", "postgres", "spark")
DEFAULT_ENGINE = "duckdb"

__all__ = ["BUILT_SCHEMAS", "DEFAULT_ENGINE", "ENGINE_NAMES", "Engine", "EngineError", "engine_dbt_environment", "engine_name",
           "open_engine"]


def engine_name(name: str | None = None) -> str:
    """The engine `name`, else CRM_KPIS_ENGINE, else duckdb; an unknown name is an error naming the choices."""
    chosen = (name or os.environ.get(ENGINE_VARIABLE) or DEFAULT_ENGINE).strip().lower()
    if chosen not in ENGINE_NAMES:
        raise EngineError(f"{ENGINE_VARIABLE}={chosen!r}: choose one of {', '.join(ENGINE_NAMES)}")
    return chosen


def open_engine(name: str | None = None, warehouse: Path | None = None) -> Engine:
    """The engine by name (else CRM_KPIS_ENGINE), configured from the environment (Postgres: PGHOST, PGPORT,
    PGUSER, PGPASSWORD, PGDATABASE; Spark: CRM_KPIS_SPARK_*). DuckDB needs the warehouse path, which defaults
    to CRM_KPIS_WAREHOUSE."""
    chosen = engine_name(name)
    if chosen == "duckdb":
        from orchestration.engines.duckdb_engine import DuckDBEngine

        default = Path(os.environ.get("CRM_KPIS_HOME", "data")) / "warehouse.duckdb"
        return DuckDBEngine(warehouse or Path(os.environ.get("CRM_KPIS_WAREHOUSE", default)))
    if chosen == "postgres":
        from orchestration.engines.postgres import PostgresEngine

        return PostgresEngine()
    from orchestration.engines.spark import SparkEngine

    return SparkEngine()


def engine_dbt_environment(name: str, warehouse: Path) -> dict[str, str]:
    """The environment a dbt process needs for engine `name`, without connecting to it or starting it."""
    chosen = engine_name(name)
    if chosen == "postgres":
        from orchestration.engines.postgres import PostgresEngine

        return PostgresEngine(create_database=False).dbt_environment(warehouse)
    if chosen == "spark":
        from orchestration.engines.spark import SparkEngine

        return SparkEngine().dbt_environment(warehouse)
    from orchestration.engines.duckdb_engine import DuckDBEngine

    return DuckDBEngine(warehouse).dbt_environment(warehouse)
