"""Write-audit-publish, the publish step: copy the audited marts from the working warehouse into a new
serving DuckDB file (plus one Parquet file per mart) and swap it in atomically.

BI tools open only the serving file, read-only. It is never written in place: a new file is built
beside it and renamed over it (atomic on POSIX), so a reader holding the old file keeps reading the
old inode and never blocks the refresh, and a crash at any point leaves the previous file whole.
The file and the Parquet exports are made read-only (0444) so a client that forgets `read_only`
cannot change them; a content checksum per mart is recorded so the next gate notices if one was (it reads the marts
again only when the file's inode, size or times moved since its publish: warehouse.duckdb.published.json).
Columns holding personal data (dbt column meta `contains_pii`) are not copied unless
CRM_KPIS_SERVE_PII=1. Each publish is recorded in `meta.publish_log` inside the serving file,
history carried forward. The file is written for clients older than this DuckDB (storage format, types,
comments: orchestration/serving/client_format.py)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from orchestration.serving.client_format import (
    DEFAULT_STORAGE_VERSION,
    MartDescription,
    attach_for_clients,
    comment_mart,
    served_select_list,
    storage_version_number,
)
from orchestration.settings import WarehouseConfig
from orchestration.warehouse_connection import connect_warehouse

SERVING_FILE_NAME = "warehouse.duckdb"
PARQUET_FOLDER = "parquet"
KEPT_PARQUET_VERSIONS = 2  # the current one and the one a slow reader may still be reading
READ_ONLY = 0o444
# beside the serving file: what it was on disk when its publish put it in place, so a gate can tell it was not written
# since without reading every mart (serving_file_changes)
PUBLISHED_IDENTITY_SUFFIX = ".published.json"
PUBLISH_LOG_DDL = """create table meta.publish_log (
    publish_id varchar, run_id varchar, published_at timestamp, row_counts varchar, total_bookings double,
    check_results varchar, content_checksums varchar, withheld_columns varchar, engine varchar)"""
PUBLISH_LOG_COLUMNS = tuple(column.split()[0] for column in PUBLISH_LOG_DDL.split("(", 1)[1].rsplit(")", 1)[0].split(","))


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
    # marts brought up to date from the last publish's copy by the rows built since, and marts whose Parquet file is
    # the last publish's
    changes_applied: list[str] = field(default_factory=list)
    parquet_linked: list[str] = field(default_factory=list)


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


def content_checksum(connection: duckdb.DuckDBPyConnection, table: str, alias: str | None = None) -> str:
    """Order-free checksum of a table's rows (or of a parenthesised query's, named by `alias`): any changed, added
    or deleted row changes it."""
    alias = alias or table.rsplit(".", 1)[-1]
    count, hashed = connection.execute(f"select count(*), coalesce(sum(hash({alias})), 0) from {table} as {alias}").fetchone()
    return f"{count}:{hashed}"


def _file_identity(path: Path) -> dict[str, int]:
    status = path.stat()
    return {"inode": status.st_ino, "size": status.st_size, "modified_ns": status.st_mtime_ns, "changed_ns": status.st_ctime_ns}


def _identity_record(serving_path: Path) -> Path:
    return serving_path.with_name(serving_path.name + PUBLISHED_IDENTITY_SUFFIX)


def _record_identity(serving_path: Path, publish_id: str) -> None:
    """What the serving file is on disk right after `publish_id` put it in place (written beside it, atomically)."""
    record = _identity_record(serving_path)
    temporary = record.with_name(f".publishing-{publish_id}{PUBLISHED_IDENTITY_SUFFIX}")
    temporary.write_text(json.dumps({"publish_id": publish_id, **_file_identity(serving_path)}))
    os.replace(temporary, record)


def _untouched_since(serving_path: Path, publish_id: str) -> bool:
    """Whether the serving file is the very file `publish_id` put in place, not written since: same inode, size,
    modification and status-change times as recorded then. Anything that writes to the file (a client that opened it
    without read_only and checkpointed, a copy over it) moves one of them; only a writer that deliberately set the
    times back would go unseen, and the mart checksums are for mistakes, not for such a writer."""
    try:
        recorded = json.loads(_identity_record(serving_path).read_text())
        return recorded.pop("publish_id") == publish_id and recorded == _file_identity(serving_path)
    except (OSError, ValueError, KeyError, AttributeError):
        return False


def serving_file_changes(serving_path: Path) -> list[dict[str, Any]] | None:
    """Each mart of the serving file against the checksum its publish recorded: None before the first
    publish (or one from before checksums); else one row per mart with `intact`. The marts are read and
    checksummed only when the file is no longer exactly as its publish left it (_untouched_since): at 10M
    opportunities reading every served row took 12 s of each quality gate."""
    previous = last_publish(serving_path)
    if previous is None or not previous.get("content_checksums"):
        return None
    published = previous["content_checksums"]
    now = dict(published) if _untouched_since(serving_path, previous["publish_id"]) else _served_checksums(serving_path, published)
    return [{"mart": mart, "published": recorded, "now": now[mart], "intact": now[mart] == recorded,
             "publish_id": previous["publish_id"]} for mart, recorded in sorted(published.items())]


def _served_checksums(serving_path: Path, marts: Iterable[str]) -> dict[str, str]:
    """The checksum of each of `marts` as the serving file holds it now ('missing' for one it lacks)."""
    with duckdb.connect(str(serving_path), read_only=True) as connection:
        present = {name for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        return {mart: content_checksum(connection, f"marts.{mart}") if mart in present else "missing" for mart in marts}


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


def replace_keys(manifest_path: Path) -> dict[str, list[str]]:
    """The marts a build keeps across builds (incremental, with built_at) and the key a build replaces their rows by
    (the model's unique_key), from the manifest: what publish needs to apply only the rows built since its last
    publish to them."""
    if not manifest_path.exists():
        return {}
    keys: dict[str, list[str]] = {}
    for node in json.loads(manifest_path.read_text())["nodes"].values():
        config = node["config"]
        if (node["resource_type"] == "model" and config.get("schema") == "marts" and config.get("materialized") == "incremental"
                and config.get("unique_key") and "built_at" in node["columns"]):
            key = config["unique_key"]
            keys[node["name"]] = [key] if isinstance(key, str) else list(key)
    return keys


def _reusable(previous_file: Path, storage_version: str, scratch: Path) -> bool:
    """Whether the last serving file can be the start of the next: it exists, has the storage format the settings
    ask for (a probe file written in that format tells which number that is) and a publish log of today's columns."""
    if not previous_file.exists():
        return False
    probe = scratch.with_suffix(".probe.duckdb")
    try:
        with duckdb.connect() as connection:
            connection.execute(f"attach '{probe}' as probe (storage_version '{storage_version}')")
            connection.execute("create table probe.t (i integer)")
            connection.execute("detach probe")
            connection.execute(f"attach '{previous_file.resolve()}' as previous (read_only)")
            logged = [name for (name,) in connection.execute(
                "select column_name from information_schema.columns where table_catalog = 'previous' and table_schema = 'meta' "
                "and table_name = 'publish_log' order by ordinal_position").fetchall()]
        return storage_version_number(previous_file) == storage_version_number(probe) and logged == list(PUBLISH_LOG_COLUMNS)
    except (duckdb.Error, ValueError, OSError):
        return False
    finally:
        probe.unlink(missing_ok=True)


def _apply_changes(connection: duckdb.DuckDBPyConnection, mart: str, columns: str, key: list[str]) -> str | None:
    """Bring the served copy of `mart` (the last publish's) up to the warehouse's: delete the rows whose key the
    warehouse no longer holds unchanged, insert the rows built since. Every row built up to the newest build the
    served copy holds was published then and has not changed since (a build replaces the rows of a key it touches,
    and every row it writes carries its later build time), so that is the whole difference. The result is checked
    against the warehouse's rows by their checksum; the checksum when they agree, else None (the caller then copies
    the mart whole)."""
    served, source = f"marts.{mart}", f"work.marts.{mart}"
    if connection.execute("select count(*) from information_schema.tables where table_catalog = 'serving' "
                          "and table_schema = 'marts' and table_name = ?", [mart]).fetchone()[0] == 0:
        return None
    shape = "select column_name, column_type from (describe {})"
    if connection.execute(shape.format(served)).fetchall() != connection.execute(shape.format(f"select {columns} from {source}")).fetchall():
        return None
    since = connection.execute(f"select max(built_at) from {served}").fetchone()[0]
    if since is None:
        return None
    # by a hash of the key: a join on an 8-byte number, whatever the key's type (a collision can only keep a row
    # that should go, which the checksum below finds)
    hashed = "hash(" + ", ".join(f'"{column}"' for column in key) + ")"
    connection.execute(f"delete from {served} where {hashed} not in (select {hashed} from {source} where built_at <= ?)", [since])
    connection.execute(f"insert into {served} select {columns} from {source} where built_at > ?", [since])
    checksum = content_checksum(connection, served)
    return checksum if checksum == content_checksum(connection, f"(select {columns} from {source})", mart) else None


def _export_parquet(connection: duckdb.DuckDBPyConnection, mart: str, checksum: str, previous: Path | None, staged: Path,
                    previously_published: str | None) -> bool:
    """The mart's Parquet file: the previous publish's, linked, when the mart's rows are those the last publish
    recorded (`previously_published`, its checksum) and the file holds them (read back and checksummed), else
    written anew. True when linked."""
    target = staged / f"{mart}.parquet"
    if previous is not None and checksum == previously_published and (previous / target.name).exists():
        earlier = previous / target.name
        try:
            if content_checksum(connection, f"read_parquet('{earlier}')", mart) == checksum:
                os.link(earlier, target)
                return True
        except (duckdb.Error, OSError):
            pass
    connection.execute(f"copy marts.{mart} to '{target}' (format parquet)")
    return False


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
    changed_since_last: dict[str, list[str]] | None = None,
) -> PublishRecord:
    """`withheld`: per mart, columns not copied (personal data); `descriptions`: the marts' dbt descriptions,
    written as comments; `storage_version`: the DuckDB storage format of the serving file.

    `changed_since_last` (a nightly refresh; `replace_keys(manifest)`): the marts a build keeps across builds and
    their keys. The new file then starts as a copy of the last one, and those marts get only the rows built since
    (each checked against the warehouse by its checksum, copied whole when that differs); every other mart is
    copied whole. Without it (a full refresh, which rebuilds every row anyway) the file is written afresh. A mart's
    Parquet file is the last publish's, linked, when its rows did not change."""
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
    previous_parquet = serving_dir / PARQUET_FOLDER / "current"
    previous_parquet = previous_parquet.resolve() if previous_parquet.exists() else None
    # a mart whose rows changed since is written anew without reading its old Parquet file back
    previous_checksums = ((last_publish(previous_file) if previous_file.exists() else None) or {}).get("content_checksums") or {}
    incremental = changed_since_last is not None and _reusable(previous_file, storage_version, staged_file)
    if incremental:
        shutil.copyfile(previous_file, staged_file)  # a new inode: readers of the last file keep theirs
    applied: list[str] = []
    linked: list[str] = []

    # the working DuckDB in memory, the staged file attached in the clients' storage format
    with connect_warehouse(serving_dir / ".publishing-session", read_only=False, config=config, in_memory=True) as connection:
        if incremental:
            connection.execute(f"attach '{staged_file}' as serving")
            connection.execute("use serving")
        else:
            attach_for_clients(connection, staged_file, "serving", storage_version)
            connection.execute("create schema marts")
        connection.execute(f"attach '{warehouse.resolve()}' as work (read_only)")
        marts = [name for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_catalog = 'work' and table_schema = 'marts' order by 1").fetchall()]
        for (gone,) in connection.execute("select table_name from information_schema.tables where table_catalog = 'serving' "
                                          "and table_schema = 'marts' and table_name not in (select unnest(?))", [marts]).fetchall():
            connection.execute(f"drop table marts.{gone}")
        row_counts: dict[str, int] = {}
        checksums: dict[str, str] = {}
        for mart in marts:
            columns = served_select_list(connection, f"work.marts.{mart}", withheld.get(mart, []))
            checksum = _apply_changes(connection, mart, columns, changed_since_last[mart]) \
                if incremental and mart in (changed_since_last or {}) else None
            if checksum is None:
                connection.execute(f"create or replace table marts.{mart} as select {columns} from work.marts.{mart}")
                checksum = content_checksum(connection, f"marts.{mart}")
            else:
                applied.append(mart)
            comment_mart(connection, f"marts.{mart}", descriptions.get(mart))
            row_counts[mart] = int(checksum.split(":", 1)[0])
            checksums[mart] = checksum
            if _export_parquet(connection, mart, checksum, previous_parquet, staged_parquet, previous_checksums.get(mart)):
                linked.append(mart)
        bookings = total_bookings(connection) if "fct_kpi_win_rate" in marts else 0.0
        connection.execute("detach work")
        if not incremental:  # the copy holds the log of every publish before it already
            connection.execute("create schema meta")
            connection.execute(PUBLISH_LOG_DDL)
            if previous_file.exists():
                connection.execute(f"attach '{previous_file.resolve()}' as previous (read_only)")
                # by name: entries of older publishes lack the newer columns
                connection.execute("insert into meta.publish_log by name select * from previous.meta.publish_log")
                connection.execute("detach previous")
        connection.execute(f"insert into meta.publish_log ({', '.join(PUBLISH_LOG_COLUMNS)}) values ({', '.join('?' for _ in PUBLISH_LOG_COLUMNS)})", [
            publish_id, run_id, published_at.replace(tzinfo=None), json.dumps(row_counts), bookings,
            json.dumps(check_results, default=str), json.dumps(checksums), json.dumps(withheld), engine])
        connection.execute("checkpoint")
        connection.execute("use memory")
        connection.execute("detach serving")

    with open(staged_file, "rb") as handle:  # on disk before it becomes visible
        os.fsync(handle.fileno())
    staged_file.chmod(READ_ONLY)
    os.replace(staged_file, previous_file)
    _record_identity(previous_file, publish_id)
    parquet_folder = _swap_parquet(serving_dir, staged_parquet, publish_id)
    return PublishRecord(publish_id, run_id, published_at.isoformat(timespec="seconds"), previous_file, parquet_folder,
                         row_counts, bookings, withheld, applied, linked)
