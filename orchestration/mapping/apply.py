"""Applying a checked mapping: export files in, landing-contract CSV files out (one per table).

The work is done by an in-memory DuckDB over the export read as text, so a mapping's `sql` is DuckDB
SQL over the export's columns (and its lookups). Values that a strict value map or a date format
cannot place stop the mapping with the file, line, column and value: a guessed stage or date would
be a wrong KPI. Everything else about a row (a missing required value, an unparseable number) is
left to the landing step, which rejects and counts it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.landing.file_source import quote_identifier, quote_literal

from .spec import ColumnRule, Lookup, Mapping, MappingError, TableMapping, read_export_sql

EXAMPLES_SHOWN = 5


@dataclass(frozen=True)
class MappedTable:
    table: str
    export_file: Path
    output_file: Path
    rows: int


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    return quote_literal(str(value))


def _trimmed(column: str, relation: str = "export") -> str:
    return f"nullif(trim({relation}.{quote_identifier(column)}), '')"


def _mapped(expression: str, values: dict[str, object], keep_unmapped: bool) -> str:
    cases = " ".join(f"when {quote_literal(key)} then {_literal(value)}" for key, value in values.items())
    return f"(case {expression} {cases} else {expression if keep_unmapped else 'null'} end)"


def _fail_on_rows(connection: duckdb.DuckDBPyConnection, condition: str, value: str, file: Path,
                  column: str, problem: str, mapping: Mapping) -> None:
    offending = connection.execute(
        f"select _line, {value} from export where {condition} order by _line limit {EXAMPLES_SHOWN + 1}").fetchall()
    if not offending:
        return
    total = connection.execute(f"select count(*) from export where {condition}").fetchone()[0]
    lines = "; ".join(f"{file.name} line {line} column {column}: value {shown!r}" for line, shown in offending[:EXAMPLES_SHOWN])
    raise MappingError(f"{mapping.path}: {problem}, in {total} row(s): {lines}")


def _join_lookup(connection: duckdb.DuckDBPyConnection, lookup: Lookup, table: TableMapping, mapping: Mapping) -> None:
    source = _trimmed(lookup.source_column)
    key = _mapped(source, lookup.values, keep_unmapped=True) if lookup.values else source
    connection.execute(f"""
        create or replace temp table export as
        select export.*, lookup_table.{quote_identifier(lookup.value)} as {quote_identifier(lookup.name)},
            lookup_table.{quote_identifier(lookup.key)} is not null as {quote_identifier('_found_' + lookup.name)}
        from export
        left join (select distinct on ({quote_identifier(lookup.key)}) * from {read_export_sql(lookup.file)}) as lookup_table
            on {key} = trim(lookup_table.{quote_identifier(lookup.key)})""")
    _fail_on_rows(
        connection, f"{source} is not null and not {quote_identifier('_found_' + lookup.name)}", source,
        table.file, lookup.source_column,
        f"{lookup.where}: value not found in {lookup.file.name} column {lookup.key} (add it to {lookup.where}.values)",
        mapping)


def _rule_expression(connection: duckdb.DuckDBPyConnection, rule: ColumnRule, table: TableMapping, mapping: Mapping) -> str:
    if rule.value is not None:
        return _literal(rule.value)
    if rule.sql is not None:
        try:
            connection.execute(f"select ({rule.sql}) from export limit 0")
        except duckdb.Error as error:
            raise MappingError(f"{mapping.path}: {rule.where}: the sql does not run on {table.file.name}: "
                               f"{str(error).splitlines()[0]}") from error
        return f"cast(({rule.sql}) as varchar)"
    expression = _trimmed(rule.column)
    if rule.values:
        if rule.strict:
            known = ", ".join(quote_literal(key) for key in rule.values)
            _fail_on_rows(connection, f"{expression} is not null and {expression} not in ({known})", expression,
                          table.file, rule.column, f"{rule.where}: value has no mapping in {rule.where}.values", mapping)
        expression = _mapped(expression, rule.values, keep_unmapped=not rule.strict)
    if rule.date_format:
        parsed = f"try_strptime({expression}, {quote_literal(rule.date_format)})"
        _fail_on_rows(connection, f"{expression} is not null and {parsed} is null", expression, table.file, rule.column,
                      f"{rule.where}: value does not match the date format {rule.date_format!r}", mapping)
        expression = f"strftime({parsed}, '%Y-%m-%d %H:%M:%S')"
    return expression


def _map_table(connection: duckdb.DuckDBPyConnection, table: TableMapping, mapping: Mapping, out_dir: Path) -> MappedTable:
    connection.execute(f"create or replace temp table export as select row_number() over () + 1 as _line, * "
                       f"from {read_export_sql(table.file)}")
    for lookup in table.lookups:
        _join_lookup(connection, lookup, table, mapping)
    columns = ", ".join(f"{_rule_expression(connection, rule, table, mapping)} as {quote_identifier(rule.target)}"
                        for rule in table.rules)
    output = out_dir / table.table / f"{mapping.name}__{table.file.stem}.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    connection.execute(f"copy (select {columns} from export order by _line) to {quote_literal(str(output))} (header, delimiter ',')")
    rows = connection.execute("select count(*) from export").fetchone()[0]
    return MappedTable(table=table.table, export_file=table.file, output_file=output, rows=rows)


def apply_mapping(mapping: Mapping, out_dir: Path) -> list[MappedTable]:
    """Write one landing file per mapped table under out_dir/<table>/; nothing is written if any table fails."""
    mapped = []
    with tempfile.TemporaryDirectory(prefix="crm-kpis-mapping-") as staging, duckdb.connect() as connection:
        for table in mapping.tables:
            mapped.append(_map_table(connection, table, mapping, Path(staging)))
        results = []
        for result in mapped:
            target = out_dir / result.table / result.output_file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(result.output_file, target)
            results.append(MappedTable(result.table, result.export_file, target, result.rows))
    return results
