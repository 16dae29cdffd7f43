"""Reading and validating a mapping file.

A mapping file names, per landing-contract table, the export file it comes from and how each contract
column is made from the export's columns:

    tables:
      opportunities:
        file: sales_pipeline.csv
        lookups:                      # optional: a value from another file, as a column for `sql`
          list_price: {file: products.csv, key: product, value: sales_price, from: product,
                       values: {GTXPro: GTX Pro}}
        columns:
          opportunity_id: opportunity_id                 # an export column
          currency: {value: USD}                         # a constant
          stage: {column: deal_stage, values: {Won: Closed Won, Lost: Closed Lost}}   # every value mapped
          industry: {column: sector, values: {technolgy: technology}, strict: false} # the rest kept
          expected_close_date: {column: close_date, format: "%m/%d/%Y"}
          amount: {sql: "coalesce(close_value, list_price)"}                         # DuckDB SQL

Everything is checked before a row is read: unknown tables and contract columns, missing files and
export columns, required contract columns left out. Value maps are exhaustive unless `strict: false`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from orchestration.landing.contract import CONTRACTS
from orchestration.landing.file_source import quote_literal


class MappingError(ValueError):
    """A mapping file that does not fit its export or the landing contract; the message names where."""


@dataclass(frozen=True)
class ColumnRule:
    target: str
    where: str                      # "tables.<table>.columns.<target>", for messages
    column: str | None = None
    value: object | None = None
    sql: str | None = None
    values: dict[str, object] = field(default_factory=dict)
    strict: bool = True
    date_format: str | None = None


@dataclass(frozen=True)
class Lookup:
    name: str
    where: str
    file: Path
    key: str
    value: str
    source_column: str
    values: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TableMapping:
    table: str
    file: Path
    rules: list[ColumnRule]
    lookups: list[Lookup]


@dataclass(frozen=True)
class Mapping:
    path: Path
    name: str
    tables: list[TableMapping]


def read_export_sql(path: Path) -> str:
    """The one way an export file is read, for its header here and for its rows when applied: every
    column as text, the delimiter detected by DuckDB."""
    return f"read_csv({quote_literal(str(path))}, header = true, all_varchar = true, sample_size = -1)"


def _header(path: Path) -> list[str]:
    try:
        with duckdb.connect() as connection:
            return [row[0] for row in connection.execute(f"describe select * from {read_export_sql(path)}").fetchall()]
    except duckdb.Error as error:
        raise MappingError(f"{path}: cannot be read as a CSV file with a header row: {str(error).splitlines()[0]}") from error


def _export_file(mapping_path: Path, input_dir: Path, where: str, name: object) -> Path:
    if not isinstance(name, str) or not name:
        raise MappingError(f"{mapping_path}: {where}: `file` must name a CSV file of the export")
    path = input_dir / name
    if not path.is_file():
        raise MappingError(f"{mapping_path}: {where}: file {name} not found in {input_dir}")
    return path


def _check_column(mapping_path: Path, where: str, column: object, file: Path, header: list[str]) -> str:
    if not isinstance(column, str) or column not in header:
        raise MappingError(
            f"{mapping_path}: {where}: unknown column {column!r} in {file.name} (its columns: {', '.join(header)})")
    return column


def _value_map(mapping_path: Path, where: str, values: object) -> dict[str, object]:
    if values is None:
        return {}
    if not isinstance(values, dict) or not values:
        raise MappingError(f"{mapping_path}: {where}.values: must map export values to contract values")
    return {str(key): value for key, value in values.items()}


def _rule(mapping_path: Path, table: str, target: str, spec: object, file: Path, header: list[str],
          derived: set[str], default_date_format: str | None) -> ColumnRule:
    where = f"tables.{table}.columns.{target}"
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        raise MappingError(f"{mapping_path}: {where}: give an export column, or one of column / value / sql")
    unknown = set(spec) - {"column", "value", "sql", "values", "strict", "format"}
    if unknown:
        raise MappingError(f"{mapping_path}: {where}: unknown setting(s) {', '.join(sorted(unknown))}")
    sources = [key for key in ("column", "value", "sql") if key in spec]
    if len(sources) != 1:
        raise MappingError(f"{mapping_path}: {where}: give exactly one of column, value or sql")
    column = spec.get("column")
    if column is not None and column not in derived:
        _check_column(mapping_path, where, column, file, header)
    contract_type = CONTRACTS[table].columns[target]
    date_format = spec.get("format", default_date_format if contract_type in ("date", "timestamp") else None)
    return ColumnRule(
        target=target, where=where, column=column, value=spec.get("value"), sql=spec.get("sql"),
        values=_value_map(mapping_path, where, spec.get("values")), strict=bool(spec.get("strict", True)),
        date_format=date_format if column is not None else None,
    )


def _lookups(mapping_path: Path, input_dir: Path, table: str, specs: object, file: Path, header: list[str]) -> list[Lookup]:
    if specs is None:
        return []
    if not isinstance(specs, dict):
        raise MappingError(f"{mapping_path}: tables.{table}.lookups: must name lookups")
    lookups = []
    for name, spec in specs.items():
        where = f"tables.{table}.lookups.{name}"
        if not isinstance(spec, dict) or {"file", "key", "value", "from"} - set(spec):
            raise MappingError(f"{mapping_path}: {where}: needs file, key, value and from")
        lookup_file = _export_file(mapping_path, input_dir, where, spec["file"])
        lookup_header = _header(lookup_file)
        _check_column(mapping_path, f"{where}.key", spec["key"], lookup_file, lookup_header)
        _check_column(mapping_path, f"{where}.value", spec["value"], lookup_file, lookup_header)
        _check_column(mapping_path, f"{where}.from", spec["from"], file, header)
        lookups.append(Lookup(name=name, where=where, file=lookup_file, key=spec["key"], value=spec["value"],
                              source_column=spec["from"], values=_value_map(mapping_path, where, spec.get("values"))))
    return lookups


def load_mapping(mapping_path: Path, input_dir: Path) -> Mapping:
    """Read and check a mapping file against the export folder it will be applied to."""
    try:
        document = yaml.safe_load(mapping_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MappingError(f"{mapping_path}: cannot be read: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("tables"), dict) or not document["tables"]:
        raise MappingError(f"{mapping_path}: needs a `tables:` section naming landing-contract tables")
    defaults = document.get("defaults") or {}
    tables = []
    for table, spec in document["tables"].items():
        if table not in CONTRACTS:
            raise MappingError(f"{mapping_path}: tables.{table}: not a table of the landing contract "
                               f"(choose from {', '.join(CONTRACTS)})")
        if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
            raise MappingError(f"{mapping_path}: tables.{table}: needs `file` and `columns`")
        file = _export_file(mapping_path, input_dir, f"tables.{table}", spec.get("file"))
        header = _header(file)
        lookups = _lookups(mapping_path, input_dir, table, spec.get("lookups"), file, header)
        contract = CONTRACTS[table]
        rules = []
        for target, rule_spec in spec["columns"].items():
            if target not in contract.columns:
                raise MappingError(f"{mapping_path}: tables.{table}.columns.{target}: not a column of {table} "
                                   f"(its columns: {', '.join(contract.columns)})")
            rules.append(_rule(mapping_path, table, target, rule_spec, file, header,
                               {lookup.name for lookup in lookups}, defaults.get("date_format")))
        missing = [column for column in contract.required if column not in spec["columns"]]
        if missing:
            raise MappingError(f"{mapping_path}: tables.{table}: required column(s) not mapped: {', '.join(missing)}")
        tables.append(TableMapping(table=table, file=file, rules=rules, lookups=lookups))
    return Mapping(path=mapping_path, name=str(document.get("name") or mapping_path.stem), tables=tables)
