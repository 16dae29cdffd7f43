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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ..settings import WarehouseConfig
from ..warehouse_connection import connect_warehouse
from .contract import CONTRACTS, LINEAGE_COLUMNS, TableContract
from .errors import FileRejected, LandingAborted, is_write_failure
from .file_options import FileOptions, resolve_options
from .file_source import FileSource, cleanup_scan, open_source, quote_identifier, readable_file
from .landing_folder import LandingEntry, landing_entries
from .metadata import LANDED_FILES, LOAD_RUNS, REJECTS, ensure_raw_schema, raw_table
from .physical_lines import line_units
from .typing_sql import ColumnTyping, column_typing, detect_decimal_separator

log = logging.getLogger(__name__)
CHECKSUM_CHUNK_BYTES = 8 * 1024 * 1024
MAX_REJECT_VALUE_CHARS = 500


@dataclass
class FileResult:
    file_path: str
    table_name: str | None
    status: str  # landed | skipped | rejected | ignored
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
        """One line: files landed / skipped / rejected / ignored and the row accounting, checked."""
        ignored = f", ignored {self.count('ignored')}" if self.count("ignored") else ""
        return (f"landed {self.count('landed')} file(s), skipped {self.count('skipped')}, rejected {self.count('rejected')}{ignored}: "
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


def _typings(contract: TableContract, source: FileSource, options: FileOptions) -> dict[str, ColumnTyping]:
    return {
        name: column_typing(source.columns[name], sql_type, options, source.column_types.get(name),
                            contract.ranges.get(name), name in contract.identifier_columns)
        for name, sql_type in contract.columns.items() if name in source.columns
    }


def _reject_checks(contract: TableContract, source: FileSource, typings: dict[str, ColumnTyping]) -> list[RejectCheck]:
    checks: list[RejectCheck] = []
    readable = "true"
    if source.record_error_sql:
        checks.append(RejectCheck(None, f"{source.record_error_sql} is not null", "_json_line", "not a valid JSON object"))
        readable = f"{source.record_error_sql} is null"
    for name, typing in typings.items():
        value = source.columns[name]
        checks += [RejectCheck(name, check.predicate_sql, value, check.reason) for check in typing.checks]
        if name in contract.key and name not in contract.nullable_key:
            checks.append(RejectCheck(name, f"({readable} and {typing.typed_sql} is null)", value, "key column is empty"))
    if len(checks) > MAX_CHECKS:
        raise FileRejected(f"too many checks for one file ({len(checks)} > {MAX_CHECKS})")
    return checks


def _staging_sql(contract: TableContract, source: FileSource, typings: dict[str, ColumnTyping], checks: list[RejectCheck]) -> str:
    typed_columns = [
        f"{typings[name].typed_sql if name in typings else 'null'}::{sql_type} as {quote_identifier(name)}"
        for name, sql_type in contract.columns.items()
    ]
    mask = " + ".join(f"(case when {check.predicate_sql} then {1 << index} else 0 end)" for index, check in enumerate(checks)) or "0"
    raw_values = ", ".join(f"left(cast({check.value_sql} as varchar), {MAX_REJECT_VALUE_CHARS})" for check in checks)
    # the raw values are kept for rejected rows only: built inside the CASE (which DuckDB evaluates for the
    # rows it selects), not for every row and then dropped (a third of a big file's staging time)
    return f"""
        select _line, {', '.join(typed_columns)}, {mask} as _reject_mask,
            case when _reject_mask <> 0 then [{raw_values}] end as _raw_values
        from ({source.select_sql}) as source_rows"""


def _key_match(contract: TableContract, left: str, right: str) -> str:
    return " and ".join(
        f"{left}.{quote_identifier(column)} is not distinct from {right}.{quote_identifier(column)}"
        if column in contract.nullable_key
        else f"{left}.{quote_identifier(column)} = {right}.{quote_identifier(column)}"
        for column in contract.key
    )


MAX_CHECKS = 62  # one bit each in a bigint mask


def _drop_incoming(sql: Callable[..., duckdb.DuckDBPyConnection]) -> None:
    """The incoming rows of a file: a view of the staged rows, or a table where keys had to be deduplicated."""
    kinds = sql("""select 'view' from duckdb_views() where temporary and view_name = '_incoming'
        union all select 'table' from duckdb_tables() where temporary and table_name = '_incoming'""").fetchall()
    for (kind,) in kinds:
        sql(f"drop {kind} _incoming")


def _version_order(contract: TableContract) -> str:
    version = f"{quote_identifier(contract.version_column)} desc nulls last, " if contract.version_column else ""
    return f"{version}_line desc"


class FileLander:
    """Lands the files of one run through a single warehouse connection."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, landing_dir: Path, load_id: str) -> None:
        self.connection = connection
        self.landing_dir = landing_dir
        self.load_id = load_id
        self.loaded_at = datetime.now(UTC).replace(tzinfo=None)

    def land(self, entry: LandingEntry) -> FileResult:
        """Land one file in its own transaction, checkpointed to disk before it counts as landed.
        Bad input rejects the file (recorded, the run goes on); a failed write stops the run."""
        relative = entry.relative
        result = FileResult(file_path=relative, table_name=entry.table_name, status="rejected")
        checksum = None
        try:
            contract = self._contract_for(relative, entry.table_name)
            checksum = file_checksum(entry.path)
            if self._already_landed(contract, checksum):
                result.status = "skipped"
                return result
            options = resolve_options(entry.path)
            self.connection.execute("begin transaction")
            try:
                self._land_file(entry.path, relative, contract, options, result)
                self._record_file(result, checksum, options, status="landed")
                self.connection.execute("commit")
            except BaseException:
                self._rollback()
                raise
            # a commit sits in the write-ahead log; only a checkpoint shows the rows reached the
            # database file (a full disk can fail here, after a commit that reported success)
            self.connection.execute("checkpoint")
            result.status = "landed"
        except FileRejected as error:
            result.error = f"{relative}: {error}"
        except Exception as error:
            if is_write_failure(error):
                raise LandingAborted(f"{relative}: could not be written to the warehouse ({_first_line(error)}); "
                                     "the run was stopped, nothing of this file was kept") from error
            result.error = f"{relative}: cannot be read: {_first_line(error)}"
        if result.status == "rejected":
            self._record_rejected(result, checksum)
        return result

    def record_entry(self, entry: LandingEntry) -> FileResult:
        """An entry that is not landed (a hidden file, a link out of the folder, ...), recorded with why."""
        if entry.problem:
            result = FileResult(entry.relative, entry.table_name, "rejected", error=f"{entry.relative}: {entry.problem}")
            self._record_rejected(result, None)
        else:
            result = FileResult(entry.relative, entry.table_name, "ignored", error=f"{entry.relative}: {entry.ignored}; not landed")
            self._record_file(result, None, None, status="ignored")
            self.connection.execute("checkpoint")
        return result

    def _record_rejected(self, result: FileResult, checksum: str | None) -> None:
        for counter in ("rows_read", "rows_landed", "rows_rejected", "rows_inserted", "rows_updated", "rows_stale", "rows_superseded"):
            setattr(result, counter, 0)
        try:
            self._record_file(result, checksum, None, status="rejected")
            self.connection.execute("checkpoint")
        except Exception as error:
            if is_write_failure(error):
                raise LandingAborted(f"{result.file_path}: its rejection could not be recorded ({_first_line(error)}); "
                                     "the run was stopped") from error
            raise

    def _rollback(self) -> None:
        """Undo the file's transaction without hiding why it failed: a rollback of a transaction DuckDB
        already aborted (or never began) must not replace the real error."""
        try:
            self.connection.execute("rollback")
        except duckdb.Error as error:
            log.debug("rollback after a failed file: %s", error)

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
        with readable_file(path, options) as readable_path:
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
                self._stage_and_upsert(relative, contract, source, options, result, readable_path)
            finally:
                cleanup_scan(self.connection, source)

    def _stage_and_upsert(
        self, relative: str, contract: TableContract, source: FileSource, options: FileOptions, result: FileResult,
        readable_path: Path,
    ) -> None:
        sql = self.connection.execute
        typings = _typings(contract, source, options)
        checks = _reject_checks(contract, source, typings)
        sql("drop table if exists _staged")
        sql(f"create temp table _staged as {_staging_sql(contract, source, typings, checks)}")
        staged_rows = sql("select count(*) from _staged").fetchone()[0]
        structural_rejects = self._record_structural_rejects(relative, contract, source, options, staged_rows, readable_path)
        typing_rejects = sql("select count(*) filter (where _reject_mask <> 0) from _staged").fetchone()[0]
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

    def _record_structural_rejects(
        self, relative: str, contract: TableContract, source: FileSource, options: FileOptions, staged_rows: int,
        readable_path: Path,
    ) -> int:
        """Lines DuckDB's CSV reader could not split into the header's columns, and the file's own line
        numbers for every row.

        The reader skips rejected lines and numbers the rest as records, so `_line` (the record number)
        is mapped back to the line an editor shows: simply shifted past the rejected lines, or, where a
        quoted value spans lines or blank lines sit between rows, through the file's line units
        (`physical_lines`). Several scans (sampling, staging) may log the same line: distinct.
        When no line at all fits the header, the file is rejected with a hint instead: a header split
        by one delimiter over rows split by another lands nothing, and should say so.
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
        if rejected_lines and staged_rows == 0:
            first_line = sql("select csv_line from _structural order by line limit 1").fetchone()[0] or ""
            raise FileRejected(_delimiter_hint(len(source.columns), options.delimiter or ",", first_line, rejected_lines))
        units = line_units(self.connection, readable_path)
        if units is not None:
            # DuckDB numbers units (the header, records, blank lines); good rows are the k-th record
            # that is neither blank nor rejected
            sql(f"""update _staged set _line = good.physical_line from (
                    select row_number() over (order by unit_no) + 1 as record_line, physical_line from {units}
                    where unit_no > 1 and not is_blank and unit_no not in (select line from _structural)
                ) as good where good.record_line = _staged._line""")
            sql(f"update _structural set line = units.physical_line from {units} as units where units.unit_no = _structural.line")
            sql(f"drop table {units}")
        elif rejected_lines:
            # good records before the i-th rejected line r_i: r_i - 1 (header) - (i - 1) (earlier rejects) - 1
            sql(
                """update _staged set _line = _line + (
                    select count(*) from (
                        select line - row_number() over (order by line) - 1 as good_before
                        from (select distinct line from _structural)
                    ) as rejected where rejected.good_before < _staged._line - 1)"""
            )
        if rejected_lines:
            sql(
                f"insert into {REJECTS} select ?, ?, ?, line, column_name, csv_line, reason, ? from _structural",
                [self.load_id, relative, contract.name, self.loaded_at],
            )
        sql("drop table _structural")
        return rejected_lines

    def _upsert(self, relative: str, contract: TableContract, result: FileResult) -> None:
        sql = self.connection.execute
        columns = [quote_identifier(name) for name in contract.columns]
        key = ", ".join(quote_identifier(column) for column in contract.key)
        _drop_incoming(sql)
        # one version per key: most files hold each key once, which a hash aggregate shows far faster than
        # the window that picks the newest version; only a file with repeated keys pays for the window
        repeated = sql(f"select exists (select 1 from _staged where _reject_mask = 0 group by {key} having count(*) > 1)").fetchone()[0]
        if repeated:
            sql(
                f"""create temp table _incoming as
                select {', '.join(columns)}, _line from _staged
                where _reject_mask = 0
                qualify row_number() over (partition by {key} order by {_version_order(contract)}) = 1"""
            )
        else:
            sql(f"create temp view _incoming as select {', '.join(columns)}, _line from _staged where _reject_mask = 0")
        incoming = sql("select count(*) from _incoming").fetchone()[0]
        result.rows_superseded = result.rows_landed - incoming

        target = raw_table(contract)
        # a table's first load: nothing to replace, nothing to compare with
        empty_target = not sql(f"select exists (select 1 from {target})").fetchone()[0]
        if contract.version_column:
            # a row without updated_at is older than any row with one: it never replaces it (it counts
            # as stale); between two rows without one, the later load wins
            version = quote_identifier(contract.version_column)
            existing_is_newer = (f"(existing.{version} is not null and "
                                 f"(_incoming.{version} is null or existing.{version} > _incoming.{version}))")
        else:
            existing_is_newer = "false"
        result.rows_updated = 0 if empty_target else sql(
            f"delete from {target} as existing using _incoming "
            f"where {_key_match(contract, 'existing', '_incoming')} and not {existing_is_newer}"
        ).fetchone()[0]
        lineage = ", ".join(quote_identifier(name) for name in LINEAGE_COLUMNS)
        new_keys_only = "" if empty_target else \
            f"where not exists (select 1 from {target} as existing where {_key_match(contract, 'existing', '_incoming')})"
        inserted = sql(
            f"""insert into {target} ({', '.join(columns)}, {lineage})
            select {', '.join('_incoming.' + column for column in columns)}, ?, _incoming._line, ?, ?
            from _incoming {new_keys_only}""",
            [relative, self.load_id, self.loaded_at],
        ).fetchone()[0]
        result.rows_inserted = inserted - result.rows_updated
        result.rows_stale = incoming - inserted
        _drop_incoming(sql)
        sql("drop table if exists _staged")

    def _check_invariants(self, relative: str, contract: TableContract, result: FileResult) -> None:
        accounted = result.rows_inserted + result.rows_updated + result.rows_stale + result.rows_superseded
        in_raw = self.connection.execute(
            f"select count(*) from {raw_table(contract)} where _load_id = ? and _source_file = ?",
            [self.load_id, relative],
        ).fetchone()[0]
        if (result.rows_read != result.rows_landed + result.rows_rejected or accounted != result.rows_landed
                or in_raw != result.rows_inserted + result.rows_updated):
            raise FileRejected(
                f"row accounting failed (read {result.rows_read}, landed {result.rows_landed}, "
                f"rejected {result.rows_rejected}, written {in_raw}); nothing of the file was kept"
            )

    def _record_file(self, result: FileResult, checksum: str | None, options: FileOptions | None, status: str) -> None:
        self.connection.execute(
            f"insert into {LANDED_FILES} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.load_id, result.file_path, result.table_name, checksum, status,
                json.dumps(options.as_dict()) if options else None, json.dumps(result.assumptions),
                result.rows_read, result.rows_landed, result.rows_rejected, result.rows_inserted,
                result.rows_updated, result.rows_stale, result.rows_superseded, result.error, self.loaded_at,
            ],
        )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _delimiter_hint(header_columns: int, delimiter: str, first_line: str, rejected_lines: int) -> str:
    counts = {candidate: first_line.count(candidate) for candidate in (",", ";", "\t", "|") if candidate != delimiter}
    likely = max(counts, key=lambda candidate: counts[candidate]) if counts else None
    hint = (f"; the rows seem to be split by {likely!r}: set delimiter = {likely!r} in _options.toml"
            if likely and counts[likely] else "")
    return (f"none of the {rejected_lines} data line(s) splits into the header's {header_columns} columns "
            f"(delimiter {delimiter!r}){hint}")


def land_directory(
    landing_dir: Path,
    warehouse_path: Path,
    progress: Callable[[FileResult], None] | None = None,
    config: WarehouseConfig | None = None,
) -> LandingReport:
    """Land every file under `landing_dir`; bad input is reported, never raised. A failed write
    (a full disk, an I/O error) raises LandingAborted: the run stops and is not recorded as a
    success, and every file landed before it is whole on disk."""
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"landing folder {landing_dir} does not exist")
    load_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    started_at = datetime.now(UTC).replace(tzinfo=None)
    with connect_warehouse(warehouse_path, config=config) as connection:
        ensure_raw_schema(connection)
        lander = FileLander(connection, landing_dir.resolve(), load_id)
        results = []
        for entry in landing_entries(landing_dir.resolve()):
            result = lander.record_entry(entry) if entry.problem or entry.ignored else lander.land(entry)
            if result.status == "rejected":
                log.error("%s", result.error)
            elif result.status == "ignored":
                log.info("%s", result.error)
            if progress:
                progress(result)
            results.append(result)
        report = LandingReport(load_id=load_id, files=results)
        try:
            connection.execute(
                f"insert into {LOAD_RUNS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    load_id, started_at, datetime.now(UTC).replace(tzinfo=None), report.count("landed"),
                    report.count("skipped"), report.count("rejected"), report.rows_read, report.rows_landed,
                    report.rows_rejected, report.invariant_holds, report.count("ignored"),
                ],
            )
            connection.execute("checkpoint")
        except Exception as error:
            if is_write_failure(error):
                raise LandingAborted(f"the run's record could not be written ({_first_line(error)}); the run was stopped") from error
            raise
    return report
