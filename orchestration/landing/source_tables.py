"""Loading a CRM's tables as an EL tool lands them (Fivetran naming) into `raw_<source>`.

In production Fivetran, Airbyte or dlt writes these schemas; this loader is for the embedded DuckDB
warehouse, trials and tests: every CSV or Parquet file of a folder becomes one table, named after the
file. Fivetran's test-seed names (`sf_opportunity_data.csv`, `deal_data.csv`) are understood.
Types are detected; the staging models cast every column they read, so text works as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orchestration.landing.file_source import quote_identifier
from orchestration.settings import WarehouseConfig
from orchestration.warehouse_connection import connect_warehouse

ADAPTER_SOURCES = ("salesforce", "hubspot", "superoffice")
# Warehouse-specific copies of the same seed in Fivetran's test data
SKIPPED_VARIANTS = re.compile(r"_(postgres|snowflake|databricks|redshift|bigquery)$")


@dataclass(frozen=True)
class LoadedTable:
    table: str
    file: Path
    rows: int


def source_schema(source: str) -> str:
    return f"raw_{source}"


def table_name_for(path: Path, source: str) -> str | None:
    """`sf_opportunity_data.csv` -> `opportunity`; None for files that are not a table of the source."""
    name = path.name.split(".")[0].lower()
    if SKIPPED_VARIANTS.search(name):
        return None
    name = re.sub(r"_data$", "", name)
    if source == "salesforce":
        name = re.sub(r"^sf_", "", name)
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else None


def _reader(path: Path, as_text: bool) -> str:
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{path}')"
    # every row sampled, so a late odd value does not make the load fail
    return f"read_csv('{path}', header = true, sample_size = -1, all_varchar = {str(as_text).lower()})"


def load_source_tables(source: str, folder: Path, warehouse: Path, as_text: bool = False,
                       config: WarehouseConfig | None = None) -> list[LoadedTable]:
    """Replace `raw_<source>.<table>` with each file's rows; raises naming the file that cannot be read.
    `as_text` keeps every CSV column as text, as some loaders land them."""
    if source not in ADAPTER_SOURCES:
        raise ValueError(f"unknown source '{source}': choose from {', '.join(ADAPTER_SOURCES)}")
    if not folder.is_dir():
        raise FileNotFoundError(f"source folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
    schema = source_schema(source)
    loaded = []
    with connect_warehouse(warehouse, config=config) as connection:
        connection.execute(f"create schema if not exists {schema}")
        for path in files:
            table = table_name_for(path, source)
            if table is None:
                continue
            target = f"{schema}.{quote_identifier(table)}"
            try:
                connection.execute(f"create or replace table {target} as select * from {_reader(path.resolve(), as_text)}")
            except Exception as error:
                raise ValueError(f"{path}: cannot be read as a table: {str(error).splitlines()[0]}") from error
            rows = connection.execute(f"select count(*) from {target}").fetchone()[0]
            loaded.append(LoadedTable(table, path, rows))
    if not loaded:
        raise ValueError(f"{folder}: no CSV or Parquet tables found")
    return loaded
