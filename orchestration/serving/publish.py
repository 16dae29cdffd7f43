"""Write-audit-publish, the publish step: copy the audited marts from the working warehouse into a new
serving DuckDB file (plus one Parquet file per mart) and swap it in atomically.

BI tools open only the serving file, read-only. It is never written in place: a new file is built
beside it and renamed over it (atomic on POSIX), so a reader holding the old file keeps reading the
old inode and never blocks the refresh, and a crash at any point leaves the previous file whole.
The file and the Parquet exports are made read-only (0444) so a client that forgets `read_only`
cannot change them; a content checksum per mart is recorded so the next gate notices if one was.
Columns holding personal data (dbt column meta `contains_pii`) are not copied unless
CRM_KPIS_SERVE_PII=1. Each publish is recorded in `meta.publish_log` inside the serving file,
history carried forward. The file is written for clients older than this DuckDB (storage format, types,
comments: orchestration/serving/client_format.py)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from orchestration.serving.client_format import DEFAULT_STORAGE_VERSION, MartDescription, attach_for_clients, comment_mart, served_select_list
from orchestration.settings import WarehouseConfig
from orchestration.warehouse_connection import connect_warehouse

SERVING_FILE_NAME = "warehouse.duckdb"
PARQUET_FOLDER = "parquet"
KEPT_PARQUET_VERSIONS = 2  # the current one and the one a slow reader may still be reading
READ_ONLY = 0o444
PUBLISH_LOG_DDL = """create table meta.publish_log (
    publish_id varchar, run_id varchar, published_at timestamp, row_counts varchar, total_bookings double,
    check_results varchar, content_checksums varchar, withheld_columns varchar, engine varchar)"""


@dataclass
class PublishRecord:
    publish_id: str
    run_id: str
    published_at: str
    serving_file: Path
    parquet_folder: Path
    row_counts: dict[str, int]
    total_bookings: float
    withheld_columns: dict[str, list[str]]


def serving_file(serving_dir: Path) -> Path:
    return serving_dir / SERVING_FILE_NAME


def last_publish(serving_path: Path) -> dict[str, Any] | None:
    """The latest publish_log entry of a serving file (row counts, total bookings), or None before the first."""
    if not serving_path.exists():
        return None
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        columns = {name for (name,) in connection.execute(
            "select column_name from information_schema.columns where table_schema = 'meta' and table_name = 'publish_log'").fetchall()}
        checksums = "content_checksums" if "content_checksums" in columns else "null"
        row = connection.execute(f"""
            select publish_id, run_id, published_at, row_counts, total_bookings, {checksums} from meta.publish_log
            order by published_at desc limit 1""").fetchone()
    if row is None:
        return None
    return {"publish_id": row[0], "run_id": row[1], "published_at": row[2], "row_counts": json.loads(row[3]),
            "total_bookings": row[4], "content_checksums": json.loads(row[5]) if row[5] else None}


# how a nightly build hands validated_through to dbt (macros/tests/where_subquery.sql reads it while executing)
VALIDATED_THROUGH_VARIABLE = "CRM_KPIS_VALIDATED_THROUGH"


def validated_through(serving_path: Path) -> str | None:
    """The newest build time (built_at) of a published row: every row built until then was checked by a build's
    data tests and the quality gate before it was published, so a nightly build and gate need check only the rows
    built after it (VALIDATED_THROUGH_VARIABLE in the build's environment). None before the first publish or when
    no served mart keeps rows across builds. As dbt's built_at renders it ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    if not serving_path.exists():
        return None
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        marts = [name for (name,) in connection.execute("""select table_name from information_schema.columns
            where table_schema = 'marts' and column_name = 'built_at' order by 1""").fetchall()]
        if not marts:
            return None
        each = " union all ".join(f"select max(built_at) as built_at from marts.{mart}" for mart in marts)
        newest = connection.execute(f"select max(built_at) from ({each})").fetchone()[0]
    return newest.strftime("%Y-%m-%d %H:%M:%S.%f") if newest else None


def total_bookings(connection: duckdb.DuckDBPyConnection) -> float:
    """Won amount over all of win rate: the gate compares it with what was published."""
    return float(connection.execute("select coalesce(sum(won_amount), 0) from marts.fct_kpi_win_rate").fetchone()[0])


def content_checksum(connection: duckdb.DuckDBPyConnection, table: str) -> str:
    """Order-free checksum of a table's rows: any changed, added or deleted row changes it."""
    alias = table.rsplit(".", 1)[-1]
    count, hashed = connection.execute(f"select count(*), coalesce(sum(hash({alias})), 0) from {table} as {alias}").fetchone()
    return f"{count}:{hashed}"


def serving_file_changes(serving_path: Path) -> list[dict[str, Any]] | None:
    """Each mart of the serving file against the checksum its publish recorded: None before the first
    publish (or one from before checksums); else one row per mart with `intact`."""
    previous = last_publish(serving_path)
    if previous is None or not previous.get("content_checksums"):
        return None
    changes = []
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        present = {name for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        for mart, recorded in sorted(previous["content_checksums"].items()):
            now = content_checksum(connection, f"marts.{mart}") if mart in present else "missing"
            changes.append({"mart": mart, "published": recorded, "now": now, "intact": now == recorded,
                            "publish_id": previous["publish_id"]})
    return changes


def withheld_columns(manifest_path: Path, serve_pii: bool) -> dict[str, list[str]]:
    """Mart columns flagged as personal data in the dbt YAML (`config: {meta: {contains_pii: true}}`),
    which the serving file leaves out unless serving them is switched on."""
    if serve_pii or not manifest_path.exists():
        return {}
    manifest = json.loads(manifest_path.read_text())
    withheld: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("schema") != "marts":
            continue
        flagged = [name for name, column in node["columns"].items()
                   if (column.get("meta") or {}).get("contains_pii") or (column.get("config", {}).get("meta") or {}).get("contains_pii")]
        if flagged:
            withheld[node["name"]] = sorted(flagged)
    return withheld


def _remove_leftovers(serving_dir: Path) -> None:
    """Temporary files of a publish that was killed before its rename."""
    for leftover in serving_dir.glob(".publishing-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _swap_parquet(serving_dir: Path, staged: Path, publish_id: str) -> Path:
    versions = serving_dir / PARQUET_FOLDER
    versions.mkdir(exist_ok=True)
    target = versions / publish_id
    for exported in staged.iterdir():
        exported.chmod(READ_ONLY)
    staged.rename(target)
    link = versions / "current"
    temporary_link = versions / f".current-{publish_id}"
    temporary_link.unlink(missing_ok=True)
    temporary_link.symlink_to(publish_id)
    os.replace(temporary_link, link)
    old = sorted((path for path in versions.iterdir() if path.is_dir() and not path.is_symlink() and path.name != publish_id),
                 key=lambda path: path.name)
    for stale in old[: max(0, len(old) - (KEPT_PARQUET_VERSIONS - 1))]:
        shutil.rmtree(stale, ignore_errors=True)
    return target


def publish(
    warehouse: Path, serving_dir: Path, run_id: str, check_results: list[dict[str, Any]],
    withheld: dict[str, list[str]] | None = None, engine: str = "duckdb", config: WarehouseConfig | None = None,
    descriptions: dict[str, MartDescription] | None = None, storage_version: str = DEFAULT_STORAGE_VERSION,
) -> PublishRecord:
    """`withheld`: per mart, columns not copied (personal data); `descriptions`: the marts' dbt descriptions,
    written as comments; `storage_version`: the DuckDB storage format of the serving file."""
    withheld = withheld or {}
    descriptions = descriptions or {}
    serving_dir.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(serving_dir)
    published_at = datetime.now(UTC)
    publish_id = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    staged_file = serving_dir / f".publishing-{publish_id}.duckdb"
    staged_parquet = serving_dir / f".publishing-{publish_id}-parquet"
    staged_parquet.mkdir()
    previous_file = serving_file(serving_dir)

    # the working DuckDB in memory, the staged file attached in the clients' storage format
    with connect_warehouse(serving_dir / ".publishing-session", read_only=False, config=config, in_memory=True) as connection:
        attach_for_clients(connection, staged_file, "serving", storage_version)
        connection.execute(f"attach '{warehouse.resolve()}' as work (read_only)")
        marts = [name for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_catalog = 'work' and table_schema = 'marts' order by 1").fetchall()]
        connection.execute("create schema marts")
        row_counts: dict[str, int] = {}
        checksums: dict[str, str] = {}
        for mart in marts:
            columns = served_select_list(connection, f"work.marts.{mart}", withheld.get(mart, []))
            connection.execute(f"create table marts.{mart} as select {columns} from work.marts.{mart}")
            comment_mart(connection, f"marts.{mart}", descriptions.get(mart))
            row_counts[mart] = connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            checksums[mart] = content_checksum(connection, f"marts.{mart}")
            connection.execute(f"copy marts.{mart} to '{staged_parquet / (mart + '.parquet')}' (format parquet)")
        bookings = total_bookings(connection) if "fct_kpi_win_rate" in marts else 0.0
        connection.execute("detach work")
        connection.execute("create schema meta")
        connection.execute(PUBLISH_LOG_DDL)
        if previous_file.exists():
            connection.execute(f"attach '{previous_file.resolve()}' as previous (read_only)")
            # by name: entries of older publishes lack the newer columns
            connection.execute("insert into meta.publish_log by name select * from previous.meta.publish_log")
            connection.execute("detach previous")
        connection.execute("insert into meta.publish_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            publish_id, run_id, published_at.replace(tzinfo=None), json.dumps(row_counts), bookings,
            json.dumps(check_results, default=str), json.dumps(checksums), json.dumps(withheld), engine])
        connection.execute("checkpoint")
        connection.execute("use memory")
        connection.execute("detach serving")

    with open(staged_file, "rb") as handle:  # on disk before it becomes visible
        os.fsync(handle.fileno())
    staged_file.chmod(READ_ONLY)
    os.replace(staged_file, previous_file)
    parquet_folder = _swap_parquet(serving_dir, staged_parquet, publish_id)
    return PublishRecord(publish_id, run_id, published_at.isoformat(timespec="seconds"), previous_file, parquet_folder,
                         row_counts, bookings, withheld)
