"""`crm-kpis sql`: a read-only SQL prompt on the published marts (the serving file), with no SQL client to
install and whatever DuckDB CLI the machine may or may not have.

The connection is read-only and cannot reach other files (`enable_external_access = false`), so nothing
typed here can change the serving file, attach the working warehouse (which would block the refresh) or
read files elsewhere. Unqualified names find the marts first, then meta (`meta.publish_log`)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import duckdb

PROMPT = "crm-kpis> "
CONTINUATION = "     ...> "
HELP = """Statements end with ';'. Commands:
  .tables            the marts and their row counts
  .describe TABLE    columns, types and descriptions of a table
  .help              this text
  .quit              leave (or Ctrl-D)
Unqualified names are looked up in marts, then meta (meta.publish_log: every publish)."""


class SqlUnavailable(RuntimeError):
    """No serving file to open; the message says what to run."""


@contextmanager
def serving_connection(serving_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not serving_file.exists():
        raise SqlUnavailable(f"no serving file at {serving_file}: run `crm-kpis refresh` (or `make demo`) first")
    connection = duckdb.connect(str(serving_file), read_only=True, config={"enable_external_access": False})
    try:
        connection.execute("set search_path = 'marts,meta'")
        yield connection
    finally:
        connection.close()


def run_statement(connection: duckdb.DuckDBPyConnection, sql: str, as_csv: bool = False, max_rows: int | None = None) -> None:
    """One statement and its result on stdout: a table (every row unless `max_rows`), or CSV."""
    relation = connection.sql(sql)
    if relation is None:  # a statement without a result (set, pragma)
        return
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(relation.columns)
        writer.writerows(["" if value is None else value for value in row] for row in relation.fetchall())
        return
    relation.show(max_rows=max_rows or max(relation.shape[0], 1), max_width=100_000)


def _describe(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    schema, _, table = name.strip().rpartition(".")
    rows = connection.execute("""
        select column_name, data_type, coalesce(comment, '') from duckdb_columns()
        where table_name = ? and schema_name = coalesce(nullif(?, ''), schema_name) order by column_index""",
        [table, schema]).fetchall()
    if not rows:
        print(f"no table {name.strip()}")
    for column, data_type, comment in rows:
        print(f"  {column:<32} {data_type:<16} {comment}")


def _dot_command(connection: duckdb.DuckDBPyConnection, line: str) -> bool:
    """Run a .command; False for .quit."""
    command, _, argument = line.strip().partition(" ")
    if command in (".quit", ".exit"):
        return False
    if command == ".tables":
        run_statement(connection, """select schema_name || '.' || table_name as "table", estimated_size as "rows",
                                            left(coalesce(comment, ''), 90) as description
                                     from duckdb_tables() order by schema_name, table_name""")
    elif command == ".describe" and argument.strip():
        _describe(connection, argument)
    else:
        print(HELP)
    return True


def _run_and_report(connection: duckdb.DuckDBPyConnection, sql: str, max_rows: int) -> None:
    try:
        run_statement(connection, sql, max_rows=max_rows)
    except duckdb.Error as error:
        print(f"error: {str(error).splitlines()[0]}", flush=True)


def prompt(serving_file: Path, published_at: str | None, source: TextIO = sys.stdin, max_rows: int = 100) -> None:
    """Read statements until end of input (or .quit); an error is printed and the prompt goes on."""
    interactive = source.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
        print(f"Read-only SQL on {serving_file} (published {published_at or 'unknown'}). .help for help, .quit to leave.")
    with serving_connection(serving_file) as connection:
        buffer: list[str] = []
        while True:
            try:
                line = input(CONTINUATION if buffer else PROMPT) if interactive else source.readline()
            except EOFError:
                break
            if not interactive and line == "":
                break
            if not buffer and line.strip().startswith("."):
                if not _dot_command(connection, line):
                    break
                continue
            buffer.append(line.rstrip("\n"))
            if "\n".join(buffer).strip().endswith(";"):
                _run_and_report(connection, "\n".join(buffer), max_rows)
                buffer = []
        if "\n".join(buffer).strip():
            _run_and_report(connection, "\n".join(buffer), max_rows)
