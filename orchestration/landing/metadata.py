"""The warehouse's `raw` schema: typed raw tables plus the landing bookkeeping tables."""

from __future__ import annotations

import duckdb

from .contract import CONTRACTS, LINEAGE_COLUMNS, TableContract
from .file_source import quote_identifier

RAW_SCHEMA = "raw"
LANDED_FILES = f"{RAW_SCHEMA}._landed_files"
REJECTS = f"{RAW_SCHEMA}._rejects"
LOAD_RUNS = f"{RAW_SCHEMA}._load_runs"

BOOKKEEPING_DDL = [
    f"create schema if not exists {RAW_SCHEMA}",
    f"""create table if not exists {LANDED_FILES} (
        load_id varchar, file_path varchar, table_name varchar, checksum varchar, status varchar,
        options varchar, assumptions varchar, rows_read bigint, rows_landed bigint, rows_rejected bigint,
        rows_inserted bigint, rows_updated bigint, rows_stale bigint, rows_superseded bigint,
        error varchar, landed_at timestamp)""",
    f"""create table if not exists {REJECTS} (
        load_id varchar, file_path varchar, table_name varchar, line bigint, column_name varchar,
        value varchar, reason varchar, rejected_at timestamp)""",
    f"""create table if not exists {LOAD_RUNS} (
        load_id varchar, started_at timestamp, finished_at timestamp, files_landed bigint,
        files_skipped bigint, files_rejected bigint, rows_read bigint, rows_landed bigint,
        rows_rejected bigint, invariant_holds boolean)""",
    # added later: warehouses landed before it get the column on their next run
    f"alter table {LOAD_RUNS} add column if not exists files_ignored bigint",
]


def raw_table(contract: TableContract) -> str:
    return f"{RAW_SCHEMA}.{quote_identifier(contract.name)}"


def raw_table_ddl(contract: TableContract) -> str:
    columns = {**contract.columns, **LINEAGE_COLUMNS}
    body = ", ".join(f"{quote_identifier(name)} {sql_type}" for name, sql_type in columns.items())
    return f"create table if not exists {raw_table(contract)} ({body})"


def ensure_raw_schema(connection: duckdb.DuckDBPyConnection) -> None:
    for statement in BOOKKEEPING_DDL:
        connection.execute(statement)
    for contract in CONTRACTS.values():
        connection.execute(raw_table_ddl(contract))
