"""The file's own line numbers for CSV records.

DuckDB's CSV reader numbers *units*: the header, each record (however many lines its quoted values
span) and each blank line. Where every unit is one line, those numbers are the file's lines; where a
quoted value spans lines, or blank lines sit between records, they are not, and a reject would point
at the wrong line. `line_units` then gives each unit's first physical line, from one streaming pass
over the file's lines: a line starts a unit when the quotes before it are balanced."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb

from .file_source import JSON_LINE_SEPARATOR, quote_literal


def _lines_reader(path: Path) -> str:
    # one column per physical line: a separator that cannot occur in text, no quoting
    return (f"read_csv({quote_literal(str(path))}, columns = {{'l': 'VARCHAR'}}, header = false, "
            f"delim = '{JSON_LINE_SEPARATOR}', quote = '', escape = '', auto_detect = false, "
            "max_line_size = 67108864, buffer_size = 134217728)")


def _quotes(line_sql: str) -> str:
    return f"coalesce(length({line_sql}) - length(replace({line_sql}, '\"', '')), 0)"


def line_units(connection: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """None when each unit is one line (the common case, found by one cheap scan); else the name of a
    temporary table (unit_no, physical_line, is_blank), one row per unit in file order."""
    reader = _lines_reader(path)
    spans_lines, has_blank = connection.execute(
        f"select coalesce(bool_or({_quotes('l')} % 2 = 1), false), coalesce(bool_or(l is null), false) from {reader}"
    ).fetchone()
    if not spans_lines and not has_blank:
        return None
    table = "_units_" + uuid.uuid4().hex[:8]
    connection.execute(f"""
        create temp table {table} as
        with lines as (
            select row_number() over () as physical_line, l from {reader}
        ),
        balanced as (
            select physical_line, l,
                coalesce(sum({_quotes('l')}) over (order by physical_line rows between unbounded preceding and 1 preceding), 0)
                    as quotes_before
            from lines
        )
        select row_number() over (order by physical_line) as unit_no, physical_line, l is null as is_blank
        from balanced where quotes_before % 2 = 0""")
    return table
