"""Opening the warehouse DuckDB file with deliberate settings (memory cap, threads, spill folder)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.settings import WarehouseConfig


@contextmanager
def connect_warehouse(
    warehouse_path: Path, read_only: bool = False, config: WarehouseConfig | None = None, in_memory: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection: DuckDB allows one writer and an open reader blocks it. Row order is
    kept: landing numbers rows in file order. `in_memory`: an in-memory database that spills beside
    `warehouse_path` (for work on attached files)."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    settings = (config or WarehouseConfig()).duckdb_settings(warehouse_path, keep_row_order=True)
    connection = duckdb.connect(":memory:" if in_memory else str(warehouse_path), read_only=read_only, config=settings)
    try:
        # TimeZone cannot be passed at connect time (ICU loads after the config is applied).
        connection.execute("set TimeZone = 'UTC'")
        yield connection
    finally:
        connection.close()
