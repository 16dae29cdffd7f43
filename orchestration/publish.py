"""Write-audit-publish, the publish step: copy the audited marts from the working warehouse into a new
serving DuckDB file (plus one Parquet file per mart) and swap it in atomically.

BI tools open only the serving file, read-only. It is never written in place: a new file is built
beside it and renamed over it (atomic on POSIX), so a reader holding the old file keeps reading the
old inode and never blocks the refresh, and a crash at any point leaves the previous file whole.
Each publish is recorded in `meta.publish_log` inside the serving file, history carried forward."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from orchestration.warehouse_connection import connect_warehouse

SERVING_FILE_NAME = "warehouse.duckdb"
PARQUET_FOLDER = "parquet"
KEPT_PARQUET_VERSIONS = 2  # the current one and the one a slow reader may still be reading


@dataclass
class PublishRecord:
    publish_id: str
    run_id: str
    published_at: str
    serving_file: Path
    parquet_folder: Path
    row_counts: dict[str, int]
    total_bookings: float


def serving_file(serving_dir: Path) -> Path:
    return serving_dir / SERVING_FILE_NAME


def last_publish(serving_path: Path) -> dict[str, Any] | None:
    """The latest publish_log entry of a serving file (row counts, total bookings), or None before the first."""
    if not serving_path.exists():
        return None
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        row = connection.execute("""
            select run_id, published_at, row_counts, total_bookings from meta.publish_log
            order by published_at desc limit 1""").fetchone()
    if row is None:
        return None
    return {"run_id": row[0], "published_at": row[1], "row_counts": json.loads(row[2]), "total_bookings": row[3]}


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


def publish(warehouse: Path, serving_dir: Path, run_id: str, check_results: list[dict[str, Any]]) -> PublishRecord:
    serving_dir.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(serving_dir)
    published_at = datetime.now(timezone.utc)
    publish_id = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    staged_file = serving_dir / f".publishing-{publish_id}.duckdb"
    staged_parquet = serving_dir / f".publishing-{publish_id}-parquet"
    staged_parquet.mkdir()
    previous_file = serving_file(serving_dir)

    with connect_warehouse(staged_file, read_only=False) as connection:
        connection.execute(f"attach '{warehouse.resolve()}' as work (read_only)")
        marts = [name for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_catalog = 'work' and table_schema = 'marts' order by 1").fetchall()]
        connection.execute("create schema marts")
        row_counts: dict[str, int] = {}
        for mart in marts:
            connection.execute(f"create table marts.{mart} as select * from work.marts.{mart}")
            row_counts[mart] = connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            connection.execute(f"copy marts.{mart} to '{staged_parquet / (mart + '.parquet')}' (format parquet)")
        total_bookings = float(connection.execute("select coalesce(sum(won_amount), 0) from marts.fct_kpi_win_rate").fetchone()[0]) \
            if "fct_kpi_win_rate" in marts else 0.0
        connection.execute("detach work")
        connection.execute("create schema meta")
        connection.execute("""create table meta.publish_log (
            publish_id varchar, run_id varchar, published_at timestamp, row_counts varchar, total_bookings double,
            check_results varchar)""")
        if previous_file.exists():
            connection.execute(f"attach '{previous_file.resolve()}' as previous (read_only)")
            connection.execute("insert into meta.publish_log select * from previous.meta.publish_log")
            connection.execute("detach previous")
        connection.execute("insert into meta.publish_log values (?, ?, ?, ?, ?, ?)", [
            publish_id, run_id, published_at.replace(tzinfo=None), json.dumps(row_counts), total_bookings,
            json.dumps(check_results, default=str)])
        connection.execute("checkpoint")

    with open(staged_file, "rb") as handle:  # on disk before it becomes visible
        os.fsync(handle.fileno())
    os.replace(staged_file, previous_file)
    parquet_folder = _swap_parquet(serving_dir, staged_parquet, publish_id)
    return PublishRecord(publish_id, run_id, published_at.isoformat(timespec="seconds"), previous_file, parquet_folder,
                         row_counts, total_bookings)
