"""Writes the synthetic CRM as landing files: `<out>/<table>/part-0.<ext>` per table."""

from __future__ import annotations

import codecs
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import crm_tables_sql as sql
from .crm_tables_sql import GeneratorSettings

FORMATS = ("parquet", "csv", "csv-nordic", "jsonl")
EXTENSION = {"parquet": "parquet", "csv": "csv", "csv-nordic": "csv", "jsonl": "jsonl"}
TRANSCODE_CHUNK = 4 * 1024 * 1024


@dataclass
class WrittenTable:
    table: str
    path: Path
    rows: int
    seconds: float


def _copy_options(file_format: str) -> str:
    if file_format == "parquet":
        return "(format parquet, compression zstd)"
    if file_format == "jsonl":
        return "(format json)"
    if file_format == "csv-nordic":
        return "(format csv, header true, delimiter ';')"
    return "(format csv, header true)"


def _nordic_projection(connection: duckdb.DuckDBPyConnection, query: str) -> str:
    """Decimal comma for every numeric column, the way Nordic Excel writes it."""
    columns = connection.execute(f"describe {query}").fetchall()
    parts = []
    for name, column_type, *_ in columns:
        if column_type.startswith("DECIMAL") or column_type == "DOUBLE":
            parts.append(f"replace(cast(\"{name}\" as varchar), '.', ',') as \"{name}\"")
        else:
            parts.append(f'"{name}"')
    return f"select {', '.join(parts)} from ({query})"


def _transcode_to_cp1252(path: Path) -> None:
    encoder = codecs.getincrementalencoder("cp1252")()
    temporary = path.with_suffix(".cp1252.tmp")
    with path.open("r", encoding="utf-8", newline="") as source, temporary.open("wb") as sink:
        while chunk := source.read(TRANSCODE_CHUNK):
            sink.write(encoder.encode(chunk))
        sink.write(encoder.encode("", final=True))
    temporary.replace(path)


def _copy_to_file(connection: duckdb.DuckDBPyConnection, query: str, path: Path, file_format: str) -> int:
    """Write one query's rows to one landing file in the format's flavour; returns the row count."""
    if file_format == "csv-nordic":
        query = _nordic_projection(connection, query)
    rows = connection.execute(f"copy ({query}) to '{path}' {_copy_options(file_format)}").fetchone()[0]
    if file_format == "csv-nordic":
        _transcode_to_cp1252(path)
    return rows


def _messy_statements(settings: GeneratorSettings) -> list[str]:
    count = settings.defects_per_kind

    def chosen(condition: str, salt: str) -> str:
        return (
            f"opportunity_id in (select opportunity_id from opportunities_current where {condition} "
            f"order by hash(opportunity_id, '{salt}', {settings.seed}), opportunity_id limit {count})"
        )

    return [
        f"update opportunities_current set closed_at = created_at - interval 3 day where {chosen('is_won', 'close_before_creation')}",
        f"update opportunities_current set amount = -amount where {chosen('amount > 0', 'negative_amount')}",
        f"update opportunities_current set stage = 'Verbal Agreement' where {chosen('not is_closed', 'unknown_stage')}",
        f"update opportunities_current set account_id = 'A9999999' where {chosen('true', 'orphan_account')}",
        # duplicate accounts: the same company entered twice under new ids
        f"""insert into accounts_current
            select 'A' || lpad((9000000 + row_number() over (order by account_id))::varchar, 7, '0'), account_name,
                industry, segment, country, owner_id, created_at + interval 30 day, updated_at + interval 30 day, false
            from (select * from accounts_current order by hash(account_id, 'duplicate', {settings.seed}), account_id limit {count})""",
        f"""update activities_current set owner_id = 'U999999' where activity_id in (
            select activity_id from activities_current order by hash(activity_id, 'orphan_owner', {settings.seed}), activity_id limit {count})""",
    ]


def _bad_dates_csv(connection: duckdb.DuckDBPyConnection, settings: GeneratorSettings, path: Path) -> int:
    """Rows whose dates no parser accepts: they must end in the rejects table, not vanish."""
    rows = connection.execute(
        f"""select opportunity_id || '-BAD' as opportunity_id, account_id, owner_id, stage, amount, currency,
                case when row_number() over (order by opportunity_id) % 2 = 0 then '2025-02-30' else '31.12.2025 25:61' end as created_at,
                updated_at
            from opportunities_current order by opportunity_id limit {settings.defects_per_kind}"""
    ).fetchall()
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("opportunity_id,account_id,owner_id,stage,amount,currency,created_at,updated_at\n")
        for row in rows:
            handle.write(",".join("" if value is None else str(value) for value in row) + "\n")
    return len(rows)


def generate_landing(
    settings: GeneratorSettings,
    out_dir: Path,
    file_format: str = "parquet",
    progress: Callable[[WrittenTable], None] | None = None,
) -> list[WrittenTable]:
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}; use one of {', '.join(FORMATS)}")
    extension = EXTENSION[file_format]
    written: list[WrittenTable] = []
    with tempfile.TemporaryDirectory(prefix="crm_kpis_generate_") as scratch:
        connection = duckdb.connect(
            config={"temp_directory": scratch, "preserve_insertion_order": "true"}
        )
        try:
            connection.execute("set enable_progress_bar = false")
            for statement in sql.macros_sql(settings) + sql.tables_sql(settings):
                connection.execute(statement)
            materialised = {
                "opportunities_current": sql.opportunities_query(settings),
                "accounts_current": sql.accounts_query(),
                "line_items_current": sql.line_items_query(settings),
                "leads_current": sql.leads_query(settings),
                "quotas_current": sql.quotas_query(settings),
                "activities_current": sql.activities_query(settings),
            }
            for name, query in materialised.items():
                connection.execute(f"create or replace table {name} as {query}")
            if settings.messy:
                for statement in _messy_statements(settings):
                    connection.execute(statement)

            outputs = {
                "users": (sql.users_query(), "user_id"),
                "accounts": ("select * from accounts_current", "account_id"),
                "leads": ("select * from leads_current", "lead_id"),
                "opportunities": ("select * from opportunities_current", "opportunity_id"),
                "opportunity_history": (
                    f"select * from ({sql.history_query()}) union all select * from ({sql.amount_change_rows_query()})",
                    "opportunity_id, changed_at",
                ),
                "products": (sql.products_query(), "product_id"),
                "opportunity_line_items": ("select * from line_items_current", "line_item_id"),
                "activities": ("select * from activities_current", "activity_id"),
                "quotas": ("select * from quotas_current", "user_id, period_start"),
                "subscriptions": (sql.subscriptions_query(settings), "subscription_id"),
                "acquisition_spend": (sql.acquisition_spend_query(settings), "spend_month, cost_type, channel nulls first"),
                "forecast_submissions": (sql.forecast_submissions_query(settings), "user_id, period_start, submitted_at"),
            }
            if out_dir.exists():
                shutil.rmtree(out_dir)
            for table, (query, order_by) in outputs.items():
                started = time.perf_counter()
                folder = out_dir / table
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"part-0.{extension}"
                rows = _copy_to_file(connection, f"select * from ({query}) order by {order_by}", path, file_format)
                result = WrittenTable(table, path, rows, time.perf_counter() - started)
                written.append(result)
                if progress:
                    progress(result)
            if settings.messy:
                written.extend(_write_messy_extras(connection, settings, out_dir, file_format))
        finally:
            connection.close()
    return written


def _write_messy_extras(
    connection: duckdb.DuckDBPyConnection, settings: GeneratorSettings, out_dir: Path, file_format: str
) -> list[WrittenTable]:
    extension = EXTENSION[file_format]
    duplicates = out_dir / "opportunities" / f"part-1-duplicates.{extension}"
    _copy_to_file(
        connection, f"select * from opportunities_current order by opportunity_id limit {settings.defects_per_kind}", duplicates, file_format
    )
    bad_dates = out_dir / "opportunities" / "part-2-bad-dates.csv"
    bad_rows = _bad_dates_csv(connection, settings, bad_dates)
    return [
        WrittenTable("opportunities", duplicates, settings.defects_per_kind, 0.0),
        WrittenTable("opportunities", bad_dates, bad_rows, 0.0),
    ]
