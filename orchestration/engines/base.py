"""What every engine offers the pipeline: its dbt target, the raw tables moved onto it, and its tables read
back as Arrow or DuckDB tables (for comparisons, and for publishing from the engine)."""

from __future__ import annotations

import abc
import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.landing.file_source import quote_identifier

# The schemas dbt builds (macros/generate_schema_name.sql) and the raw ones landing and the adapters fill.
BUILT_SCHEMAS = ("reference", "staging", "intermediate", "marts", "snapshots")
# Where an engine's audited marts are published for readers of the engine itself (write-audit-publish:
# dbt writes `marts`, the gate audits it, publish swaps it in here in one step)
PUBLISHED_SCHEMA = "published"
RAW_SCHEMA_PATTERN = re.compile(r"^raw(_[a-z0-9]+)?$")


class EngineError(RuntimeError):
    """An engine cannot be reached or cannot take the data; the message names what to do."""


class Engine(abc.ABC):
    """One warehouse engine. Use it as a context manager (or call close()): Postgres holds a connection and
    Spark a JVM.

    The DuckDB warehouse file stays where landing and the CRM loaders write: raw tables are landed there by
    DuckDB's readers on every engine, then `copy_raw_tables` moves them onto the engine before dbt runs."""

    #: the value of CRM_KPIS_ENGINE and the dbt target in profiles.yml
    name: str = ""

    #: dbt must run in this Python process (Spark's in-process session lives in it)
    runs_dbt_in_process: bool = False

    def dbt_environment(self) -> dict[str, str]:
        """Environment variables a dbt child needs for this engine beyond the settings' vars (profiles.yml
        reads connection settings from the environment)."""
        return {}

    @abc.abstractmethod
    def copy_raw_tables(self, warehouse: Path, schemas: Iterable[str] | None = None) -> dict[str, int]:
        """Replace the engine's raw tables by the typed tables of the DuckDB warehouse's `raw` and
        `raw_<source>` schemas (or the given ones); returns rows per `schema.table`."""

    @abc.abstractmethod
    def table_names(self, schema: str) -> list[str]:
        """The tables and views of a schema, sorted; [] when the schema does not exist."""

    @abc.abstractmethod
    def read_table(self, schema: str, table: str, columns: list[str] | None = None, where: str | None = None) -> pa.Table:
        """One table or view as Arrow, with DuckDB's types: decimals as decimals, timestamps as UTC
        without a time zone (the project's convention), dates, booleans, strings. Only `columns` (all when
        None) and only the rows of the `where` condition (in the engine's SQL) when given."""

    def hash_part_sql(self, columns: list[str], parts: int) -> str:
        """SQL of the part (0 .. parts-1) a row falls in by a hash of `columns`: rows equal on them share a
        part, so a uniqueness check over them is exact part by part. DuckDB's SQL; others override."""
        return f"hash({', '.join(quote_identifier(column) for column in columns)}) % {parts}"

    @abc.abstractmethod
    def drop_built_schemas(self, schemas: Iterable[str] = BUILT_SCHEMAS) -> None:
        """Remove dbt's schemas (with every table in them), e.g. before building another data set; the
        raw schemas are left as they are."""

    @abc.abstractmethod
    def query_frame(self, sql: str) -> pd.DataFrame:
        """The rows of one query in the engine's SQL (e.g. a dbt test compiled for it), as a DataFrame."""

    def publish_marts(self, marts: list[str], publish_id: str) -> str | None:
        """Swap the audited marts of `marts` in as the engine's published schema, in one step, so the engine's
        readers never see a half-built or failed mart; returns the schema to read the published marts from.
        DuckDB: None, its published marts are the serving file."""
        return None

    def read_schema(self, schema: str) -> dict[str, pa.Table]:
        return {table: self.read_table(schema, table) for table in self.table_names(schema)}

    def copy_to_duckdb(self, names: Iterable[str], connection: duckdb.DuckDBPyConnection, into_schema: str | None = None) -> dict[str, int]:
        """Tables of the engine as DuckDB tables of the same schema (or `into_schema`) and name in `connection`
        (replacing them): a name `schema` copies every table and view of it, `schema.table` that one; returns
        rows per `schema.table`."""
        counts: dict[str, int] = {}
        for name in names:
            schema, _, only = name.partition(".")
            target = into_schema or schema
            connection.execute(f'create schema if not exists "{target}"')
            for table in [only] if only else self.table_names(schema):
                data = self.read_table(schema, table)
                connection.register("engine_table", data)
                try:
                    connection.execute(f'create or replace table "{target}"."{table}" as select * from engine_table')
                finally:
                    connection.unregister("engine_table")
                counts[f"{schema}.{table}"] = data.num_rows
        return counts

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Reads inside the block may share one connection; nothing is written through the engine meanwhile.
        A no-op for an engine that keeps its connection open anyway."""
        yield

    def close(self) -> None:  # noqa: B027 (a no-op for an engine that holds nothing)
        """Release connections and processes (idempotent)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def select_sql(relation: str, columns: list[str] | None, where: str | None, quote: Callable[[str], str] = quote_identifier) -> str:
    """`select <columns> from <relation> [where <where>]`, the columns quoted the engine's way."""
    listed = ", ".join(quote(column) for column in columns) if columns else "*"
    return f"select {listed} from {relation}" + (f" where {where}" if where else "")


def raw_schemas(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The DuckDB warehouse's raw schemas: `raw` (landed files) and `raw_<source>` (CRM adapters)."""
    names = [name for (name,) in connection.execute(
        "select distinct table_schema from information_schema.tables where table_catalog = current_database()").fetchall()]
    return sorted(name for name in names if RAW_SCHEMA_PATTERN.match(name))


def duckdb_tables(connection: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [name for (name,) in connection.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_catalog = current_database() "
        "order by table_name", [schema]).fetchall()]


def duckdb_columns(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) in table order."""
    return [(name, data_type) for name, data_type in connection.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? "
        "and table_catalog = current_database() order by ordinal_position", [schema, table]).fetchall()]


def naive_utc(table: pa.Table) -> pa.Table:
    """Zone-aware timestamp columns as UTC wall-clock time without a zone, as DuckDB's TIMESTAMP holds them."""
    columns = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            column = column.cast(pa.timestamp(field.type.unit, tz="UTC")).cast(pa.timestamp(field.type.unit))
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def selected_raw_schemas(connection: duckdb.DuckDBPyConnection, schemas: Iterable[str] | None) -> list[str]:
    available = raw_schemas(connection)
    if schemas is None:
        return available
    chosen = list(schemas)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise EngineError(f"the DuckDB warehouse has no schema {', '.join(unknown)} (it has: {', '.join(available) or 'none'})")
    return chosen


def read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise EngineError(f"no DuckDB warehouse at {warehouse}: land the raw data first (crm-kpis land / load-source)")
    connection = duckdb.connect(str(warehouse), read_only=True)
    connection.execute("set TimeZone = 'UTC'")
    return connection

