"""Spark: by default an in-process session (pyspark, `local[*]`) with a Derby metastore and parquet tables under
CRM_KPIS_SPARK_HOME (default `$CRM_KPIS_HOME/spark`, settings.spark), never in the working folder; dbt runs in the same
process and so on the same session (one JVM start, ~30 s here, per process).

A Spark Thrift server or Databricks (CRM_KPIS_SPARK_METHOD thrift / http, CRM_KPIS_SPARK_HOST, ...) is a dbt
target too, but its raw tables are the EL tool's job there: a cluster cannot read this machine's files, so
`copy_raw_tables` and reading back need the session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from orchestration.engines.base import (
    BUILT_SCHEMAS,
    PUBLISHED_SCHEMA,
    Engine,
    EngineError,
    duckdb_columns,
    duckdb_tables,
    naive_utc,
    read_only,
    select_sql,
    selected_raw_schemas,
)
from orchestration.settings import SparkConfig

# DuckDB types Spark's parquet reader cannot take as they are, and what DuckDB writes instead
_PARQUET_CASTS = {
    # TIMESTAMP would arrive as TIMESTAMP_NTZ; the models' own timestamps are Spark's zone-aware TIMESTAMP
    # (read in the session time zone, UTC), and both kinds in one union or comparison are a cast each
    "TIMESTAMP": "TIMESTAMPTZ",
    "HUGEINT": "DECIMAL(38,0)",
    "UBIGINT": "DECIMAL(20,0)",
    "UUID": "VARCHAR",
    "JSON": "VARCHAR",
}


def session_settings(config: SparkConfig, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The session's configuration: everything Spark writes goes under the config's home; small shuffles for
    data that fits one machine (spark_shuffle_partitions, default 4 instead of Spark's 200)."""
    home = config.home.resolve()
    return {**{
        "spark.master": config.master,
        "spark.app.name": "crm-kpis",
        "spark.driver.memory": config.driver_memory,
        "spark.sql.warehouse.dir": str(home / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={home / 'metastore_db'};create=true",
        # derby.log goes to derby.system.home, the working folder otherwise
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={home}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(config.shuffle_partitions),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
    }, **(overrides or {})}


class SparkEngine(Engine):
    name = "spark"
    runs_dbt_in_process = True

    def __init__(self, config: SparkConfig, settings: Mapping[str, str] | None = None) -> None:
        """`settings`: Spark configuration over the config's, e.g. {"spark.master": "local[2]"}."""
        self.home = config.home.resolve()
        self.settings = session_settings(config, settings)
        self._session: Any = None

    def dbt_environment(self) -> dict[str, str]:
        # a dbt in another process starts its own session from PYSPARK_SUBMIT_ARGS (dbt-spark's builder only
        # sets runtime options); only one process at a time can open the Derby metastore
        arguments = " ".join(f"--conf {key}={value}" for key, value in self.settings.items() if key != "spark.master")
        return {
            "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_SUBMIT_ARGS": f"--master {self.settings['spark.master']} {arguments} pyspark-shell",
        }

    @property
    def session(self) -> Any:
        """The in-process SparkSession, started on first use."""
        if os.environ.get("CRM_KPIS_SPARK_METHOD", "session") != "session":
            raise EngineError("copying raw tables to Spark and reading tables back need CRM_KPIS_SPARK_METHOD=session; "
                              "on a cluster the EL tool writes the raw tables")
        if self._session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError as error:
                raise EngineError("the Spark engine needs the extra 'spark' (uv sync --extra spark)") from error
            if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
                raise EngineError("Spark needs Java 17 or 21 (scripts/install_system_packages.sh installs it)")
            self.home.mkdir(parents=True, exist_ok=True)
            # Spark binds the first network interface's address otherwise
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            builder = SparkSession.builder.enableHiveSupport()
            for key, value in self.settings.items():
                builder = builder.config(key, value)
            self._session = builder.getOrCreate()
            warehouse = self._session.conf.get("spark.sql.warehouse.dir", "")
            if Path(warehouse.split(":", 1)[-1]).resolve() != Path(self.settings["spark.sql.warehouse.dir"]).resolve():
                # getOrCreate hands back a session this process already runs, with another metastore
                self._session = None
                raise EngineError(f"this process already runs a Spark session on {warehouse}; close that engine before "
                                  f"opening one on {self.home}")
            self._session.sparkContext.setLogLevel("ERROR")
        return self._session

    def copy_raw_tables(self, warehouse: Path, schemas: Iterable[str] | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        with read_only(warehouse) as source:
            for schema in selected_raw_schemas(source, schemas):
                self.session.sql(f"drop database if exists `{schema}` cascade")
                self.session.sql(f"create database `{schema}`")
                for table in duckdb_tables(source, schema):
                    # an external parquet table over DuckDB's own file: one copy, the exact types; no folder
                    # name starts with _ or . (_landed_files), which Spark's readers skip
                    folder = self.home / "raw_tables" / schema / f"table-{table}"
                    shutil.rmtree(folder, ignore_errors=True)
                    folder.mkdir(parents=True)
                    columns = ", ".join(
                        f'cast("{column}" as {_PARQUET_CASTS[data_type]}) as "{column}"' if data_type in _PARQUET_CASTS
                        else f'"{column}"'
                        for column, data_type in duckdb_columns(source, schema, table))
                    source.execute(f"""copy (select {columns} from "{schema}"."{table}") to '{folder / "part-0.parquet"}' (format parquet)""")
                    self.session.sql(f"create table `{schema}`.`{table}` using parquet location '{folder}'")
                    counts[f"{schema}.{table}"] = source.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        return counts

    def table_names(self, schema: str) -> list[str]:
        if not self.session.catalog.databaseExists(schema):
            return []
        return sorted(row.tableName for row in self.session.sql(f"show tables in `{schema}`").collect() if not row.isTemporary)

    def hash_part_sql(self, columns: list[str], parts: int) -> str:
        return f"pmod(hash({', '.join(f'`{column}`' for column in columns)}), {parts})"

    def read_table(self, schema: str, table: str, columns: list[str] | None = None, where: str | None = None) -> pa.Table:
        return naive_utc(self.session.sql(select_sql(f"`{schema}`.`{table}`", columns, where, lambda name: f"`{name}`")).toArrow())

    def query_frame(self, sql: str) -> pd.DataFrame:
        return naive_utc(self.session.sql(sql).toArrow()).to_pandas()

    def publish_marts(self, marts: list[str], publish_id: str) -> str:
        """Copies of the audited marts in a database per publish, then every view of `published` repointed to
        them: parquet tables cannot be swapped, views can (each repoint is atomic; a reader between two sees
        marts of two good publishes, never a half-built one). The previous version stays for slow readers."""
        version = f"{PUBLISHED_SCHEMA}_{publish_id.lower()}"
        self.session.sql(f"create database `{version}`")
        for mart in marts:
            self.session.sql(f"create table `{version}`.`{mart}` using parquet as select * from `marts`.`{mart}`")
        self.session.sql(f"create database if not exists `{PUBLISHED_SCHEMA}`")
        for mart in marts:
            self.session.sql(f"create or replace view `{PUBLISHED_SCHEMA}`.`{mart}` as select * from `{version}`.`{mart}`")
        for gone in set(self.table_names(PUBLISHED_SCHEMA)) - set(marts):  # a mart no longer built
            self.session.sql(f"drop view if exists `{PUBLISHED_SCHEMA}`.`{gone}`")
        versions = sorted(row[0] for row in self.session.sql("show databases").collect()
                          if row[0].startswith(f"{PUBLISHED_SCHEMA}_") and row[0] != version)
        for old in versions[:-1]:
            self.session.sql(f"drop database if exists `{old}` cascade")
        return PUBLISHED_SCHEMA

    def drop_built_schemas(self, schemas: Iterable[str] = BUILT_SCHEMAS) -> None:
        for schema in schemas:
            self.session.sql(f"drop database if exists `{schema}` cascade")

    def close(self) -> None:
        """Stop the session and its JVM (by its process id), so that a later session in this process starts a
        JVM of its own: the metastore a JVM opened stays its metastore."""
        if self._session is None:
            return
        from pyspark import SparkContext

        try:
            self._session.stop()
        except Exception:  # noqa: BLE001 (the JVM is gone already: nothing left to stop)
            pass
        self._session = None
        gateway = SparkContext._gateway
        if gateway is not None:
            process = getattr(gateway, "proc", None)
            gateway.shutdown()
            if process is not None:
                process.kill()
                process.wait()
            SparkContext._gateway = None
            SparkContext._jvm = None
