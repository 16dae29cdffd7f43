"""Asserting query results row by row against hand-computed values: floats to 1e-9, NULL only as NULL."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def same(actual: object, expected: object) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9)
    return actual == expected


def assert_rows(warehouse: Path, sql: str, expected: list[tuple]) -> None:
    actual = rows(warehouse, sql)
    assert len(actual) == len(expected), f"{len(actual)} rows, expected {len(expected)}:\n{actual}"
    for got, want in zip(actual, expected):
        assert len(got) == len(want) and all(same(g, w) for g, w in zip(got, want)), f"\n got  {got}\n want {want}"
