"""Postgres: the server libpq's environment names (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, as psql
reads them); raw tables move there with COPY through psycopg2 (it ships with dbt-postgres), and come back the
same way: DuckDB's postgres extension is a download, which this project cannot rely on."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.engines.base import (
    BUILT_SCHEMAS,
    PUBLISHED_SCHEMA,
    Engine,
    EngineError,
    duckdb_columns,
    duckdb_tables,
    read_only,
    select_sql,
    selected_raw_schemas,
)
from orchestration.landing.file_source import quote_identifier as quoted
from orchestration.settings import POSTGRES_VARIABLES

DEFAULT_DATABASE = "crm_kpis"
# libpq's defaults where a PG* variable is not set (profiles.yml's postgres target has the same)
CONNECTION_DEFAULTS = {"host": "127.0.0.1", "port": "5432", "user": "postgres", "dbname": DEFAULT_DATABASE}

# DuckDB's types of the raw tables (landing and CRM loaders) as Postgres types
_DUCKDB_TO_POSTGRES = {
    "VARCHAR": "text", "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer",
    "BIGINT": "bigint", "HUGEINT": "numeric(39,0)", "UTINYINT": "smallint", "USMALLINT": "integer",
    "UINTEGER": "bigint", "UBIGINT": "numeric(20,0)", "FLOAT": "real", "DOUBLE": "double precision", "DATE": "date",
    "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "TIME": "time", "UUID": "uuid",
    "INTERVAL": "interval", "JSON": "jsonb",
}

# Postgres's types as DuckDB types for reading back (information_schema.columns.data_type)
_POSTGRES_TO_DUCKDB = {
    "text": "VARCHAR", "character varying": "VARCHAR", "character": "VARCHAR", "name": "VARCHAR", "boolean": "BOOLEAN",
    "smallint": "SMALLINT", "integer": "INTEGER", "bigint": "BIGINT", "real": "FLOAT", "double precision": "DOUBLE",
    "date": "DATE", "timestamp without time zone": "TIMESTAMP", "timestamp with time zone": "TIMESTAMPTZ",
    "time without time zone": "TIME", "uuid": "UUID", "interval": "INTERVAL", "jsonb": "VARCHAR", "json": "VARCHAR",
}


def postgres_type(duckdb_type: str, column: str) -> str:
    decimal = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duckdb_type)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    if duckdb_type in _DUCKDB_TO_POSTGRES:
        return _DUCKDB_TO_POSTGRES[duckdb_type]
    raise EngineError(f"column {column}: DuckDB type {duckdb_type} has no Postgres counterpart here")


def duckdb_type(data_type: str, precision: int | None, scale: int | None, column: str) -> str:
    if data_type == "numeric":
        if precision is None:
            # unconstrained numeric (no typmod): the marts never hold one (macros/to_money.sql), a raw or
            # intermediate column might; DECIMAL(38,12) keeps twelve decimals of it
            return "DECIMAL(38,12)"
        return f"DECIMAL({precision},{scale})"
    if data_type in _POSTGRES_TO_DUCKDB:
        return _POSTGRES_TO_DUCKDB[data_type]
    raise EngineError(f"column {column}: Postgres type {data_type} cannot be read back into DuckDB here")


class PostgresEngine(Engine):
    """`settings` override libpq's environment (host, port, user, password, dbname); `create_database`
    creates the database when it does not exist yet (connecting to `postgres` for that)."""

    name = "postgres"

    def __init__(self, settings: Mapping[str, str] | None = None, create_database: bool = True) -> None:
        self.settings = {**CONNECTION_DEFAULTS, **(settings or {})}
        self._connection: Any = None
        if create_database:
            self.ensure_database()

    def dbt_environment(self) -> dict[str, str]:
        environment = {variable: str(self.settings[key]) for variable, key in POSTGRES_VARIABLES.items() if key in self.settings}
        # raw timestamps are UTC without a zone: a cast to date or timestamptz must not depend on the server's zone
        environment["PGTZ"] = "UTC"
        return environment

    def _connect(self, **overrides: str) -> Any:
        import psycopg2

        settings = {**self.settings, **overrides}
        try:
            connection = psycopg2.connect(**settings, options="-c TimeZone=UTC", connect_timeout=10)
        except psycopg2.OperationalError as error:
            where = f"{settings.get('user')}@{settings.get('host')}:{settings.get('port')}/{settings.get('dbname')}"
            raise EngineError(f"cannot connect to Postgres {where} (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE): "
                              f"{str(error).strip()}") from error
        return connection

    @property
    def connection(self) -> Any:
        if self._connection is None or self._connection.closed:
            self._connection = self._connect()
        return self._connection

    def ensure_database(self) -> None:
        database = self.settings["dbname"]
        server = self._connect(dbname="postgres")
        try:
            server.autocommit = True
            with server.cursor() as cursor:
                cursor.execute("select 1 from pg_database where datname = %s", [database])
                if cursor.fetchone() is None:
                    cursor.execute(f"create database {quoted(database)}")
        finally:
            server.close()

    def copy_raw_tables(self, warehouse: Path, schemas: Iterable[str] | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        with read_only(warehouse) as source, tempfile.TemporaryDirectory(prefix="crm-kpis-pg-") as scratch:
            for schema in selected_raw_schemas(source, schemas):
                # one transaction per schema: readers see the old tables or the new ones, never half of them
                with self.connection, self.connection.cursor() as cursor:
                    cursor.execute(f"drop schema if exists {quoted(schema)} cascade")
                    cursor.execute(f"create schema {quoted(schema)}")
                    for table in duckdb_tables(source, schema):
                        columns = duckdb_columns(source, schema, table)
                        definition = ", ".join(f"{quoted(column)} {postgres_type(data_type, f'{schema}.{table}.{column}')}"
                                               for column, data_type in columns)
                        cursor.execute(f"create table {quoted(schema)}.{quoted(table)} ({definition})")
                        csv = Path(scratch) / f"{schema}.{table}.csv"
                        # DuckDB writes NULL as nothing and an empty string as "", which is how COPY reads them
                        source.execute(f"copy (select * from {quoted(schema)}.{quoted(table)}) to '{csv}' (format csv, header false)")
                        with csv.open("rb") as data:
                            cursor.copy_expert(f"copy {quoted(schema)}.{quoted(table)} from stdin with (format csv)", data)
                        counts[f"{schema}.{table}"] = cursor.rowcount
                        csv.unlink()
        return counts

    def table_names(self, schema: str) -> list[str]:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute("select table_name from information_schema.tables where table_schema = %s order by table_name",
                           [schema])
            return [name for (name,) in cursor.fetchall()]

    def hash_part_sql(self, columns: list[str], parts: int) -> str:
        # hashtext of the values joined by a unit separator; as bigint, so abs() of the smallest int4 fits
        values = ", ".join(f"{quoted(column)}::text" for column in columns)
        return f"mod(abs(hashtext(concat_ws(chr(31), {values}))::bigint), {parts})"

    def read_table(self, schema: str, table: str, columns: list[str] | None = None, where: str | None = None) -> pa.Table:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute("""
                select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns
                where table_schema = %s and table_name = %s order by ordinal_position""", [schema, table])
            types = {name: duckdb_type(data_type, precision, scale, f"{schema}.{table}.{name}")
                     for name, data_type, precision, scale in cursor.fetchall()}
            if not types:
                raise EngineError(f"Postgres has no table {schema}.{table}")
            selected = {name: types[name] for name in columns} if columns else types
            with tempfile.TemporaryDirectory(prefix="crm-kpis-pg-") as scratch:
                csv = Path(scratch) / "table.csv"
                with csv.open("wb") as data:
                    cursor.copy_expert(f"copy ({select_sql(f'{quoted(schema)}.{quoted(table)}', list(selected), where)}) to stdout with (format csv)", data)
                with duckdb.connect() as reader:
                    reader.execute("set TimeZone = 'UTC'")
                    # header false, every type given: nothing is guessed; "" is an empty string, not NULL
                    relation = reader.read_csv(  # noqa: F841 (the query below reads it by name)
                        str(csv), header=False, columns=selected, auto_detect=False, allow_quoted_nulls=False)
                    names = ", ".join(f"{quoted(name)}::TIMESTAMP as {quoted(name)}" if kind == "TIMESTAMPTZ" else quoted(name)
                                      for name, kind in selected.items())
                    return reader.sql(f"select {names} from relation").to_arrow_table()

    def query_frame(self, sql: str) -> pd.DataFrame:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(sql)
            return pd.DataFrame(cursor.fetchall(), columns=[column.name for column in cursor.description])

    def publish_marts(self, marts: list[str], publish_id: str) -> str:
        """Copies of the audited marts in a schema of their own, renamed to `published` in the transaction
        that drops the previous one: Postgres's DDL is transactional, so a reader sees the old published
        marts or the new ones, never a mix, and a failure leaves the old ones."""
        staged = quoted(f"{PUBLISHED_SCHEMA}__{publish_id.lower()}")
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(f"create schema {staged}")
            for mart in marts:
                cursor.execute(f"create table {staged}.{quoted(mart)} as select * from marts.{quoted(mart)}")
            cursor.execute(f"drop schema if exists {quoted(PUBLISHED_SCHEMA)} cascade")
            cursor.execute(f"alter schema {staged} rename to {quoted(PUBLISHED_SCHEMA)}")
        return PUBLISHED_SCHEMA

    def drop_built_schemas(self, schemas: Iterable[str] = BUILT_SCHEMAS) -> None:
        with self.connection, self.connection.cursor() as cursor:
            for schema in schemas:
                cursor.execute(f"drop schema if exists {quoted(schema)} cascade")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

