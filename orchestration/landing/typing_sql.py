"""Typing landed values to the contract, in SQL: one typed expression per column and a
predicate saying when a non-empty value could not be typed (that row is rejected)."""

from __future__ import annotations

import duckdb

from .contract import DATE, NUMBER, TIMESTAMP, TableContract
from .file_options import FileOptions
from .file_source import FileSource, quote_literal

DECIMAL_SAMPLE_ROWS = 10_000


def is_numeric(sql_type: str) -> bool:
    return sql_type == NUMBER or sql_type.startswith("decimal")


def typed_expression(value_sql: str, sql_type: str, options: FileOptions) -> str:
    text = f"cast({value_sql} as varchar)"
    if is_numeric(sql_type):
        if options.decimal_separator == ",":
            # Nordic Excel: '1.234,50' or '1 234,50' (also a no-break space) means 1234.50
            text = f"replace(replace(replace(replace({text}, '.', ''), ' ', ''), chr(160), ''), ',', '.')"
            return f"try_cast({text} as {sql_type})"
        return f"try_cast({value_sql} as {sql_type})"
    if sql_type == DATE:
        if options.date_format:
            return f"try_strptime({text}, {quote_literal(options.date_format)})::date"
        return f"coalesce(try_cast({value_sql} as date), try_cast(try_cast({value_sql} as timestamp) as date))"
    if sql_type == TIMESTAMP:
        if options.timestamp_format:
            return f"try_strptime({text}, {quote_literal(options.timestamp_format)})::timestamp"
        # via timestamptz so an explicit offset is honoured; the session time zone is UTC
        return f"try_cast(try_cast({value_sql} as timestamptz) as timestamp)"
    return f"try_cast({value_sql} as {sql_type})"


def cast_failure_reason(sql_type: str, options: FileOptions) -> str:
    if sql_type == DATE and options.date_format:
        return f"not a date in format {options.date_format}"
    if sql_type == TIMESTAMP and options.timestamp_format:
        return f"not a timestamp in format {options.timestamp_format}"
    if is_numeric(sql_type) and options.decimal_separator == ",":
        return f"not a number with decimal comma ({sql_type})"
    return f"cannot be read as {sql_type}"


def detect_decimal_separator(
    connection: duckdb.DuckDBPyConnection, contract: TableContract, source: FileSource, options: FileOptions
) -> None:
    """Decide '.' or ',' from the values of the numeric columns, when not set explicitly."""
    if options.decimal_separator is not None:
        return
    if options.format != "csv":
        options.decimal_separator = "."
        return
    numeric = [source.columns[name] for name, sql_type in contract.columns.items() if is_numeric(sql_type) and name in source.columns]
    if not numeric:
        options.decimal_separator = "."
        return
    values = " union all ".join(f"select {expr} as v from sample_rows" for expr in numeric)
    comma, point = connection.execute(
        f"with sample_rows as (select * from ({source.select_sql}) limit {DECIMAL_SAMPLE_ROWS}), "
        f"numeric_values as ({values}) "
        r"select count(*) filter (where regexp_full_match(v, '-?[0-9 .]*,[0-9]+')), "
        r"count(*) filter (where regexp_full_match(v, '-?[0-9,]*\.[0-9]+')) from numeric_values"
    ).fetchone()
    options.decimal_separator = "," if comma > point else "."
    options.assumptions.append(
        f"decimal separator {options.decimal_separator!r} (detected: {comma} comma-decimal and {point} point-decimal "
        f"values in the first {DECIMAL_SAMPLE_ROWS} rows)"
    )
