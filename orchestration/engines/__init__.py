"""The engine the dbt project builds on, one setting: CRM_KPIS_ENGINE = duckdb (default, the embedded warehouse
file), postgres or spark. Each is a dbt target of profiles.yml.

On every engine the raw tables are landed into the DuckDB warehouse by DuckDB's readers (landing, CRM loaders);
an engine then offers:

    with open_engine(settings) as engine:          # settings.engine: duckdb, postgres or spark
        engine.copy_raw_tables(settings.warehouse)  # raw, raw_<source> onto the engine (a no-op on DuckDB)
        run_dbt(["build"], settings, engine=engine)  # orchestration.dbt.runner: the engine's target and environment
        engine.read_table("marts", "fct_kpi_win_rate")  # Arrow, with DuckDB's types
        engine.copy_to_duckdb(["marts"], connection)    # e.g. to publish from the engine

`orchestration.engines.parity.compare_tables` compares two engines' tables (money to the cent, ratios to 1e-9).
"""

from __future__ import annotations

from orchestration.engines.base import BUILT_SCHEMAS, Engine, EngineError
from orchestration.settings import ENGINES, Settings

__all__ = ["BUILT_SCHEMAS", "ENGINES", "Engine", "EngineError", "engine_dbt_environment", "open_engine"]


def open_engine(settings: Settings, create_database: bool = True) -> Engine:
    """The engine of the settings (Postgres: connected by libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD,
    PGDATABASE; Spark: the in-process session of settings.spark). Nothing connects or starts until used."""
    if settings.engine == "postgres":
        from orchestration.engines.postgres import PostgresEngine

        return PostgresEngine(settings.postgres, create_database=create_database)
    if settings.engine == "spark":
        from orchestration.engines.spark import SparkEngine

        return SparkEngine(settings.spark)
    from orchestration.engines.duckdb_engine import DuckDBEngine

    return DuckDBEngine(settings.warehouse)


def engine_dbt_environment(settings: Settings) -> dict[str, str]:
    """The environment a dbt child needs for the settings' engine, without connecting to it or starting it."""
    return open_engine(settings, create_database=False).dbt_environment()
