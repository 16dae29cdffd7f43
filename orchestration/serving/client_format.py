"""What makes the serving file readable by every client, not just this DuckDB release: the storage format,
the column types, and the dbt descriptions as table and column comments.

- Storage: DuckDB writes the newest storage format by default, which older DuckDB releases (the CLI of a
  distribution, the DuckDB drivers bundled in Metabase, DBeaver, Tableau or Power BI connectors) refuse
  ("version number 69, but we can only read versions between 64 and 68"). The file is attached with an
  explicit STORAGE_VERSION: v0.10.0 by default, the oldest that holds everything the marts use (BIGINT,
  INTEGER, DECIMAL, DOUBLE, BOOLEAN, DATE, TIMESTAMP, VARCHAR, and table and column comments, which arrived in
  0.10), so every DuckDB from 0.10 on reads it.
- Types: sums of integers are HUGEINT in DuckDB, which many clients and Parquet read as floating point;
  counts are served as BIGINT (a count that does not fit fails the publish instead of losing digits), 4-byte
  FLOATs as DOUBLE; money stays DECIMAL and ratios DOUBLE as the models make them. The Parquet exports are
  written from the served tables, so they carry the same types.
- Comments: every mart and column gets its dbt description, so a SQL client's catalog explains itself.
- SQLAlchemy: duckdb-engine reflects keys (what Superset and `Table(autoload_with=...)` ask for) with
  Postgres catalog queries that cast to REGCLASS, a type this DuckDB no longer has; the file defines it
  (as the VARCHAR that pg_description.classoid is here), so reflection works from every client unchanged."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

DEFAULT_STORAGE_VERSION = "v0.10.0"
# DuckDB type -> what the serving file holds instead
SERVED_TYPES = {"HUGEINT": "BIGINT", "UHUGEINT": "BIGINT", "FLOAT": "DOUBLE"}


@dataclass(frozen=True)
class MartDescription:
    description: str
    columns: dict[str, str] = field(default_factory=dict)


def mart_descriptions(manifest_path: Path) -> dict[str, MartDescription]:
    """Each mart's dbt description and its columns' (the YAML of models/marts/**), from the manifest."""
    if not manifest_path.exists():
        return {}
    manifest = json.loads(manifest_path.read_text())
    return {node["name"]: MartDescription(" ".join((node.get("description") or "").split()),
                                          {name: " ".join((column.get("description") or "").split())
                                           for name, column in node["columns"].items() if column.get("description")})
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["config"].get("schema") == "marts"}


def attach_for_clients(connection: duckdb.DuckDBPyConnection, path: Path, alias: str, storage_version: str) -> None:
    """Attach a new serving file in the storage format older readers open, and make it the default catalog."""
    connection.execute(f"attach '{path}' as {alias} (storage_version '{storage_version}')")
    connection.execute(f"use {alias}")
    add_client_compatibility_types(connection)


def add_client_compatibility_types(connection: duckdb.DuckDBPyConnection) -> None:
    """Types that clients' catalog queries name (see the module's docstring), in the serving file's main schema."""
    connection.execute("create type main.regclass as varchar")


def served_select_list(connection: duckdb.DuckDBPyConnection, source: str, left_out: list[str]) -> str:
    """The columns of `source` (catalog.schema.table) as the serving file holds them: personal data left
    out, counts as BIGINT, floats as DOUBLE."""
    catalog, schema, table = source.split(".")
    columns = connection.execute("""
        select column_name, data_type from information_schema.columns
        where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position""",
        [catalog, schema, table]).fetchall()
    selected = []
    for name, data_type in columns:
        if name in left_out:
            continue
        served = SERVED_TYPES.get(data_type)
        selected.append(f'cast("{name}" as {served}) as "{name}"' if served else f'"{name}"')
    return ", ".join(selected)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_mart(connection: duckdb.DuckDBPyConnection, table: str, description: MartDescription | None) -> None:
    """The dbt descriptions as comments on the served table and its columns (those it still has)."""
    if description is None:
        return
    if description.description:
        connection.execute(f"comment on table {table} is {_literal(description.description)}")
    schema, name = table.split(".")
    present = {column for (column,) in connection.execute(
        "select column_name from information_schema.columns where table_catalog = current_database() and table_schema = ? "
        "and table_name = ?", [schema, name]).fetchall()}
    for column, text in description.columns.items():
        if column in present:
            connection.execute(f'comment on column {table}."{column}" is {_literal(text)}')


def storage_version_number(path: Path) -> int:
    """The storage version in a DuckDB file's header (64 is what DuckDB 0.9 to 1.1 write and every later
    release reads), to check what a publish wrote without opening it."""
    with open(path, "rb") as handle:
        header = handle.read(20)
    if header[8:12] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB file")
    return int.from_bytes(header[12:20], "little")
