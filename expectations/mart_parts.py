"""A mart's tests validated part by part, so the gate's memory stays bounded however large the CRM: the
deal-level marts hold a row per activity (50M at 10M opportunities), which no DataFrame of the whole mart
could hold on a 24 GiB machine.

A mart of up to the setting gate_rows_per_part rows (CRM_KPIS_GATE_ROWS_PER_PART; a million, about a GiB
for the widest mart) is one part (one validation of the whole mart, as GE sees it anywhere
else). A larger one is cut by a hash of its grain, in the engine's SQL, into parts of about that size, and
only the columns the tests need are read. A uniqueness test is exact on such parts when the columns they
are cut by are among its own (equal rows share a part); a uniqueness test over other columns gets parts cut
by its own columns. Every other test checks a row at a time, which any cut keeps exact. The parts'
results add up to the mart's: unexpected counts summed, the first samples kept."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from expectations.manifest_rules import MartTest

SAMPLES = 5

Validation = tuple[bool, list[dict], "str | None"]


def unique_columns(test: MartTest) -> list[str] | None:
    """The columns a uniqueness test is over; None for a test of one row at a time."""
    if test.test == "unique" and test.column:
        return [test.column]
    if test.test == "unique_combination":
        return list(test.arguments["columns"])
    return None


def columns_of(test: MartTest) -> list[str]:
    return unique_columns(test) or ([test.column] if test.column else [])


@dataclass
class Pass:
    """Tests validated together on parts cut by `cut_by`."""

    cut_by: list[str]
    tests: list[MartTest]

    def columns(self, grain: list[str]) -> list[str]:
        """The columns to read: the tests' and the grain (GE names failing rows by it)."""
        wanted = [*grain, *self.cut_by, *(column for test in self.tests for column in columns_of(test))]
        return list(dict.fromkeys(wanted))


def passes(tests: list[MartTest], grain: list[str]) -> list[Pass]:
    """The mart's tests grouped by the cut that keeps each of them exact: one pass cut by the grain for
    most marts, one more per uniqueness test over columns that do not include the grain."""
    cut = grain or next((columns_of(test) for test in tests if columns_of(test)), [])
    first = Pass(cut, [])
    grouped = [first]
    for test in tests:
        columns = unique_columns(test)
        if columns is None:
            first.tests.append(test)
            continue
        home = next((group for group in grouped if group.cut_by and set(group.cut_by) <= set(columns)), None)
        if home is None:
            home = Pass(columns, [])
            grouped.append(home)
        home.tests.append(test)
    return [group for group in grouped if group.tests]


def part_count(rows: int, rows_per_part: int) -> int:
    return max(1, math.ceil(rows / rows_per_part))


def merged(results: Iterator[Validation]) -> Validation:
    """The parts' results as one: passed when every part passed, unexpected counts summed per expectation."""
    passed, error = True, None
    failures: dict[tuple, dict] = {}
    for part_passed, part_failures, part_error in results:
        passed = passed and part_passed
        error = error or part_error
        for failure in part_failures:
            key = (failure["expectation"], failure.get("column"), str(failure.get("columns")))
            if key not in failures:
                failures[key] = {**failure, "sample": list(failure.get("sample") or [])[:SAMPLES]}
                continue
            known = failures[key]
            known["unexpected_count"] = (known.get("unexpected_count") or 0) + (failure.get("unexpected_count") or 0)
            known["sample"] = (known["sample"] + list(failure.get("sample") or []))[:SAMPLES]
            known["error"] = known.get("error") or failure.get("error")
    return passed and error is None, list(failures.values()), error


def validate_in_parts(rows: int, rows_per_part: int, groups: list[Pass], grain: list[str],
                      read: Callable[[list[MartTest], list[str], list[str], int, int], pd.DataFrame],
                      validate: Callable[[list[MartTest], pd.DataFrame], Validation]) -> Validation:
    """Each pass's tests on each part of the mart. `read(tests, columns, cut_by, part, parts)` returns one
    part's rows for those tests (all rows when parts is 1); `validate(tests, frame)` runs one suite of them on it."""
    parts = part_count(rows, rows_per_part)
    if parts == 1:  # the whole mart in one frame, one validation of all its tests
        every = [test for group in groups for test in group.tests]
        columns = list(dict.fromkeys(column for group in groups for column in group.columns(grain)))
        return validate(every, read(every, columns, [], 0, 1))

    def results() -> Iterator[Validation]:
        for group in groups:
            for part in range(parts):
                yield validate(group.tests, read(group.tests, group.columns(grain), group.cut_by, part, parts))

    return merged(results())
