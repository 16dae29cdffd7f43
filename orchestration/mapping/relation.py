"""The rows a table mapping reads: its export file, joined with its other files and its lookups, as one
SQL `from` clause in which each file goes by its alias (`"deals"."won_date"`) and each lookup's value by
the lookup's name.

Joins and lookups never multiply rows: a joined file must hold one row per key, and a lookup one value
per key; either mistake stops the mapping with the lines concerned, since a duplicate deal would double
a KPI and a lookup with two prices would pick one at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.landing.file_source import quote_identifier, quote_literal

from .errors import MappingError
from .spec import LOOKUP_PREFIX, ExportFile, Join, Lookup, Mapping, TableMapping, read_export_sql

DUPLICATES_SHOWN = 3


@dataclass(frozen=True)
class Relation:
    from_sql: str                    # `"leads" left join "deals" on ... left join (lookup) ...`
    line_sql: str                    # the line of the table's own file
    rows_read: int                   # rows of the table's own file
    lookup_tables: dict[str, str]    # lookup name -> the temp table holding its file


def trimmed(column_sql: str) -> str:
    """An export value as the mapping compares and writes it: surrounding blanks removed, empty is NULL."""
    return f"nullif(trim({column_sql}), '')"


def mapped(expression: str, values: dict[str, object], keep_unmapped: bool) -> str:
    cases = " ".join(f"when {quote_literal(key)} then {literal(value)}" for key, value in values.items())
    return f"(case {expression} {cases} else {expression if keep_unmapped else 'null'} end)"


def literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    return quote_literal(str(value))


def line_of(file: ExportFile) -> str:
    return f"{quote_identifier(file.alias)}._line"


def _temp_table(table: TableMapping, kind: str, index: int) -> str:
    return quote_identifier(f"_{table.table}_{kind}_{index}")


def _load(connection: duckdb.DuckDBPyConnection, name: str, path) -> None:
    connection.execute(f"create or replace temp table {name} as "
                       f"select row_number() over () + 1 as _line, * from {read_export_sql(path)}")


def _duplicate_keys(connection: duckdb.DuckDBPyConnection, table_sql: str, keys: list[str], having: str) -> list[tuple]:
    key_values = ", ".join(trimmed(quote_identifier(key)) for key in keys)
    present = " and ".join(f"{trimmed(quote_identifier(key))} is not null" for key in keys)
    return connection.execute(
        f"select {key_values}, list(_line order by _line) from {table_sql} where {present} "
        f"group by all having {having} order by min(_line) limit {DUPLICATES_SHOWN}").fetchall()


def _check_join_keys(connection: duckdb.DuckDBPyConnection, join: Join, table_sql: str, mapping: Mapping) -> None:
    columns = [right for _, right in join.keys]
    duplicates = _duplicate_keys(connection, table_sql, columns, "count(*) > 1")
    if duplicates:
        shown = "; ".join(f"{join.file.name} lines {', '.join(map(str, row[-1]))} key "
                          + ", ".join(f"{column} {value!r}" for column, value in zip(columns, row[:-1]))
                          for row in duplicates)
        raise MappingError(f"{mapping.path}: {join.where}.on: a joined file needs one row per key, so a row is "
                           f"never doubled: {shown}")


def _join_sql(join: Join, table_sql: str) -> str:
    condition = " and ".join(f"{trimmed(left.sql)} = {trimmed(quote_identifier(join.file.alias) + '.' + quote_identifier(right))}"
                             for left, right in join.keys)
    return f"{join.how} join {table_sql} as {quote_identifier(join.file.alias)} on {condition}"


def _check_lookup_keys(connection: duckdb.DuckDBPyConnection, lookup: Lookup, table_sql: str, mapping: Mapping) -> None:
    value = quote_identifier(lookup.value)
    conflicts = _duplicate_keys(connection, table_sql, [lookup.key],
                                f"count(distinct {value}) + max(case when {value} is null then 1 else 0 end) > 1")
    if conflicts:
        shown = "; ".join(f"{lookup.file.name} lines {', '.join(map(str, lines))} key {lookup.key} {key!r}"
                          for key, lines in conflicts)
        raise MappingError(f"{mapping.path}: {lookup.where}: a lookup needs one {lookup.value} per {lookup.key}, "
                           f"but keys have several: {shown}")


def lookup_key_sql(lookup: Lookup) -> str:
    source = trimmed(lookup.source.sql)
    return mapped(source, lookup.values, keep_unmapped=True) if lookup.values else source


def _lookup_sql(lookup: Lookup, table_sql: str) -> str:
    key = trimmed(quote_identifier(lookup.key))
    alias = quote_identifier(LOOKUP_PREFIX + lookup.name)
    return (f"left join (select distinct {key} as _key, {quote_identifier(lookup.value)} as {quote_identifier(lookup.name)} "
            f"from {table_sql} where {key} is not null) as {alias} on {lookup_key_sql(lookup)} = {alias}._key")


def lookup_found_sql(lookup: Lookup) -> str:
    return f"{quote_identifier(LOOKUP_PREFIX + lookup.name)}._key is not null"


def build_relation(connection: duckdb.DuckDBPyConnection, table: TableMapping, mapping: Mapping) -> Relation:
    """Load the table's files and lookups into temp tables and return the relation over them."""
    main_sql = _temp_table(table, "file", 0)
    _load(connection, main_sql, table.main.path)
    parts = [f"{main_sql} as {quote_identifier(table.main.alias)}"]
    lookup_tables = {}
    for index, join in enumerate(table.joins, start=1):
        joined_sql = _temp_table(table, "file", index)
        _load(connection, joined_sql, join.file.path)
        _check_join_keys(connection, join, joined_sql, mapping)
        parts.append(_join_sql(join, joined_sql))
    for index, lookup in enumerate(table.lookups):
        lookup_sql = _temp_table(table, "lookup", index)
        _load(connection, lookup_sql, lookup.file)
        _check_lookup_keys(connection, lookup, lookup_sql, mapping)
        parts.append(_lookup_sql(lookup, lookup_sql))
        lookup_tables[lookup.name] = lookup_sql
    rows_read = connection.execute(f"select count(*) from {main_sql}").fetchone()[0]
    return Relation(from_sql=" ".join(parts), line_sql=line_of(table.main), rows_read=rows_read,
                    lookup_tables=lookup_tables)


def _normalised(text_sql: str) -> str:
    return f"regexp_replace(lower({text_sql}), '[^0-9a-z]', '', 'g')"


def lookup_spelling(connection: duckdb.DuckDBPyConnection, lookup: Lookup, relation: Relation, missing: str) -> str | None:
    """The key of the lookup file that `missing` differs from only in case, blanks or punctuation, if any."""
    key = trimmed(quote_identifier(lookup.key))
    found = connection.execute(
        f"select {key} from {relation.lookup_tables[lookup.name]} where {_normalised(key)} = {_normalised('?')} "
        f"order by _line limit 1", [missing]).fetchone()
    return found[0] if found else None
