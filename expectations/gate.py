"""The quality gate: after dbt and before publishing, Great Expectations validates the finished marts, read
from the engine that built them (the DuckDB warehouse, Postgres or Spark; only the marts), against

- the marts' dbt tests and the cross-KPI dbt tests, read from the manifest of the build that made them
  (expectations/manifest_rules.py: the dbt YAML and tests/dbt/ are the one home of those rules);
- the gate's own comparisons: row counts and total bookings against the last published version, each
  source's freshness (marts.fct_data_freshness), and whether the served file is still what was published.

GE validates DataFrames (its pandas datasource) on every engine: its SQL datasource cannot read DuckDB, and
one path means one set of results. Each mart is read from the engine in parts of bounded size
(expectations/mart_parts.py) and typed as DuckDB types it, so a rule means the same whatever the engine and
the gate's memory does not grow with the CRM; counts, totals and key sets are the engine's SQL; the
cross-KPI tests run on the engine as dbt compiled them for it.

Every check's name comes from expectations/checks.py. A validation that raised an exception is a failed
check, never a pass. Data Docs are rebuilt on every run under the quality folder."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from expectations import checks as names
from expectations import suites
from expectations.checks import GateCheck, gate_checks
from expectations.ge_runner import GreatExpectationsRunner, _json_safe
from expectations.manifest_rules import MARTS_SCHEMA, ManifestRules, MartTest, read_rules
from expectations.mart_parts import Validation, passes, validate_in_parts
from orchestration.engines import Engine, open_engine
from orchestration.landing.file_source import quote_identifier
from orchestration.serving.publish import last_publish, serving_file_changes, validated_through
from orchestration.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class CheckOutcome:
    """One Dagster asset check: which mart it belongs to, whether it passed, and why not."""

    check_name: str
    mart: str | None
    passed: bool
    failures: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    asset_key: tuple[str, ...] = ()
    # a non-blocking check is reported but does not stop the publish
    blocking: bool = True
    # what a failure means, in words, where the expectation's own description says too little
    note: str | None = None

    def describe(self) -> str:
        if self.note and not self.passed:
            return f"{self.check_name}: {self.note}"
        if self.error:
            return f"{self.check_name} on {self.target}: could not run: {self.error}"
        parts = [f"{failure['expectation']}({failure.get('column') or failure.get('columns') or ''}): "
                 f"{failure.get('unexpected_count')} rows, e.g. {failure.get('sample')}" for failure in self.failures]
        return f"{self.check_name} on {self.target}: " + ("; ".join(parts) or "passed")

    @property
    def target(self) -> str:
        return ".".join(self.asset_key) if self.asset_key else (self.mart or "")


@dataclass
class GateReport:
    run_id: str
    checked_at: str
    outcomes: list[CheckOutcome]
    data_docs: str | None

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(outcome.passed for outcome in self.outcomes if outcome.blocking)

    @property
    def failed(self) -> list[CheckOutcome]:
        """Failed blocking checks: each of them stops the publish."""
        return [outcome for outcome in self.outcomes if not outcome.passed and outcome.blocking]

    @property
    def warnings(self) -> list[CheckOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed and not outcome.blocking]

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.run_id}.json"
        path.write_text(json.dumps(asdict(self), indent=2, default=str))
        return path

    @classmethod
    def load(cls, folder: Path, run_id: str) -> GateReport | None:
        path = folder / f"{run_id}.json"
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        outcomes = [CheckOutcome(**{**outcome, "asset_key": tuple(outcome["asset_key"])}) for outcome in raw["outcomes"]]
        return cls(run_id=raw["run_id"], checked_at=raw["checked_at"], outcomes=outcomes, data_docs=raw["data_docs"])


DAY_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


def _validation_frame(rows: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """The rows as the suites expect them: dates (and timestamps) as ISO day strings, as GE's value sets
    hold them; decimals and huge integers as floats; integers with NULLs as nullable integers. Converted
    in DuckDB and through Arrow: DuckDB's own DataFrame conversion took five times as long (33 s against
    6 s for every mart at 1M opportunities)."""
    columns = []
    for name, kind in zip(rows.columns, (str(kind) for kind in rows.types), strict=True):
        if kind in DAY_TYPES:
            columns.append(f"strftime({quote_identifier(name)}, '%Y-%m-%d') as {quote_identifier(name)}")
        elif kind.startswith("DECIMAL") or kind in ("HUGEINT", "UHUGEINT"):
            columns.append(f"cast({quote_identifier(name)} as double) as {quote_identifier(name)}")
        else:
            columns.append(quote_identifier(name))
    table = rows.select(", ".join(columns)).to_arrow_table()
    frame = table.to_pandas()
    for column in table.schema:
        if pa.types.is_integer(column.type) and frame[column.name].dtype.kind == "f":
            frame[column.name] = frame[column.name].astype("Int64")
    return frame


def _ratio(now: float, published: float) -> float:
    return now / published if published else (1.0 if now == 0 else math.inf)


class MartSource:
    """The marts as the engine holds them, read in parts (expectations/mart_parts.py) and typed the way DuckDB
    types them; counts, sums and key sets are asked of the engine, never of a whole mart in memory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._rows: dict[tuple[str, str | None], int] = {}
        self._keys: dict[tuple[str, str], pa.Table] = {}

    def frame(self, mart: str, columns: list[str] | None = None, where: str | None = None,
              relationships: list[MartTest] | None = None) -> pd.DataFrame:
        """The mart's rows (dates as ISO strings, as GE's value sets hold them), with a found_column for each
        of `relationships`: whether the row's value is a key of the referenced mart."""
        with duckdb.connect() as typing:
            typing.register("mart_rows", self.engine.read_table(MARTS_SCHEMA, mart, columns, where))
            found = []
            for number, test in enumerate(relationships or []):
                typing.register(f"keys_{number}", self.keys(test.referenced_mart or "", test.arguments["field"]))
                found.append(f'"{test.column}" in (select key_value from keys_{number}) as "{suites.found_column(test)}"')
            return _validation_frame(typing.sql(f"select {', '.join(['mart_rows.*', *found])} from mart_rows"))

    def part(self, mart: str, columns: list[str], cut_by: list[str], part: int, parts: int, relationships: list[MartTest],
             scope: str | None = None) -> pd.DataFrame:
        """One part of the rows in `scope` (a condition; None: every row)."""
        conditions = [f"{self.engine.hash_part_sql(cut_by, parts)} = {part}" if parts > 1 else None, scope]
        return self.frame(mart, columns, " and ".join(f"({condition})" for condition in conditions if condition) or None, relationships)

    def keys(self, mart: str, column: str) -> pa.Table:
        """The distinct non-NULL values of a mart's column (typed as the mart's own, so they compare as equals)."""
        if (mart, column) not in self._keys:
            with duckdb.connect() as distinct:
                distinct.register("mart_column", self.engine.read_table(MARTS_SCHEMA, mart, [column]))
                self._keys[(mart, column)] = distinct.sql(
                    f'select distinct "{column}" as key_value from mart_column where "{column}" is not null').to_arrow_table()
        return self._keys[(mart, column)]

    def rows(self, mart: str, scope: str | None = None) -> int:
        if (mart, scope) not in self._rows:
            where = f" where {scope}" if scope else ""
            self._rows[(mart, scope)] = int(self.query(f"select count(*) as row_count from {MARTS_SCHEMA}.{mart}{where}").iloc[0, 0])
        return self._rows[(mart, scope)]

    def total(self, mart: str, column: str) -> float:
        value = self.query(f"select sum({column}) as total from {MARTS_SCHEMA}.{mart}").iloc[0, 0]
        return 0.0 if value is None or pd.isna(value) else float(value)

    def query(self, sql: str) -> pd.DataFrame:
        return self.engine.query_frame(sql)


def _bookings(source: MartSource) -> float:
    """Won amount over all of win rate, as publish records it (orchestration.serving.publish.total_bookings)."""
    return source.total("fct_kpi_win_rate", "won_amount")


def _change_frames(source: MartSource, serving_file: Path, marts: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    columns = ["measure", "published", "now", "ratio"]
    previous = last_publish(serving_file)
    if previous is None:
        empty = pd.DataFrame({"measure": pd.Series(dtype=str), "published": pd.Series(dtype=float),
                              "now": pd.Series(dtype=float), "ratio": pd.Series(dtype=float)})
        return empty, empty.copy()
    rows = []
    for mart, published in previous["row_counts"].items():
        if mart not in marts:
            continue
        now = source.rows(mart)
        rows.append((mart, float(published), float(now), _ratio(now, published)))
    bookings_now = _bookings(source)
    bookings_published = float(previous["total_bookings"] or 0)
    return (pd.DataFrame(rows, columns=columns),
            pd.DataFrame([("total bookings", bookings_published, bookings_now, _ratio(bookings_now, bookings_published))], columns=columns))


def run_quality_gate(settings: Settings, run_id: str, manifest_path: Path) -> GateReport:
    """Validate every check of expectations/checks.py on the marts of the settings' engine; never raises
    for a data problem, reports it (an exception in a check is a failure). `manifest_path`: the manifest
    of the dbt build that made the marts."""
    with open_engine(settings) as engine, engine.reading():
        return _run_quality_gate(settings, run_id, manifest_path, MartSource(engine))


def _run_quality_gate(settings: Settings, run_id: str, manifest_path: Path, source: MartSource) -> GateReport:
    rules = read_rules(manifest_path, settings.dbt_vars())
    runner = GreatExpectationsRunner(settings.quality / "gx")
    checks = {check.key: check for check in gate_checks(rules)}
    outcomes: list[CheckOutcome] = []

    def record_validation(name: str, mart: str, validation: Callable[[], Validation]) -> CheckOutcome:
        check: GateCheck = checks[(name, mart)]
        asset_key = (MARTS_SCHEMA, mart)
        try:
            passed, failures, error = validation()
            outcome = CheckOutcome(name, mart, passed, failures, error, asset_key, check.blocking)
        except Exception as exception:  # a check that cannot run fails the gate; it never passes
            log.exception("quality check %s on %s failed to run", name, mart)
            outcome = CheckOutcome(name, mart, False, [], f"{type(exception).__name__}: {exception}", asset_key, check.blocking)
        outcomes.append(outcome)
        return outcome

    def record(name: str, mart: str, suite_factory: Callable, frame_factory: Callable[[], pd.DataFrame],
               index_columns: list[str]) -> CheckOutcome:
        return record_validation(name, mart, lambda: runner.validate(suite_factory(), frame_factory(), index_columns))

    # a mart that keeps rows across builds is checked on the rows built since the last publish: every older row
    # was checked before it was published (the same scope as the build's data tests, macros/tests/where_subquery.sql)
    since = None if settings.dbt_vars()["data_tests_scope"] == "all" else validated_through(settings.serving_file)

    def scope(mart: str) -> str | None:
        return f"built_at > cast('{since}' as timestamp)" if since and mart in rules.kept_across_builds else None

    def mart_validation(name: str, mart: str, tests: list[MartTest]) -> Validation:
        grain = rules.grain(mart)
        return validate_in_parts(
            source.rows(mart, scope(mart)), settings.gate_rows_per_part, passes(tests, grain), grain,
            lambda part_tests, columns, cut_by, part, parts: source.part(
                mart, columns, cut_by, part, parts, [test for test in part_tests if test.referenced_mart], scope(mart)),
            lambda part_tests, frame: runner.validate(suites.mart_suite(f"{name}__{mart}", part_tests), frame, grain))

    for mart in rules.marts:
        tests = rules.tests.get(mart, [])
        for blocking, name in ((True, names.MART_CHECK), (False, names.MART_WARNINGS_CHECK)):
            selected = [test for test in tests if test.blocking is blocking]
            if selected:
                record_validation(name, mart, lambda mart=mart, selected=selected, name=name: mart_validation(name, mart, selected))

    _record_cross_kpi(record, rules, source)
    row_changes, bookings_change = _change_frames(source, settings.serving_file, rules.marts)
    row_bound, bookings_bound = settings.gate_max_row_change, settings.gate_max_bookings_change
    record(names.ROW_COUNTS_CHECK, "fct_kpi_win_rate",
           lambda: suites.change_suite(names.ROW_COUNTS_CHECK, 1 - row_bound, 1 / (1 - row_bound)), lambda: row_changes, ["measure"])
    record(names.BOOKINGS_CHECK, "fct_kpi_win_rate",
           lambda: suites.change_suite(names.BOOKINGS_CHECK, 1 - bookings_bound, 1 / (1 - bookings_bound)),
           lambda: bookings_change, ["measure"])
    freshness = record(names.FRESHNESS_CHECK, "fct_data_freshness", lambda: suites.freshness_suite(settings.gate_max_data_age_days),
                       lambda: source.frame("fct_data_freshness"), ["source_system", "measured_column"])
    if not freshness.passed and not freshness.error:
        freshness.note = _freshness_note(source.frame("fct_data_freshness"), settings.gate_max_data_age_days)

    served = serving_file_changes(settings.serving_file) or []
    intact = record(names.INTACT_CHECK, "fct_kpi_win_rate", suites.intact_suite,
                    lambda: pd.DataFrame(served, columns=["mart", "published", "now", "intact", "publish_id"]).astype({"intact": bool}),
                    ["mart"])
    changed = [change for change in served if not change["intact"]]
    if changed:
        intact.note = (f"the serving file was changed after publish {changed[0]['publish_id']}: "
                       + ", ".join(f"marts.{change['mart']} (rows:checksum {change['published']} -> {change['now']})" for change in changed))
    missing = set(checks) - {(outcome.check_name, outcome.mart) for outcome in outcomes}
    if missing:
        raise AssertionError(f"gate checks without an outcome: {sorted(missing)}")
    try:
        docs = runner.build_docs()
    except Exception as exception:  # Data Docs are a report, not a check: say so, keep the verdict
        log.warning("Data Docs were not built: %s", exception)
        docs = None
    return GateReport(run_id=run_id, checked_at=datetime.now().isoformat(timespec="seconds"), outcomes=outcomes, data_docs=docs)


def _record_cross_kpi(record: Callable, rules: ManifestRules, source: MartSource) -> None:
    """The cross-KPI dbt tests as one check: each test's compiled SQL returns the cells where two KPI
    tables disagree; any row fails it."""
    failures: list[dict[str, Any]] = []
    errors: list[str] = []
    results = []
    for test in rules.cross_kpi:
        if test.sql is None:
            errors.append(f"{test.name}: not compiled (the gate reads the manifest of the dbt build)")
            continue
        try:
            frame = source.query(test.sql)
        except Exception as exception:
            errors.append(f"{test.name}: {type(exception).__name__}: {str(exception).splitlines()[0]}")
            continue
        results.append((test, frame))
        if len(frame):
            failures.append(_json_safe({"expectation": test.name, "column": None, "unexpected_count": len(frame),
                                        "sample": frame.head(5).to_dict("records"), "description": test.description}))
    summary = pd.DataFrame({"test": [test.name for test, _ in results], "disagreeing_cells": [len(frame) for _, frame in results]})
    outcome = record(names.CROSS_KPI_CHECK, "fct_kpi_quota_attainment", suites.cross_kpi_suite, lambda: summary, ["test"])
    if errors or not rules.cross_kpi:
        outcome.passed = False
        outcome.error = "; ".join(errors) or "no cross-KPI dbt tests in the manifest (tests/dbt, tag cross_kpi)"
    if failures:
        outcome.failures = failures
        outcome.passed = False


def _freshness_note(freshness: pd.DataFrame, max_age_days: float) -> str:
    stale = freshness[freshness["newest_change_at"].isna() | (freshness["age_days"] > max_age_days) | (freshness["age_days"] < -1)]
    stale = stale.assign(what=stale["source_system"] + " " + stale["measured_column"]).sort_values("what")
    listed = ", ".join(f"{row.what}: newest {'none' if pd.isna(row.newest_change_at) else row.newest_change_at} "
                       f"({round(float(row.age_days), 1) if pd.notna(row.age_days) else 'none'} days old)" for row in stale.itertuples())
    as_of = stale["as_of_date"].iloc[0] if len(stale) else "today"
    return (f"the data is older than {max_age_days:g} days at the build date {as_of}: {listed}. A refresh of new data "
            "fixes it; for data that is meant to be old, set CRM_KPIS_AS_OF_DATE (the demo's is 2026-06-30) or "
            "CRM_KPIS_GATE_MAX_DATA_AGE_DAYS")
