"""Comparing one engine's tables with another's: the same columns of the same kinds, the same rows, money equal
to the cent and ratios to 1e-9 (the engines add doubles in different orders), the time a row was built aside."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

MONEY_TOLERANCE = Decimal("0.005")
RATIO_TOLERANCE = 1e-9
# when a row was built (doc block built_at): bookkeeping of the build that wrote it, which two builds never share
BUILD_TIME_COLUMNS = ("built_at",)


def column_kind(data_type: pa.DataType) -> str:
    """A type as the marts promise it on every engine: integer, decimal(<scale>), double, string, date,
    timestamp, boolean. Integer widths differ (a DuckDB sum of integers is a HUGEINT, Arrow decimal(38,0))."""
    if pa.types.is_integer(data_type) or (pa.types.is_decimal(data_type) and data_type.scale == 0):
        return "integer"
    if pa.types.is_decimal(data_type):
        return f"decimal({data_type.scale})"
    if pa.types.is_floating(data_type):
        return "double" if data_type.bit_width == 64 else f"float{data_type.bit_width}"
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "string"
    if pa.types.is_date(data_type):
        return "date"
    if pa.types.is_timestamp(data_type):
        return "timestamp" if data_type.tz is None else "timestamp with time zone"
    if pa.types.is_boolean(data_type):
        return "boolean"
    return str(data_type)


@dataclass
class TableComparison:
    """What differs between two versions of one table, and how far the numbers that agree lie apart."""

    table: str
    differences: list[str] = field(default_factory=list)
    largest_money_difference: Decimal = Decimal(0)
    largest_ratio_difference: float = 0.0
    rows: int = 0

    @property
    def equal(self) -> bool:
        return not self.differences


def _sort_key(row: tuple[Any, ...], float_columns: set[int]) -> tuple[Any, ...]:
    # NULLs first, then values; doubles rounded so that last-bit differences do not reorder rows
    return tuple(
        (0, "") if value is None else (1, round(value, 6) if index in float_columns and math.isfinite(value) else value)
        for index, value in enumerate(row))


def compare_tables(table: str, expected: pa.Table, actual: pa.Table,
                   money_tolerance: Decimal = MONEY_TOLERANCE, ratio_tolerance: float = RATIO_TOLERANCE) -> TableComparison:
    comparison = TableComparison(table, rows=expected.num_rows)
    if expected.column_names != actual.column_names:
        comparison.differences.append(f"columns {expected.column_names} != {actual.column_names}")
        return comparison
    kinds = [column_kind(field.type) for field in expected.schema]
    for name, kind, other in zip(expected.column_names, kinds, actual.schema):
        if column_kind(other.type) != kind:
            comparison.differences.append(f"column {name}: {kind} != {column_kind(other.type)}")
    if expected.num_rows != actual.num_rows:
        comparison.differences.append(f"{expected.num_rows} rows != {actual.num_rows} rows")
        return comparison
    if comparison.differences:
        return comparison
    compared = [name for name in expected.column_names if name not in BUILD_TIME_COLUMNS]
    expected, actual, kinds = expected.select(compared), actual.select(compared), [
        kind for name, kind in zip(expected.column_names, kinds) if name not in BUILD_TIME_COLUMNS]
    float_columns = {index for index, kind in enumerate(kinds) if kind.startswith(("double", "float"))}
    rows_expected = sorted(zip(*(column.to_pylist() for column in expected.columns)), key=lambda row: _sort_key(row, float_columns))
    rows_actual = sorted(zip(*(column.to_pylist() for column in actual.columns)), key=lambda row: _sort_key(row, float_columns))
    for want, got in zip(rows_expected, rows_actual):
        for name, kind, a, b in zip(expected.column_names, kinds, want, got):
            if a is None or b is None:
                same = a is None and b is None
            elif kind.startswith("decimal"):
                gap = abs(Decimal(a) - Decimal(b))
                comparison.largest_money_difference = max(comparison.largest_money_difference, gap)
                same = gap < money_tolerance
            elif kind.startswith(("double", "float")):
                gap = abs(a - b) if math.isfinite(a) and math.isfinite(b) else (0.0 if a == b else math.inf)
                comparison.largest_ratio_difference = max(comparison.largest_ratio_difference, gap / max(1.0, abs(a)))
                same = math.isclose(a, b, rel_tol=ratio_tolerance, abs_tol=ratio_tolerance)
            else:
                same = a == b
            if not same:
                comparison.differences.append(f"{name}: {a!r} != {b!r} in row {want}")
                if len(comparison.differences) >= 5:
                    return comparison
    return comparison
