"""DuckDB, the default: the embedded warehouse file is the engine, so raw tables are already in place."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.engines.base import BUILT_SCHEMAS, Engine, duckdb_tables, read_only, select_sql, selected_raw_schemas
from orchestration.warehouse_connection import connect_warehouse


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse
        self._reader: duckdb.DuckDBPyConnection | None = None

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """One read-only connection for the reads of the block (the gate reads a hundred frames, and each open
        of the file costs ~25 ms, more on a large one), closed after it: outside it a reader holds nothing, so
        dbt in another process, or a writer in this one, can open the file."""
        if self._reader is not None:
            yield
            return
        with read_only(self.warehouse) as connection:
            self._reader = connection
            try:
                yield
            finally:
                self._reader = None

    def _read(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        return contextlib.nullcontext(self._reader) if self._reader is not None else read_only(self.warehouse)

    def copy_raw_tables(self, warehouse: Path, schemas: Iterable[str] | None = None) -> dict[str, int]:
        if warehouse.resolve() != self.warehouse.resolve():
            raise ValueError(f"the DuckDB engine builds in its own warehouse {self.warehouse}, not in {warehouse}")
        with read_only(warehouse) as connection:
            return {
                f"{schema}.{table}": connection.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
                for schema in selected_raw_schemas(connection, schemas)
                for table in duckdb_tables(connection, schema)
            }

    def table_names(self, schema: str) -> list[str]:
        with self._read() as connection:
            return duckdb_tables(connection, schema)

    def query_frame(self, sql: str) -> pd.DataFrame:
        with self._read() as connection:
            return connection.execute(sql).df()

    def read_table(self, schema: str, table: str, columns: list[str] | None = None, where: str | None = None) -> pa.Table:
        with self._read() as connection:
            return connection.sql(select_sql(f'"{schema}"."{table}"', columns, where)).to_arrow_table()

    def drop_built_schemas(self, schemas: Iterable[str] = BUILT_SCHEMAS) -> None:
        with connect_warehouse(self.warehouse) as connection:
            for schema in schemas:
                connection.execute(f'drop schema if exists "{schema}" cascade')
