"""Typing landed values to the contract, in SQL: one typed expression per column and the checks that
reject a row whose value does not fit (with the reason recorded in raw._rejects).

Numbers are never re-scaled to fit. A file has one decimal convention (set, or detected from its
values): a value written in the other convention, with more decimals than the column keeps, not
finite, or outside the column's range, is rejected with its line, column, value and reason.

- decimal point (`.`): `1234.50`, `-0.5`; no thousands separators;
- decimal comma (`,`): `1234,50`, `1.234,50`, `1 234,50` (also a no-break space); a `.` is only a
  thousands separator between groups of three digits;
- text `5.000` in a decimal-point file has three decimals: it is rejected from a money column
  (two decimals), because it is as likely a Danish 5,000 as five;
- a typed number (Parquet) is checked by value: it must be stored unchanged at the column's scale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from .contract import DATE, INT, NUMBER, TIMESTAMP, TableContract
from .file_options import FileOptions
from .file_source import FileSource, quote_literal

DECIMAL_SAMPLE_ROWS = 10_000

POINT_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
POINT_FLOAT = POINT_DECIMAL + r"([eE][+-]?[0-9]+)?"
WHOLE_NUMBER = r"[+-]?[0-9]+"
# thousands groups of one kind only: 1.234.567 or 1 234 567, never 1.234 567
GROUPED = r"[0-9]{1,3}(\.[0-9]{3})+|[0-9]{1,3}( [0-9]{3})+|[0-9]{1,3}(\xa0[0-9]{3})+"
COMMA_DECIMAL = rf"[+-]?({GROUPED}|[0-9]+)(,[0-9]*)?"
COMMA_WHOLE = rf"[+-]?({GROUPED}|[0-9]+)"
FLOAT_SOURCE_TYPES = ("double", "float", "real")
INTEGER_SOURCE_TYPES = ("tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint", "uinteger", "ubigint")


@dataclass(frozen=True)
class ValueCheck:
    """A row whose value makes `predicate_sql` true is rejected, for `reason`."""

    predicate_sql: str
    reason: str


@dataclass(frozen=True)
class ColumnTyping:
    typed_sql: str
    checks: tuple[ValueCheck, ...] = ()


def is_numeric(sql_type: str) -> bool:
    return sql_type in (NUMBER, INT) or sql_type.startswith("decimal")


def decimal_scale(sql_type: str) -> int | None:
    match = re.fullmatch(r"decimal\(\s*\d+\s*,\s*(\d+)\s*\)", sql_type)
    return int(match.group(1)) if match else None


def _regex(value_sql: str, pattern: str) -> str:
    return f"regexp_full_match({value_sql}, {quote_literal(pattern)})"


def _fraction_digits(text_sql: str, mark: str) -> str:
    return f"(case when strpos({text_sql}, '{mark}') > 0 then length({text_sql}) - strpos({text_sql}, '{mark}') else 0 end)"


def _range_checks(typed_sql: str, value_range: tuple[float, float] | None) -> list[ValueCheck]:
    if value_range is None:
        return []
    low, high = value_range
    return [ValueCheck(f"({typed_sql} < {low} or {typed_sql} > {high})", f"outside {low:g}-{high:g}")]


def _text_number(value_sql: str, sql_type: str, options: FileOptions, value_range: tuple[float, float] | None) -> ColumnTyping:
    """A number written as text, in the file's one decimal convention."""
    text = f"nullif(trim(cast({value_sql} as varchar)), '')"
    scale = decimal_scale(sql_type)
    comma = options.decimal_separator == ","
    whole = sql_type == INT
    if comma:
        pattern = COMMA_WHOLE if whole else COMMA_DECIMAL
        plain = f"replace(replace(replace(replace({text}, '.', ''), ' ', ''), chr(160), ''), ',', '.')"
        mark = ","
    else:
        pattern = WHOLE_NUMBER if whole else (POINT_FLOAT if sql_type == NUMBER else POINT_DECIMAL)
        plain = text
        mark = "."
    if whole:
        # a fraction in the file's own convention: the file is right, the value is no count
        other, other_reason = (COMMA_DECIMAL if comma else POINT_FLOAT), "not a whole number"
    elif comma:
        other, other_reason = POINT_FLOAT, "written with a decimal point, but the file's decimal separator is ','"
    else:
        other, other_reason = COMMA_DECIMAL, "written with a decimal comma or thousands separator, but the file's decimal separator is '.'"
    typed = f"try_cast(case when {_regex(text, pattern)} then {plain} end as {sql_type})"
    malformed = f"{text} is not null and not {_regex(text, pattern)}"
    not_finite = f"lower({text}) in ('nan', '+nan', '-nan', 'inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity')"
    checks = [
        ValueCheck(f"({malformed} and {not_finite})", "not a finite number"),
        ValueCheck(f"({malformed} and not {not_finite} and {_regex(text, other)})", other_reason),
        ValueCheck(f"({malformed} and not {not_finite} and not {_regex(text, other)})", cast_failure_reason(sql_type, options)),
    ]
    if scale is not None:
        checks.append(ValueCheck(
            f"({_regex(text, pattern)} and {_fraction_digits(text, mark)} > {scale})",
            f"more decimals than the {scale} of {sql_type}: not rounded"
            + ("" if comma else " (a '.' thousands separator needs decimal_separator = ',')")))
        fits = f"{_fraction_digits(text, mark)} <= {scale}"
    else:
        fits = "true"
    checks.append(ValueCheck(f"({_regex(text, pattern)} and {fits} and {typed} is null)", f"too large for {sql_type}"))
    return ColumnTyping(typed, tuple(checks + _range_checks(typed, value_range)))


def _typed_number(value_sql: str, source_type: str, sql_type: str, value_range: tuple[float, float] | None) -> ColumnTyping:
    """A number the file stores typed (Parquet): checked by value, never rounded into the column."""
    typed = f"try_cast({value_sql} as {sql_type})"
    checks: list[ValueCheck] = []
    is_float = source_type.startswith(FLOAT_SOURCE_TYPES)
    if is_float:
        checks.append(ValueCheck(f"({value_sql} is not null and not isfinite({value_sql}))", "not a finite number"))
    finite = f"isfinite({value_sql})" if is_float else "true"
    scale = decimal_scale(sql_type)
    if sql_type == INT and not source_type.startswith(INTEGER_SOURCE_TYPES):
        checks.append(ValueCheck(f"({finite} and {value_sql} <> round({value_sql}))", "not a whole number"))
    elif scale is not None and not source_type.startswith(INTEGER_SOURCE_TYPES):
        checks.append(ValueCheck(f"({finite} and round({value_sql}, {scale}) <> {value_sql})",
                                 f"more decimals than the {scale} of {sql_type}: not rounded"))
    checks.append(ValueCheck(f"({value_sql} is not null and {finite} and {typed} is null)", f"too large for {sql_type}"))
    return ColumnTyping(typed, tuple(checks + _range_checks(typed, value_range)))


def column_typing(
    value_sql: str,
    sql_type: str,
    options: FileOptions,
    source_type: str | None = None,
    value_range: tuple[float, float] | None = None,
    is_identifier: bool = False,
) -> ColumnTyping:
    """How one file column becomes one contract column. `source_type` is the file's own type for typed
    formats (None or varchar: text)."""
    text_source = source_type is None or source_type.startswith("varchar")
    if is_numeric(sql_type):
        if text_source:
            return _text_number(value_sql, sql_type, options, value_range)
        return _typed_number(value_sql, source_type, sql_type, value_range)
    text = f"cast({value_sql} as varchar)"
    generic = ValueCheck(f"({value_sql} is not null and {{typed}} is null)", cast_failure_reason(sql_type, options))
    if sql_type == DATE:
        if options.date_format:
            typed = f"try_strptime({text}, {quote_literal(options.date_format)})::date"
        else:
            typed = f"coalesce(try_cast({value_sql} as date), try_cast(try_cast({value_sql} as timestamp) as date))"
    elif sql_type == TIMESTAMP:
        if options.timestamp_format:
            typed = f"try_strptime({text}, {quote_literal(options.timestamp_format)})::timestamp"
        else:
            # via timestamptz so an explicit offset is honoured; the session time zone is UTC
            typed = f"try_cast(try_cast({value_sql} as timestamptz) as timestamp)"
    elif is_identifier:
        # keys are matched and joined on: surrounding spaces are never part of one, all spaces is none
        return ColumnTyping(f"nullif(trim({text}), '')")
    else:
        typed = f"try_cast({value_sql} as {sql_type})"
    return ColumnTyping(typed, (ValueCheck(generic.predicate_sql.format(typed=typed), generic.reason),))


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
