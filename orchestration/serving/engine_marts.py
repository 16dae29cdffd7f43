"""Write-audit-publish on an engine other than DuckDB: the audited marts are swapped in on the engine itself
(Postgres: a schema renamed in one transaction; Spark: views repointed to a new version), then its published
marts are read back into a DuckDB file from which the serving file and the Parquet export are written, as on
DuckDB, so file-reading BI tools and the gate's comparisons work whatever the engine."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from orchestration.engines import open_engine
from orchestration.settings import Settings


@contextlib.contextmanager
def published_marts_file(settings: Settings, run_id: str, marts: list[str]) -> Iterator[Path]:
    """A DuckDB file whose schema `marts` holds the marts to serve: on DuckDB the working warehouse itself;
    on another engine its just-published marts (removed again afterwards)."""
    if settings.engine == "duckdb":
        yield settings.warehouse
        return
    scratch = settings.warehouse.resolve().parent / f".engine-published-{run_id}.duckdb"
    scratch.unlink(missing_ok=True)
    try:
        with open_engine(settings) as engine:
            schema = engine.publish_marts(marts, run_id.replace("-", "_"))
            with duckdb.connect(str(scratch)) as connection:
                engine.copy_to_duckdb([f"{schema}.{mart}" for mart in marts], connection, into_schema="marts")
        yield scratch
    finally:
        scratch.unlink(missing_ok=True)
