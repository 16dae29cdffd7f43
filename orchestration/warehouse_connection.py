"""Opening the warehouse DuckDB file with deliberate settings."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb


# The same cap as dbt's (profiles.yml): every step stays well inside a modest machine and spills beyond it.
DEFAULT_MEMORY_LIMIT = "4GB"


def duckdb_settings(warehouse_path: Path) -> dict[str, str]:
    """Memory, threads and spill folder from the environment."""
    settings = {
        "temp_directory": str(warehouse_path.parent / ".duckdb_tmp"),
        "preserve_insertion_order": "true",
        "memory_limit": os.environ.get("CRM_KPIS_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
    }
    if os.environ.get("CRM_KPIS_DUCKDB_THREADS"):
        settings["threads"] = os.environ["CRM_KPIS_DUCKDB_THREADS"]
    return settings


@contextmanager
def connect_warehouse(warehouse_path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection: DuckDB allows one writer and an open reader blocks it."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(warehouse_path), read_only=read_only, config=duckdb_settings(warehouse_path))
    try:
        # TimeZone cannot be passed at connect time (ICU loads after the config is applied).
        connection.execute("set TimeZone = 'UTC'")
        yield connection
    finally:
        connection.close()
