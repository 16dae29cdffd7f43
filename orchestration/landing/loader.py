"""Land a folder of CRM files into the `raw` schema of a DuckDB warehouse.

Each file is landed in its own transaction: typed, its untypeable rows written to
`raw._rejects`, the rest upserted by key keeping the newest version. A file that cannot
be landed at all (unknown table folder, missing required column, unreadable options) is
rejected whole and recorded; nothing of it reaches the raw table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from .contract import CONTRACTS, LINEAGE_COLUMNS, TableContract
from .errors import FileRejected
from .file_options import FileOptions, is_options_file, resolve_options
from .file_source import FileSource, cleanup_scan, open_source, quote_identifier, quote_literal, utf8_copy
from .metadata import LANDED_FILES, LOAD_RUNS, REJECTS, ensure_raw_schema, raw_table
from .typing_sql import cast_failure_reason, detect_decimal_separator, typed_expression
from ..warehouse_connection import connect_warehouse

log = logging.getLogger(__name__)
CHECKSUM_CHUNK_BYTES = 8 * 1024 * 1024
MAX_REJECT_VALUE_CHARS = 500


@dataclass
class FileResult:
    file_path: str
    table_name: str | None
    status: str  # landed | skipped | rejected
    rows_read: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_stale: int = 0
    rows_superseded: int = 0
    error: str | None = None
    assumptions: list[str] = field(default_factory=list)


@dataclass
class LandingReport:
    load_id: str
    files: list[FileResult]

    def count(self, status: str) -> int:
        return sum(1 for result in self.files if result.status == status)

    @property
    def rows_read(self) -> int:
        return sum(result.rows_read for result in self.files)

    @property
    def rows_landed(self) -> int:
        return sum(result.rows_landed for result in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(result.rows_rejected for result in self.files)

    @property
    def invariant_holds(self) -> bool:
        return self.rows_read == self.rows_landed + self.rows_rejected

    @property
    def rejected_files(self) -> list[FileResult]:
        return [result for result in self.files if result.status == "rejected"]

    def summary(self) -> str:
        """One line: files landed / skipped / rejected and the row accounting, checked."""
        return (f"landed {self.count('landed')} file(s), skipped {self.count('skipped')}, rejected {self.count('rejected')}: "
                f"read {self.rows_read:,} rows = landed {self.rows_landed:,} + rejected {self.rows_rejected:,} "
                f"({'holds' if self.invariant_holds else 'BROKEN'}); rejected rows are in raw._rejects (load {self.load_id})")


@dataclass
class RejectCheck:
    """One way a row can be rejected: a predicate over the file's values, and what to record."""

    column: str | None
    predicate_sql: str
    value_sql: str
    reason: str


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHECKSUM_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def landing_files(landing_dir: Path) -> list[Path]:
    """Data files in table-folder order of the contract, then by name (later files win ties)."""
    files = [
        path
        for path in landing_dir.rglob("*")
        if path.is_file() and not path.name.startswith(".") and not is_options_file(path) and path.name != "SOURCE.md"
    ]
    table_order = {name: index for index, name in enumerate(CONTRACTS)}

    def sort_key(path: Path) -> tuple[int, str]:
        folder = path.relative_to(landing_dir).parts[0] if len(path.relative_to(landing_dir).parts) > 1 else ""
        return (table_order.get(folder, len(table_order)), str(path.relative_to(landing_dir)))

    return sorted(files, key=sort_key)


def _reject_checks(contract: TableContract, source: FileSource, options: FileOptions) -> list[RejectCheck]:
    checks: list[RejectCheck] = []
    readable = "true"
    if source.record_error_sql:
        checks.append(RejectCheck(None, f"{source.record_error_sql} is not null", "_json_line", "not a valid JSON object"))
        readable = f"{source.record_error_sql} is null"
    for name, sql_type in contract.columns.items():
        if name not in source.columns:
            continue
        value = source.columns[name]
        typed = typed_expression(value, sql_type, options)
        checks.append(RejectCheck(name, f"({value} is not null and {typed} is null)", value, cast_failure_reason(sql_type, options)))
        if name in contract.key and name not in contract.nullable_key:
            checks.append(RejectCheck(name, f"({readable} and {value} is null)", value, "key column is empty"))
    return checks


def _staging_sql(contract: TableContract, source: FileSource, options: FileOptions, checks: list[RejectCheck]) -> str:
    typed_columns = [
        f"{typed_expression(source.columns[name], sql_type, options) if name in source.columns else 'null'}"
        f"::{sql_type} as {quote_identifier(name)}"
        for name, sql_type in contract.columns.items()
    ]
    mask = " + ".join(f"(case when {check.predicate_sql} then {1 << index} else 0 end)" for index, check in enumerate(checks)) or "0"
    raw_values = ", ".join(f"left(cast({check.value_sql} as varchar), {MAX_REJECT_VALUE_CHARS})" for check in checks)
    return f"""
        select * exclude (_raw_values), case when _reject_mask <> 0 then _raw_values end as _raw_values
        from (
            select _line, {', '.join(typed_columns)}, {mask} as _reject_mask, [{raw_values}] as _raw_values
            from ({source.select_sql}) as source_rows
        )"""


def _key_match(contract: TableContract, left: str, right: str) -> str:
    return " and ".join(
        f"{left}.{quote_identifier(column)} is not distinct from {right}.{quote_identifier(column)}"
        if column in contract.nullable_key
        else f"{left}.{quote_identifier(column)} = {right}.{quote_identifier(column)}"
        for column in contract.key
    )


def _version_order(contract: TableContract) -> str:
    version = f"{quote_identifier(contract.version_column)} desc nulls last, " if contract.version_column else ""
    return f"{version}_line desc"


class FileLander:
    """Lands the files of one run through a single warehouse connection."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, landing_dir: Path, load_id: str) -> None:
        self.connection = connection
        self.landing_dir = landing_dir
        self.load_id = load_id
        self.loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)

    def land(self, path: Path) -> FileResult:
        relative = path.relative_to(self.landing_dir).as_posix()
        parts = path.relative_to(self.landing_dir).parts
        table_name = parts[0] if len(parts) > 1 else None
        result = FileResult(file_path=relative, table_name=table_name, status="rejected")
        checksum = None
        try:
            contract = self._contract_for(relative, table_name)
            checksum = file_checksum(path)
            if self._already_landed(contract, checksum):
                result.status = "skipped"
                return result
            options = resolve_options(path)
            self.connection.execute("begin transaction")
            try:
                self._land_file(path, relative, contract, options, result)
                self._record_file(result, checksum, options)
                self.connection.execute("commit")
            except BaseException:
                self.connection.execute("rollback")
                raise
        except FileRejected as error:
            result.error = f"{relative}: {error}"
        except (duckdb.Error, OSError, UnicodeError) as error:
            result.error = f"{relative}: cannot be read: {str(error).splitlines()[0]}"
        if result.status == "rejected":
            for counter in ("rows_read", "rows_landed", "rows_rejected", "rows_inserted", "rows_updated", "rows_stale", "rows_superseded"):
                setattr(result, counter, 0)
            self._record_file(result, checksum, None)
        return result

    def _contract_for(self, relative: str, table_name: str | None) -> TableContract:
        if table_name is None:
            raise FileRejected(f"files must be in a table folder (<landing>/<table>/{relative})")
        if table_name not in CONTRACTS:
            raise FileRejected(
                f"unknown table folder '{table_name}'; expected one of: {', '.join(CONTRACTS)}"
            )
        return CONTRACTS[table_name]

    def _already_landed(self, contract: TableContract, checksum: str) -> bool:
        return bool(
            self.connection.execute(
                f"select count(*) from {LANDED_FILES} where table_name = ? and checksum = ? and status = 'landed'",
                [contract.name, checksum],
            ).fetchone()[0]
        )

    def _land_file(self, path: Path, relative: str, contract: TableContract, options: FileOptions, result: FileResult) -> None:
        scan_name = "scan_" + uuid.uuid4().hex[:12]
        with utf8_copy(path, options) as readable_path:
            source = open_source(self.connection, readable_path, options, scan_name)
            try:
                missing = [column for column in contract.required if column not in source.columns]
                if missing:
                    raise FileRejected(
                        f"missing required column(s) {', '.join(missing)} for table {contract.name}"
                    )
                detect_decimal_separator(self.connection, contract, source, options)
                extra = sorted(set(source.columns) - set(contract.columns))
                if extra:
                    options.assumptions.append(f"ignored columns not in the contract: {', '.join(extra)}")
                absent = [column for column in contract.columns if column not in source.columns]
                if absent:
                    options.assumptions.append(f"absent optional columns landed as null: {', '.join(absent)}")
                for assumption in options.assumptions:
                    log.info("%s: assumed %s", relative, assumption)
                result.assumptions = list(options.assumptions)
                self._stage_and_upsert(relative, contract, source, options, result)
            finally:
                cleanup_scan(self.connection, source)

    def _stage_and_upsert(
        self, relative: str, contract: TableContract, source: FileSource, options: FileOptions, result: FileResult
    ) -> None:
        sql = self.connection.execute
        checks = _reject_checks(contract, source, options)
        sql("drop table if exists _staged")
        sql(f"create temp table _staged as {_staging_sql(contract, source, options, checks)}")
        structural_rejects = self._record_structural_rejects(relative, contract, source)
        staged_rows, typing_rejects = sql("select count(*), count(*) filter (where _reject_mask <> 0) from _staged").fetchone()
        failing = sql(
            "select " + ", ".join(f"count(*) filter (where (_reject_mask >> {i}) & 1 = 1)" for i in range(len(checks)))
            + " from _staged"
        ).fetchone() if checks else ()
        for index, (check, count) in enumerate(zip(checks, failing)):
            if count:
                sql(
                    f"insert into {REJECTS} select ?, ?, ?, _line, ?, _raw_values[{index + 1}], ?, ? "
                    f"from _staged where (_reject_mask >> {index}) & 1 = 1",
                    [self.load_id, relative, contract.name, check.column, check.reason, self.loaded_at],
                )

        result.rows_read = staged_rows + structural_rejects
        result.rows_rejected = typing_rejects + structural_rejects
        result.rows_landed = staged_rows - typing_rejects
        self._upsert(relative, contract, result)
        self._check_invariants(relative, contract, result)
        result.status = "landed"

    def _record_structural_rejects(self, relative: str, contract: TableContract, source: FileSource) -> int:
        """Lines DuckDB's CSV reader could not split into the header's columns.

        The reader skips them, so the record numbers of the rows after them are shifted back
        to true line numbers here. Several scans (sampling, staging) may log the same line: distinct.
        """
        if not source.csv_rejects_table:
            return 0
        sql = self.connection.execute
        sql(
            f"""create or replace temp table _structural as
            select distinct line, column_name, left(csv_line, {MAX_REJECT_VALUE_CHARS}) as csv_line,
                error_type || ': ' || error_message as reason
            from {source.csv_rejects_table}"""
        )
        rejected_lines = sql("select count(distinct line) from _structural").fetchone()[0]
        if rejected_lines:
            sql(
                f"insert into {REJECTS} select ?, ?, ?, line, column_name, csv_line, reason, ? from _structural",
                [self.load_id, relative, contract.name, self.loaded_at],
            )
            # good records before the i-th rejected line r_i: r_i - 1 (header) - (i - 1) (earlier rejects) - 1
            sql(
                """update _staged set _line = _line + (
                    select count(*) from (
                        select line - row_number() over (order by line) - 1 as good_before
                        from (select distinct line from _structural)
                    ) as rejected where rejected.good_before < _staged._line - 1)"""
            )
        sql("drop table _structural")
        return rejected_lines

    def _upsert(self, relative: str, contract: TableContract, result: FileResult) -> None:
        sql = self.connection.execute
        columns = [quote_identifier(name) for name in contract.columns]
        key = ", ".join(quote_identifier(column) for column in contract.key)
        sql("drop table if exists _incoming")
        sql(
            f"""create temp table _incoming as
            select {', '.join(columns)}, _line from _staged
            where _reject_mask = 0
            qualify row_number() over (partition by {key} order by {_version_order(contract)}) = 1"""
        )
        incoming = sql("select count(*) from _incoming").fetchone()[0]
        result.rows_superseded = result.rows_landed - incoming

        target = raw_table(contract)
        if contract.version_column:
            version = quote_identifier(contract.version_column)
            existing_is_newer = f"coalesce(existing.{version} > _incoming.{version}, false)"
        else:
            existing_is_newer = "false"
        result.rows_updated = sql(
            f"delete from {target} as existing using _incoming "
            f"where {_key_match(contract, 'existing', '_incoming')} and not {existing_is_newer}"
        ).fetchone()[0]
        lineage = ", ".join(quote_identifier(name) for name in LINEAGE_COLUMNS)
        inserted = sql(
            f"""insert into {target} ({', '.join(columns)}, {lineage})
            select {', '.join('_incoming.' + column for column in columns)}, ?, _incoming._line, ?, ?
            from _incoming
            where not exists (select 1 from {target} as existing where {_key_match(contract, 'existing', '_incoming')})""",
            [relative, self.load_id, self.loaded_at],
        ).fetchone()[0]
        result.rows_inserted = inserted - result.rows_updated
        result.rows_stale = incoming - inserted
        sql("drop table if exists _incoming")
        sql("drop table if exists _staged")

    def _check_invariants(self, relative: str, contract: TableContract, result: FileResult) -> None:
        accounted = result.rows_inserted + result.rows_updated + result.rows_stale + result.rows_superseded
        in_raw = self.connection.execute(
            f"select count(*) from {raw_table(contract)} where _load_id = ? and _source_file = ?",
            [self.load_id, relative],
        ).fetchone()[0]
        if result.rows_read != result.rows_landed + result.rows_rejected or accounted != result.rows_landed or in_raw != result.rows_inserted + result.rows_updated:
            raise FileRejected(
                f"row accounting failed (read {result.rows_read}, landed {result.rows_landed}, "
                f"rejected {result.rows_rejected}, written {in_raw}); nothing of the file was kept"
            )

    def _record_file(self, result: FileResult, checksum: str | None, options: FileOptions | None) -> None:
        self.connection.execute(
            f"insert into {LANDED_FILES} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.load_id, result.file_path, result.table_name, checksum, result.status,
                json.dumps(options.as_dict()) if options else None, json.dumps(result.assumptions),
                result.rows_read, result.rows_landed, result.rows_rejected, result.rows_inserted,
                result.rows_updated, result.rows_stale, result.rows_superseded, result.error, self.loaded_at,
            ],
        )


def land_directory(
    landing_dir: Path,
    warehouse_path: Path,
    progress: Callable[[FileResult], None] | None = None,
) -> LandingReport:
    """Land every file under `landing_dir`; never raises for bad input, reports it instead."""
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing folder {landing_dir} does not exist")
    load_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    with connect_warehouse(warehouse_path) as connection:
        ensure_raw_schema(connection)
        lander = FileLander(connection, landing_dir.resolve(), load_id)
        results = []
        for path in landing_files(landing_dir.resolve()):
            result = lander.land(path)
            if result.status == "rejected":
                log.error("%s", result.error)
            if progress:
                progress(result)
            results.append(result)
        report = LandingReport(load_id=load_id, files=results)
        connection.execute(
            f"insert into {LOAD_RUNS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id, started_at, datetime.now(timezone.utc).replace(tzinfo=None), report.count("landed"),
                report.count("skipped"), report.count("rejected"), report.rows_read, report.rows_landed,
                report.rows_rejected, report.invariant_holds,
            ],
        )
    return report
