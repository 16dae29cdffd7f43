"""Applying a checked mapping: export files in, landing-contract CSV files out (one per table).

The work is done by an in-memory DuckDB over the export read as text, so a mapping's `sql` is DuckDB
SQL over the export's columns (its joined files' as `alias.column`, and its lookups), with relative
paths read from the --input folder. Values that a strict value map, a required lookup, the funnel's
stages or a date format cannot place stop the mapping with the file, line, column and value: a guessed
stage or date would be a wrong KPI. Everything else about a row (a missing required value, an
unparseable number) is left to the landing step, which rejects and counts it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.landing.file_source import quote_identifier, quote_literal

from .errors import MappingError
from .relation import (
    Relation,
    build_relation,
    line_of,
    literal,
    lookup_found_sql,
    lookup_spelling,
    mapped,
    trimmed,
)
from .spec import ColumnRule, ExportFile, Lookup, Mapping, TableMapping
from .temporal import TEMPORAL_TYPES, Zones, formatted_sql, unformatted_sql
from .user_sql import column_references, first_failing_line, rooted_in_input

EXAMPLES_SHOWN = 5


@dataclass(frozen=True)
class MappedTable:
    table: str
    export_file: Path
    output_file: Path
    rows: int
    rows_dropped: int = 0            # rows of the export file an inner join found no match for


@dataclass(frozen=True)
class _Context:
    connection: duckdb.DuckDBPyConnection
    mapping: Mapping
    table: TableMapping
    relation: Relation

    def fail_on_rows(self, condition: str, value: str, file: ExportFile, line: str, column: str, problem: str,
                     advice: str = "") -> None:
        """Stop the mapping if any row meets `condition`, naming the first few by file, line, column and value."""
        offending = self.connection.execute(
            f"select {line}, {value} from {self.relation.from_sql} where {condition} "
            f"order by {line} limit {EXAMPLES_SHOWN + 1}").fetchall()
        if not offending:
            return
        total = self.connection.execute(f"select count(*) from {self.relation.from_sql} where {condition}").fetchone()[0]
        lines = "; ".join(f"{file.name} line {row_line} column {column}: value {shown!r}"
                          for row_line, shown in offending[:EXAMPLES_SHOWN])
        raise MappingError(f"{self.mapping.path}: {problem}, in {total} row(s): {lines}{advice}")


def _connect(mapping: Mapping) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    # literal paths in sql are rewritten to the input folder (user_sql); this only helps a path the SQL
    # computes, which DuckDB looks for in the working folder first
    connection.execute(f"set file_search_path = {quote_literal(str(mapping.input_dir))}")
    return connection


def _lookup_advice(context: _Context, lookup: Lookup, missing: str) -> str:
    spelling = lookup_spelling(context.connection, lookup, context.relation, missing)
    if spelling is not None:
        return (f" ({lookup.file.name} has {spelling!r}: map the export's spelling under {lookup.where}.values, "
                f"e.g. {{{missing}: {spelling}}})")
    return (f" (add the key to {lookup.file.name}, map the export's spelling onto one of its keys under "
            f"{lookup.where}.values, or set {lookup.where}.required: false if a row may have no match)")


def _check_lookup(context: _Context, lookup: Lookup) -> None:
    if not lookup.required:
        return
    source = trimmed(lookup.source.sql)
    condition = f"{source} is not null and not {lookup_found_sql(lookup)}"
    first = context.connection.execute(
        f"select {source} from {context.relation.from_sql} where {condition} "
        f"order by {line_of(lookup.source.file)} limit 1").fetchone()
    if first is None:
        return
    context.fail_on_rows(condition, source, lookup.source.file, line_of(lookup.source.file), lookup.source.label,
                         f"{lookup.where}: value not found in {lookup.file.name} column {lookup.key}",
                         _lookup_advice(context, lookup, first[0]))


def _checked_sql(context: _Context, rule: ColumnRule) -> str:
    """The rule's sql, reading files of the input folder only, once it is known to run on every row."""
    mapping, relation, connection = context.mapping, context.relation, context.connection
    sql, missing = rooted_in_input(connection, rule.sql, mapping.input_dir)
    if missing:
        raise MappingError(f"{mapping.path}: {rule.where}.sql: reads {missing[0]!r}, which is not in {mapping.input_dir} "
                           f"(paths in sql are relative to the --input folder)")
    try:
        connection.execute(f"select ({sql}) from {relation.from_sql} limit 0")
    except duckdb.Error as error:
        raise MappingError(f"{mapping.path}: {rule.where}: the sql does not run on {context.table.main.name}: "
                           f"{str(error).splitlines()[0]}") from error
    failing = first_failing_line(connection, sql, relation.from_sql, relation.line_sql, 2, relation.rows_read + 1)
    if failing is not None:
        line, error = failing
        if line is None:
            raise MappingError(f"{mapping.path}: {rule.where}: the sql fails on {context.table.main.name}: {error}")
        raise MappingError(f"{mapping.path}: {rule.where}: the sql fails on {context.table.main.name} line {line}"
                           f"{_values_on_line(context, sql, line)}: {error}")
    return f"cast(({sql}) as varchar)"


def _values_on_line(context: _Context, expression: str, line: int) -> str:
    references = column_references(context.connection, expression)
    if not references:
        return ""
    try:
        values = context.connection.execute(f"select {', '.join(references)} from {context.relation.from_sql} "
                                            f"where {context.relation.line_sql} = {line}").fetchone()
    except duckdb.Error:
        return ""
    return " (" + ", ".join(f"{reference.replace(chr(34), '')} = {value!r}"
                            for reference, value in zip(references, values)) + ")"


def _source_expression(context: _Context, rule: ColumnRule) -> str:
    if rule.is_constant:
        return literal(rule.value)
    if rule.sql is not None:
        return trimmed(_checked_sql(context, rule))
    return trimmed(rule.column.sql)


def _where_read(context: _Context, rule: ColumnRule) -> tuple[ExportFile, str, str]:
    """The file, line and column a message about this rule's values names."""
    if rule.column is not None:
        return rule.column.file, line_of(rule.column.file), rule.column.label
    return context.table.main, context.relation.line_sql, "(sql)"


def _value_mapped(context: _Context, rule: ColumnRule, expression: str) -> str:
    if not rule.values:
        return expression
    if rule.strict:
        known = ", ".join(quote_literal(key) for key in rule.values)
        file, line, column = _where_read(context, rule)
        context.fail_on_rows(f"{expression} is not null and {expression} not in ({known})", expression, file, line,
                             column, f"{rule.where}: value has no mapping in {rule.where}.values")
    return mapped(expression, rule.values, keep_unmapped=not rule.strict)


def _check_canonical(context: _Context, rule: ColumnRule, expression: str) -> None:
    canonical = rule.canonical
    if canonical is None or not canonical.every_value or rule.is_constant:
        return
    known = ", ".join(quote_literal(value) for value in canonical.values)
    file, line, column = _where_read(context, rule)
    hint = f"map it under {rule.where}.values" if not rule.values else f"add it to {rule.where}.values"
    context.fail_on_rows(f"{expression} is not null and {expression} not in ({known})", expression, file, line, column,
                         f"{rule.where}: value is not {canonical.what} ({', '.join(canonical.values)}): {hint}")


def _temporal(context: _Context, rule: ColumnRule, expression: str) -> str:
    if rule.contract_type not in TEMPORAL_TYPES:
        return expression
    zones = Zones(export=rule.timezone, business=context.mapping.business_timezone)
    if not rule.formats:
        return unformatted_sql(expression, rule.contract_type, zones)
    converted, mismatch = formatted_sql(expression, rule.formats, rule.contract_type, zones)
    file, line, column = _where_read(context, rule)
    shown = " or ".join(repr(date_format) for date_format in rule.formats)
    context.fail_on_rows(mismatch, expression, file, line, column,
                         f"{rule.where}: value does not match the date format {shown}")
    return converted


def _rule_expression(context: _Context, rule: ColumnRule) -> str:
    expression = _value_mapped(context, rule, _source_expression(context, rule))
    _check_canonical(context, rule, expression)
    return _temporal(context, rule, expression)


def _map_table(connection: duckdb.DuckDBPyConnection, table: TableMapping, mapping: Mapping, out_dir: Path) -> MappedTable:
    context = _Context(connection, mapping, table, build_relation(connection, table, mapping))
    for lookup in table.lookups:
        _check_lookup(context, lookup)
    columns = ", ".join(f"{_rule_expression(context, rule)} as {quote_identifier(rule.target)}" for rule in table.rules)
    output = out_dir / table.table / f"{mapping.name}__{table.main.path.stem}.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    connection.execute(f"copy (select {columns} from {context.relation.from_sql} order by {context.relation.line_sql}) "
                       f"to {quote_literal(str(output))} (header, delimiter ',')")
    rows = connection.execute(f"select count(*) from {context.relation.from_sql}").fetchone()[0]
    return MappedTable(table=table.table, export_file=table.file, output_file=output, rows=rows,
                       rows_dropped=context.relation.rows_read - rows)


def apply_mapping(mapping: Mapping, out_dir: Path) -> list[MappedTable]:
    """Write one landing file per mapped table under out_dir/<table>/; nothing is written if any table fails."""
    mapped_tables = []
    with tempfile.TemporaryDirectory(prefix="crm-kpis-mapping-") as staging, _connect(mapping) as connection:
        for table in mapping.tables:
            mapped_tables.append(_map_table(connection, table, mapping, Path(staging)))
        results = []
        for result in mapped_tables:
            target = out_dir / result.table / result.output_file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(result.output_file, target)
            results.append(MappedTable(result.table, result.export_file, target, result.rows, result.rows_dropped))
    return results
