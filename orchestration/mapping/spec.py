"""Reading and validating a mapping file.

A mapping file names, per landing-contract table, the export file it comes from (optionally joined with
more files of the export) and how each contract column is made from the export's columns:

    defaults: {date_format: "%Y-%m-%d", timezone: America/New_York}
    tables:
      opportunities:
        file: sales_pipeline.csv
        join:                         # optional: more files, one row each per row of `file`
          - {file: deals.csv, on: {opportunity_id: deal_id}, how: left}
        lookups:                      # optional: a value from another file, as a column for `sql`
          list_price: {file: products.csv, key: product, value: sales_price, from: product,
                       values: {GTXPro: GTX Pro}, required: false}
        columns:
          opportunity_id: opportunity_id                 # an export column (`deals.won_date` names a joined file's)
          currency: {value: USD}                         # a constant
          stage: {column: deal_stage, values: {Won: Closed Won, Lost: Closed Lost}}   # every value mapped
          industry: {column: sector, values: {technolgy: technology}, strict: false} # the rest kept
          expected_close_date: {column: close_date, format: "%m/%d/%Y"}
          closed_at: {column: deals.won_date, timezone: America/Sao_Paulo}
          amount: {sql: "coalesce(close_value, list_price)"}                         # DuckDB SQL

Everything is checked before a row is read: every setting at every level (an unknown one is an error,
never ignored), unknown tables and contract columns, missing files and export columns, ambiguous
columns of joined files, required contract columns left out, time zones, date formats, and value maps
onto canonical stages, lead sources and activity types. File names are relative to the --input folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from orchestration.landing.contract import CONTRACTS
from orchestration.landing.file_source import quote_identifier, quote_literal
from orchestration.settings import dbt_project_vars

from .canonical import CanonicalValues, canonical_values
from .document import as_bool, as_mapping, as_text, check_settings, read_document
from .errors import MappingError
from .temporal import TEMPORAL_TYPES

TOP_SETTINGS = ("name", "defaults", "tables")
DEFAULT_SETTINGS = ("date_format", "timezone")
TABLE_SETTINGS = ("file", "as", "join", "lookups", "columns")
JOIN_SETTINGS = ("file", "on", "how", "as")
LOOKUP_SETTINGS = ("file", "key", "value", "from", "values", "required")
COLUMN_SETTINGS = ("column", "value", "sql", "values", "strict", "format", "timezone")
JOIN_KINDS = ("left", "inner")
LOOKUP_PREFIX = "_lookup:"


@dataclass(frozen=True)
class ExportFile:
    alias: str                      # its name in column references and `sql`: `deals.won_date`
    path: Path
    header: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class ColumnRef:
    """A column of one of a table's export files, or a lookup's value, as SQL over the table's relation."""
    sql: str
    file: ExportFile                # the file whose line a message about this column names
    label: str                      # as the mapping wrote it


@dataclass(frozen=True)
class Join:
    where: str
    file: ExportFile
    keys: tuple[tuple[ColumnRef, str], ...]          # (column of the files before, column of this file)
    how: str


@dataclass(frozen=True)
class Lookup:
    name: str
    where: str
    file: Path
    key: str
    value: str
    source: ColumnRef
    values: dict[str, object] = field(default_factory=dict)
    required: bool = True

    @property
    def value_sql(self) -> str:
        return f"{quote_identifier(LOOKUP_PREFIX + self.name)}.{quote_identifier(self.name)}"


@dataclass(frozen=True)
class ColumnRule:
    target: str
    where: str                      # "tables.<table>.columns.<target>", for messages
    contract_type: str
    column: ColumnRef | None = None
    value: object | None = None
    sql: str | None = None
    values: dict[str, object] = field(default_factory=dict)
    strict: bool = True
    formats: tuple[str, ...] = ()
    timezone: str | None = None     # the export's zone for this column's wall-clock values
    canonical: CanonicalValues | None = None

    @property
    def is_constant(self) -> bool:
        return self.column is None and self.sql is None


@dataclass(frozen=True)
class TableMapping:
    table: str
    files: tuple[ExportFile, ...]   # the table's `file` first, then each joined file
    joins: tuple[Join, ...]
    lookups: tuple[Lookup, ...]
    rules: tuple[ColumnRule, ...]

    @property
    def main(self) -> ExportFile:
        return self.files[0]

    @property
    def file(self) -> Path:
        return self.main.path


@dataclass(frozen=True)
class Mapping:
    path: Path
    name: str
    input_dir: Path
    business_timezone: str
    tables: tuple[TableMapping, ...]


def read_export_sql(path: Path) -> str:
    """The one way an export file is read, for its header here and for its rows when applied: every
    column as text, the delimiter detected by DuckDB."""
    return f"read_csv({quote_literal(str(path))}, header = true, all_varchar = true, sample_size = -1)"


def _header(path: Path) -> tuple[str, ...]:
    try:
        with duckdb.connect() as connection:
            return tuple(row[0] for row in connection.execute(f"describe select * from {read_export_sql(path)}").fetchall())
    except duckdb.Error as error:
        raise MappingError(f"{path}: cannot be read as a CSV file with a header row: {str(error).splitlines()[0]}") from error


def _export_file(mapping_path: Path, input_dir: Path, where: str, name: object) -> Path:
    as_text(mapping_path, f"{where}.file", name, "the name of a CSV file of the export")
    path = input_dir / name
    if not path.is_file():
        raise MappingError(f"{mapping_path}: {where}: file {name} not found in {input_dir}")
    return path


@cache
def _zone_is_known(zone: str) -> bool:
    with duckdb.connect() as connection:
        try:
            connection.execute("select timezone(?, timestamp '2000-01-01')", [zone])
        except duckdb.Error:
            return False
    return True


def _timezone(mapping_path: Path, where: str, zone: object) -> str:
    as_text(mapping_path, where, zone, "an IANA time zone such as America/New_York")
    if not _zone_is_known(zone):
        raise MappingError(f"{mapping_path}: {where}: unknown time zone {zone!r} (an IANA name such as America/New_York)")
    return zone


def _formats(mapping_path: Path, where: str, spec: object) -> tuple[str, ...]:
    formats = tuple(spec) if isinstance(spec, list) else (spec,)
    if not formats:
        raise MappingError(f"{mapping_path}: {where}: give a strptime format such as \"%d.%m.%Y\", or a list of them")
    with duckdb.connect() as connection:
        for date_format in formats:
            as_text(mapping_path, where, date_format, "a strptime format such as \"%d.%m.%Y\" (or a list of them)")
            try:
                connection.execute("select try_strptime('', ?)", [date_format])
            except duckdb.Error as error:
                raise MappingError(f"{mapping_path}: {where}: {date_format!r} is not a strptime format: "
                                   f"{str(error).splitlines()[0]}") from error
    return formats


def _qualified(file: ExportFile, column: str) -> ColumnRef:
    return ColumnRef(f"{quote_identifier(file.alias)}.{quote_identifier(column)}", file, column)


def _listed_columns(files: tuple[ExportFile, ...]) -> str:
    if len(files) == 1:
        return f"{files[0].name} (its columns: {', '.join(files[0].header)})"
    names = " or ".join(file.name for file in files)
    return f"{names} (their columns: {', '.join(f'{file.alias}.{column}' for file in files for column in file.header)})"


def resolve_column(mapping_path: Path, where: str, reference: object, files: tuple[ExportFile, ...],
                   lookups: dict[str, ColumnRef] | None = None) -> ColumnRef:
    """An export column by its name, unambiguous among `files`, or qualified by a file (`deals.won_date`,
    the file named by its `as`, its name without extension, or its full name), or a lookup's name."""
    if not isinstance(reference, str) or not reference:
        raise MappingError(f"{mapping_path}: {where}: must name an export column, not {reference!r}")
    candidates = {}
    if lookups and reference in lookups:
        candidates[lookups[reference].sql] = lookups[reference]
    for file in files:
        if reference in file.header:
            candidates.setdefault(_qualified(file, reference).sql, _qualified(file, reference))
        for qualifier in dict.fromkeys((file.alias, file.name)):
            column = reference[len(qualifier) + 1:]
            if reference.startswith(qualifier + ".") and column in file.header:
                candidates.setdefault(_qualified(file, column).sql, _qualified(file, column))
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    if candidates:
        choices = " or ".join(f"{ref.file.alias}.{ref.label}" for ref in candidates.values())
        raise MappingError(f"{mapping_path}: {where}: column {reference!r} is ambiguous: write {choices}")
    raise MappingError(f"{mapping_path}: {where}: unknown column {reference!r} in {_listed_columns(files)}")


def _value_map(mapping_path: Path, where: str, values: object) -> dict[str, object]:
    if values is None:
        return {}
    if not isinstance(values, dict) or not values:
        raise MappingError(f"{mapping_path}: {where}.values: must map export values to contract values")
    for key, value in values.items():
        if isinstance(value, (dict, list)):
            raise MappingError(f"{mapping_path}: {where}.values.{key}: must be one value, not {value!r}")
    return {str(key): value for key, value in values.items()}


def _check_canonical_targets(mapping_path: Path, where: str, canonical: CanonicalValues | None,
                             targets: dict[str, object]) -> None:
    if canonical is None:
        return
    for setting, value in targets.items():
        if value is not None and not canonical.holds(value):
            raise MappingError(f"{mapping_path}: {setting}: {value!r} is not {canonical.what}; "
                               f"choose from {', '.join(canonical.values)}")


def _alias(mapping_path: Path, where: str, spec: dict, path: Path, taken: dict[str, str]) -> str:
    alias = as_text(mapping_path, f"{where}.as", spec["as"], "a name for the file") if "as" in spec else path.stem
    if alias in taken:
        raise MappingError(f"{mapping_path}: {where}: {path.name} would be called {alias!r} like {taken[alias]} "
                           f"in column references: give it another name with `as`")
    taken[alias] = path.name
    return alias


def _join_keys(mapping_path: Path, where: str, spec: object, before: tuple[ExportFile, ...],
               joined: ExportFile) -> tuple[tuple[ColumnRef, str], ...]:
    if isinstance(spec, str):
        spec = {spec: spec}
    elif isinstance(spec, list) and all(isinstance(column, str) for column in spec):
        spec = {column: column for column in spec}
    if not isinstance(spec, dict) or not spec:
        raise MappingError(f"{mapping_path}: {where}: give the key as {{column of the files before: column of "
                           f"{joined.name}}}, or one column name both files share")
    keys = []
    for left, right in spec.items():
        left_ref = resolve_column(mapping_path, f"{where}.{left}", left, before)
        right_ref = resolve_column(mapping_path, f"{where}.{left}", right, (joined,))
        keys.append((left_ref, right_ref.label))
    return tuple(keys)


def _files(mapping_path: Path, input_dir: Path, table: str, spec: dict) -> tuple[tuple[ExportFile, ...], tuple[Join, ...]]:
    where = f"tables.{table}"
    main_path = _export_file(mapping_path, input_dir, where, spec.get("file"))
    taken: dict[str, str] = {}
    files = (ExportFile(_alias(mapping_path, where, spec, main_path, taken), main_path, _header(main_path)),)
    joins = []
    entries = spec.get("join") or []
    for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        join_where = f"{where}.join[{index}]"
        entry = as_mapping(mapping_path, join_where, entry, "a mapping with file, on and how")
        check_settings(mapping_path, join_where, entry, JOIN_SETTINGS)
        if "on" not in entry:
            raise MappingError(f"{mapping_path}: {join_where}: needs `on`, the key to join by")
        path = _export_file(mapping_path, input_dir, join_where, entry.get("file"))
        joined = ExportFile(_alias(mapping_path, join_where, entry, path, taken), path, _header(path))
        how = entry.get("how", "left")
        if how not in JOIN_KINDS:
            raise MappingError(f"{mapping_path}: {join_where}.how: {how!r} is not one of {', '.join(JOIN_KINDS)} "
                               f"(left keeps rows without a match, inner drops them)")
        joins.append(Join(join_where, joined, _join_keys(mapping_path, f"{join_where}.on", entry["on"], files, joined), how))
        files = (*files, joined)
    return files, tuple(joins)


def _lookups(mapping_path: Path, input_dir: Path, table: str, specs: object, files: tuple[ExportFile, ...]) -> tuple[Lookup, ...]:
    if specs is None:
        return ()
    as_mapping(mapping_path, f"tables.{table}.lookups", specs, "a mapping of lookup names to lookups")
    lookups = []
    for name, spec in specs.items():
        where = f"tables.{table}.lookups.{name}"
        spec = as_mapping(mapping_path, where, spec, "a mapping with file, key, value and from")
        check_settings(mapping_path, where, spec, LOOKUP_SETTINGS)
        if {"file", "key", "value", "from"} - set(spec):
            raise MappingError(f"{mapping_path}: {where}: needs file, key, value and from")
        owners = [file.name for file in files if name in file.header]
        if owners:
            raise MappingError(f"{mapping_path}: {where}: {name!r} is also a column of {owners[0]}: give the lookup another name")
        lookup_file = _export_file(mapping_path, input_dir, where, spec["file"])
        lookup_export = ExportFile(lookup_file.stem, lookup_file, _header(lookup_file))
        key = resolve_column(mapping_path, f"{where}.key", spec["key"], (lookup_export,)).label
        value = resolve_column(mapping_path, f"{where}.value", spec["value"], (lookup_export,)).label
        source = resolve_column(mapping_path, f"{where}.from", spec["from"], files)
        required = as_bool(mapping_path, f"{where}.required", spec.get("required", True))
        lookups.append(Lookup(name=name, where=where, file=lookup_file, key=key, value=value, source=source,
                              values=_value_map(mapping_path, where, spec.get("values")), required=required))
    return tuple(lookups)


def _source_settings(mapping_path: Path, where: str, spec: dict, contract_type: str) -> None:
    sources = [key for key in ("column", "value", "sql") if key in spec]
    if len(sources) != 1:
        raise MappingError(f"{mapping_path}: {where}: give exactly one of column, value or sql")
    if "sql" in spec:
        as_text(mapping_path, f"{where}.sql", spec["sql"], "a DuckDB SQL expression")
    if "values" in spec and "value" in spec:
        raise MappingError(f"{mapping_path}: {where}.values: maps the values of a column or sql, not of a constant")
    if "strict" in spec and "values" not in spec:
        raise MappingError(f"{mapping_path}: {where}.strict: only applies with `values`")
    for setting in ("format", "timezone"):
        if setting in spec and contract_type not in TEMPORAL_TYPES:
            raise MappingError(f"{mapping_path}: {where}.{setting}: only applies to date and timestamp columns "
                               f"(this one is {contract_type})")
    if "format" in spec and "value" in spec:
        raise MappingError(f"{mapping_path}: {where}.format: a constant is written in ISO form (2017-12-31 or "
                           f"2017-12-31 00:00:00); format applies to column or sql")


def _rule(mapping_path: Path, table: str, target: str, spec: object, files: tuple[ExportFile, ...],
          lookups: dict[str, ColumnRef], defaults: dict) -> ColumnRule:
    where = f"tables.{table}.columns.{target}"
    if isinstance(spec, str):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        raise MappingError(f"{mapping_path}: {where}: give an export column, or one of column / value / sql")
    check_settings(mapping_path, where, spec, COLUMN_SETTINGS)
    contract_type = CONTRACTS[table].columns[target]
    _source_settings(mapping_path, where, spec, contract_type)
    column = resolve_column(mapping_path, where, spec["column"], files, lookups) if "column" in spec else None
    temporal = contract_type in TEMPORAL_TYPES
    formats = ()
    if "format" in spec:
        formats = _formats(mapping_path, f"{where}.format", spec["format"])
    elif temporal and column is not None and "date_format" in defaults:
        formats = _formats(mapping_path, "defaults.date_format", defaults["date_format"])
    zone = None
    if "timezone" in spec:
        zone = _timezone(mapping_path, f"{where}.timezone", spec["timezone"])
    elif temporal and "timezone" in defaults:
        zone = _timezone(mapping_path, "defaults.timezone", defaults["timezone"])
    values = _value_map(mapping_path, where, spec.get("values"))
    canonical = canonical_values(table, target)
    _check_canonical_targets(mapping_path, where, canonical, {f"{where}.values.{key}": value for key, value in values.items()})
    if "value" in spec:
        _check_canonical_targets(mapping_path, where, canonical, {f"{where}.value": spec["value"]})
    return ColumnRule(
        target=target, where=where, contract_type=contract_type, column=column, value=spec.get("value"),
        sql=spec.get("sql"), values=values, strict=as_bool(mapping_path, f"{where}.strict", spec.get("strict", True)),
        formats=formats, timezone=zone, canonical=canonical,
    )


def _table(mapping_path: Path, input_dir: Path, table: str, spec: object, defaults: dict) -> TableMapping:
    where = f"tables.{table}"
    if table not in CONTRACTS:
        raise MappingError(f"{mapping_path}: {where}: not a table of the landing contract (choose from {', '.join(CONTRACTS)})")
    spec = as_mapping(mapping_path, where, spec, "a mapping with file and columns")
    check_settings(mapping_path, where, spec, TABLE_SETTINGS)
    if not isinstance(spec.get("columns"), dict) or "file" not in spec:
        raise MappingError(f"{mapping_path}: {where}: needs `file` and `columns`")
    files, joins = _files(mapping_path, input_dir, table, spec)
    lookups = _lookups(mapping_path, input_dir, table, spec.get("lookups"), files)
    lookup_columns = {lookup.name: ColumnRef(lookup.value_sql, lookup.source.file, lookup.name) for lookup in lookups}
    contract = CONTRACTS[table]
    rules = []
    for target, rule_spec in spec["columns"].items():
        if target not in contract.columns:
            raise MappingError(f"{mapping_path}: {where}.columns.{target}: not a column of {table} "
                               f"(its columns: {', '.join(contract.columns)})")
        rules.append(_rule(mapping_path, table, target, rule_spec, files, lookup_columns, defaults))
    missing = [column for column in contract.required if column not in spec["columns"]]
    if missing:
        raise MappingError(f"{mapping_path}: {where}: required column(s) not mapped: {', '.join(missing)}")
    return TableMapping(table=table, files=files, joins=joins, lookups=lookups, rules=tuple(rules))


def _name(mapping_path: Path, document: dict) -> str:
    if "name" not in document:
        return mapping_path.stem
    name = as_text(mapping_path, "name", document["name"], "a name for the written files")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise MappingError(f"{mapping_path}: name: {name!r} becomes part of file names: use letters, digits, _ . -")
    return name


def _defaults(mapping_path: Path, document: dict) -> dict:
    defaults = document.get("defaults")
    if defaults is None:
        return {}
    defaults = as_mapping(mapping_path, "defaults", defaults, "a mapping (date_format, timezone)")
    check_settings(mapping_path, "defaults", defaults, DEFAULT_SETTINGS)
    return defaults


def load_mapping(mapping_path: Path, input_dir: Path, business_timezone: str | None = None) -> Mapping:
    """Read and check a mapping file against the export folder it will be applied to. Date-only values of
    timestamp columns are local dates of `business_timezone` (the CLI passes the settings' one,
    CRM_KPIS_BUSINESS_TIMEZONE, which the warehouse buckets dates by; default the project's) unless the
    mapping names the export's zone."""
    document = read_document(mapping_path)
    if not isinstance(document, dict):
        raise MappingError(f"{mapping_path}: needs a `tables:` section naming landing-contract tables")
    check_settings(mapping_path, "", document, TOP_SETTINGS)
    if not isinstance(document.get("tables"), dict) or not document["tables"]:
        raise MappingError(f"{mapping_path}: needs a `tables:` section naming landing-contract tables")
    zone = business_timezone or str(dbt_project_vars()["business_timezone"])
    if not _zone_is_known(zone):
        raise MappingError(f"CRM_KPIS_BUSINESS_TIMEZONE: unknown time zone {zone!r} (an IANA name such as Europe/Copenhagen)")
    defaults = _defaults(mapping_path, document)
    input_dir = input_dir.resolve()
    tables = tuple(_table(mapping_path, input_dir, table, spec, defaults) for table, spec in document["tables"].items())
    return Mapping(path=mapping_path, name=_name(mapping_path, document), input_dir=input_dir,
                   business_timezone=zone, tables=tables)
