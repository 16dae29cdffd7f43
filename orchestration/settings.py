"""Every setting of crm-kpis, read once into one `Settings` object and passed down.

Where a value comes from, first match wins:
1. an environment variable (`CRM_KPIS_...`, listed in RUNTIME_SETTINGS and, for dbt vars, `CRM_KPIS_<VAR>`);
2. the home's settings file, `$CRM_KPIS_HOME/crm-kpis.toml` (the demo writes its as-of date there, so
   later commands and the Dagster UI of that home see the same "today"), keys as below in lower case
   without the prefix (`as_of_date = "2026-06-30"`);
3. the default: for runtime settings in RUNTIME_SETTINGS, for dbt vars in `dbt_project.yml` (`vars:`,
   the one home of the KPI conventions: reporting currency, business time zone, fiscal year, ...).

dbt receives every var through `--vars` from `Settings.dbt_vars()` (`crm-kpis dbt …` runs dbt so), and
nothing in the dbt project reads the environment itself."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
SETTINGS_FILE_NAME = "crm-kpis.toml"
ENV_PREFIX = "CRM_KPIS_"
# dbt vars whose environment variable is not CRM_KPIS_<VAR>
DBT_VAR_ENVIRONMENT = {"crm_sources": "CRM_KPIS_SOURCES"}
ENGINES = ("duckdb", "postgres", "spark")
# engine postgres connects as psql does, by libpq's own variables (never from the settings file: secrets)
POSTGRES_VARIABLES = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGPASSWORD": "password",
                      "PGDATABASE": "dbname", "PGSSLMODE": "sslmode"}


@dataclass(frozen=True)
class RuntimeSetting:
    name: str
    default: str | None
    meaning: str

    @property
    def environment_variable(self) -> str:
        return ENV_PREFIX + self.name.upper()


# Settings of the running pipeline (not dbt vars); `{home}` is CRM_KPIS_HOME.
RUNTIME_SETTINGS: tuple[RuntimeSetting, ...] = (
    RuntimeSetting("home", "data", "folder of the landing files, warehouse, serving file and reports"),
    RuntimeSetting("landing", "{home}/landing", "landing folder"),
    RuntimeSetting("warehouse", "{home}/warehouse.duckdb", "the working DuckDB warehouse file (landing is always read by DuckDB)"),
    RuntimeSetting("engine", "duckdb",
                   "where dbt builds the models: duckdb, postgres or spark (Postgres connects by libpq's PG* variables, README \"Running on Postgres\")"),
    RuntimeSetting("dbt_target", "{home}/dbt", "dbt's manifest for Dagster and one folder per refresh run"),
    RuntimeSetting("serving", "{home}/serving", "the published serving file and Parquet exports BI tools read"),
    RuntimeSetting("dashboard", None, "where every publish (and `crm-kpis dashboard`) writes the HTML dashboard (default: <serving>/dashboard)"),
    RuntimeSetting("quality", "{home}/quality", "Great Expectations (Data Docs), gate reports, failure reports"),
    RuntimeSetting("dagster_home", "{home}/.dagster_home", "Dagster's instance (or DAGSTER_HOME): run history of the CLI, the UI and the daemon"),
    RuntimeSetting("duckdb_memory_limit", "4GB", "DuckDB's memory cap for landing, dbt and publishing; larger work spills to disk"),
    RuntimeSetting("duckdb_threads", None, "DuckDB threads (default: every core)"),
    RuntimeSetting("refresh_cron", "0 2 * * *", "when the nightly refresh runs (in the business time zone)"),
    RuntimeSetting("full_refresh_weekday", "sunday",
                   "the weekday whose scheduled refresh is a full one (every model rebuilt from all history, as `crm-kpis refresh --full`); none = never"),
    RuntimeSetting("gate_max_row_change", "0.5", "a mart may shrink to (1 - x) or grow to 1 / (1 - x) of its published row count"),
    RuntimeSetting("gate_max_bookings_change", "0.2", "total bookings may move by this share against the published version"),
    RuntimeSetting("gate_max_data_age_days", "3", "the newest opportunity change of each source may be at most this many days old"),
    RuntimeSetting("gate_rows_per_part", "1000000", "the quality gate validates a larger mart in parts of about this many rows (its memory)"),
    RuntimeSetting("serve_pii", "0", "1 copies columns flagged as personal data (e-mail addresses) into the serving file"),
    RuntimeSetting("spark_home", "{home}/spark", "Spark's in-process session: its metastore and tables (engine spark)"),
    RuntimeSetting("spark_master", "local[*]", "Spark's master for the in-process session (engine spark)"),
    RuntimeSetting("spark_driver_memory", "2g", "memory of Spark's driver, the in-process session (engine spark)"),
    RuntimeSetting("spark_shuffle_partitions", "4", "Spark's shuffle partitions: small for data that fits one machine, Spark's own default is 200"),
    RuntimeSetting("serving_storage_version", "v0.10.0",
                   "DuckDB storage format of the serving file: the oldest DuckDB release that must read it (v0.10.0: every DuckDB from 0.10 on)"),
)


class SettingsError(ValueError):
    """A setting with a value that cannot be used; the message names the setting."""


def dbt_project_vars(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The dbt vars and their defaults, as dbt_project.yml declares them."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return dict(project.get("vars") or {})


def dbt_var_environment_variable(name: str) -> str:
    return DBT_VAR_ENVIRONMENT.get(name, ENV_PREFIX + name.upper())


def _read_settings_file(home: Path) -> dict[str, Any]:
    path = home / SETTINGS_FILE_NAME
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML ({error})") from None


def _parse_var(name: str, text: str, source: str) -> Any:
    """An environment value of a dbt var, read as YAML: `7` is a number, `[100, 500]` a list."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SettingsError(f"{source}: cannot read {text!r} for dbt var {name} ({error})") from None


@dataclass(frozen=True)
class WarehouseConfig:
    """DuckDB settings of every connection to the warehouse (landing, gate, publish) and of dbt's."""

    memory_limit: str = "4GB"
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)

    def duckdb_settings(self, warehouse: Path, keep_row_order: bool) -> dict[str, str]:
        # landing numbers rows in file order, so it keeps insertion order; models do not need it
        # and run faster without it
        return {
            "temp_directory": str(warehouse.parent / ".duckdb_tmp"),
            "preserve_insertion_order": "true" if keep_row_order else "false",
            "memory_limit": self.memory_limit,
            "threads": str(self.threads),
        }


@dataclass(frozen=True)
class SparkConfig:
    """The in-process Spark session of engine spark (a cluster's connection is dbt's: CRM_KPIS_SPARK_METHOD,
    _HOST, _TOKEN, ... in profiles.yml)."""

    home: Path
    master: str = "local[*]"
    driver_memory: str = "2g"
    shuffle_partitions: int = 4


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    warehouse: Path
    engine: str
    dbt_target: Path
    serving: Path
    dashboard: Path
    quality: Path
    dagster_home: Path
    warehouse_config: WarehouseConfig
    spark: SparkConfig
    # engine postgres: libpq's connection settings from PG* (host, port, user, password, dbname, sslmode)
    postgres: Mapping[str, str]
    refresh_cron: str
    # 0 = Monday .. 6 = Sunday (datetime.weekday), None = the schedule never runs a full refresh
    full_refresh_weekday: int | None
    gate_max_row_change: float
    gate_max_bookings_change: float
    gate_max_data_age_days: float
    gate_rows_per_part: int
    serve_pii: bool
    serving_storage_version: str
    # every dbt var: dbt_project.yml's defaults, overridden from the settings file and the environment
    dbt_variables: Mapping[str, Any]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting once. `overrides` (dbt var or runtime setting names) win over all sources:
        a command line option, or the demo's fixed as-of date."""
        environ = os.environ if environ is None else environ
        home = Path(overrides.get("home") or environ.get(ENV_PREFIX + "HOME") or "data")
        from_file = _read_settings_file(home)

        def runtime(setting: RuntimeSetting) -> str | None:
            if setting.name in overrides:
                return overrides[setting.name]
            value = environ.get(setting.environment_variable) or from_file.get(setting.name)
            if value is None:
                return setting.default.replace("{home}", str(home)) if setting.default else None
            return str(value)

        values = {setting.name: runtime(setting) for setting in RUNTIME_SETTINGS}
        if setting := environ.get("DAGSTER_HOME"):  # Dagster's own variable, where the user set it
            values["dagster_home"] = overrides.get("dagster_home", setting)
        dbt_variables = dbt_project_vars()
        for name in dbt_variables:
            variable = dbt_var_environment_variable(name)
            if name in overrides:
                dbt_variables[name] = overrides[name]
            elif environ.get(variable):
                dbt_variables[name] = _parse_var(name, environ[variable], variable)
            elif name in from_file:
                dbt_variables[name] = from_file[name]
        unknown = sorted(set(from_file) - {setting.name for setting in RUNTIME_SETTINGS} - set(dbt_variables))
        if unknown:
            raise SettingsError(f"{home / SETTINGS_FILE_NAME}: unknown setting(s) {', '.join(unknown)}")
        values["engine"] = (values["engine"] or "duckdb").strip().lower()
        if values["engine"] not in ENGINES:
            raise SettingsError(f"CRM_KPIS_ENGINE: unknown engine '{values['engine']}'; choose from {', '.join(ENGINES)}")
        try:
            threads = int(values["duckdb_threads"]) if values["duckdb_threads"] else (os.cpu_count() or 1)
            gates = (float(values["gate_max_row_change"]), float(values["gate_max_bookings_change"]),
                     float(values["gate_max_data_age_days"]))
            rows_per_part = int(values["gate_rows_per_part"])
            spark = SparkConfig(home=Path(values["spark_home"]).resolve(), master=values["spark_master"],
                                driver_memory=values["spark_driver_memory"], shuffle_partitions=int(values["spark_shuffle_partitions"]))
        except ValueError as error:
            raise SettingsError(f"a CRM_KPIS_ setting is not a number: {error}") from None
        return cls(
            home=home,
            landing=Path(values["landing"]),
            warehouse=Path(values["warehouse"]),
            engine=values["engine"],
            dbt_target=Path(values["dbt_target"]).resolve(),
            serving=Path(values["serving"]),
            dashboard=Path(values["dashboard"] or Path(values["serving"]) / "dashboard"),
            quality=Path(values["quality"]),
            dagster_home=Path(values["dagster_home"]).resolve(),
            warehouse_config=WarehouseConfig(memory_limit=values["duckdb_memory_limit"], threads=threads),
            spark=spark,
            postgres={key: environ[variable] for variable, key in POSTGRES_VARIABLES.items() if environ.get(variable)},
            refresh_cron=values["refresh_cron"],
            full_refresh_weekday=_weekday(values["full_refresh_weekday"]),
            gate_max_row_change=gates[0],
            gate_max_bookings_change=gates[1],
            gate_max_data_age_days=gates[2],
            gate_rows_per_part=rows_per_part,
            serve_pii=str(values["serve_pii"]).strip().lower() in ("1", "true", "yes"),
            serving_storage_version=values["serving_storage_version"],
            dbt_variables=dbt_variables,
        )

    # --- what the rest of the code asks -----------------------------------------------------------

    @property
    def business_timezone(self) -> str:
        return str(self.dbt_variables["business_timezone"])

    @property
    def reporting_currency(self) -> str:
        return str(self.dbt_variables["reporting_currency"])

    @property
    def as_of_date(self) -> date | None:
        """The pinned "today" of point-in-time KPIs and the freshness check; None: today."""
        value = self.dbt_variables.get("as_of_date")
        if value in (None, ""):
            return None
        try:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise SettingsError(f"CRM_KPIS_AS_OF_DATE: not a date (YYYY-MM-DD): {value}") from None

    @property
    def crm_sources(self) -> list[str]:
        selected = self.dbt_variables.get("crm_sources") or "files"
        names = selected.split(",") if isinstance(selected, str) else selected
        return [str(name).strip().lower() for name in names if str(name).strip()]

    @property
    def serving_file(self) -> Path:
        return self.serving / "warehouse.duckdb"

    @property
    def metricflow_project(self) -> Path:
        """The folder `crm-kpis metrics` lays MetricFlow's project out in (its profile reads the serving file)."""
        return self.dbt_target / "metricflow"

    @property
    def gate_reports(self) -> Path:
        return self.quality / "gate_reports"

    def dbt_vars(self) -> dict[str, Any]:
        """Every var dbt sees, for `--vars`: the KPI conventions and where and how to build."""
        variables = {name: (value.isoformat() if isinstance(value, date) else value) for name, value in self.dbt_variables.items()}
        variables["crm_sources"] = ",".join(self.crm_sources)
        return {
            **variables,
            "warehouse_path": str(self.warehouse.resolve()),
            "duckdb_memory_limit": self.warehouse_config.memory_limit,
            "duckdb_threads": self.warehouse_config.threads,
        }

    def dbt_vars_argument(self) -> list[str]:
        return ["--vars", json.dumps(self.dbt_vars(), default=str)]

    def with_overrides(self, **overrides: Any) -> Settings:
        """The same settings with some values replaced (dbt vars by name, e.g. as_of_date)."""
        dbt_overrides = {name: value for name, value in overrides.items() if name in self.dbt_variables}
        fields = {name: value for name, value in overrides.items() if name not in dbt_overrides}
        from dataclasses import replace

        return replace(self, dbt_variables={**self.dbt_variables, **dbt_overrides}, **fields)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(value: str | None) -> int | None:
    name = (value or "none").strip().lower()
    if name in ("none", "never", ""):
        return None
    if name not in WEEKDAYS:
        raise SettingsError(f"CRM_KPIS_FULL_REFRESH_WEEKDAY: '{value}' is not a weekday; choose from {', '.join(WEEKDAYS)} or none")
    return WEEKDAYS.index(name)


def write_home_settings(home: Path, values: Mapping[str, Any]) -> Path:
    """Record settings in the home's settings file (kept: values already there and not given)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / SETTINGS_FILE_NAME
    merged = {**_read_settings_file(home), **values}
    lines = ["# Settings of this crm-kpis home; environment variables (CRM_KPIS_...) win over them."]
    lines += [f"{name} = {json.dumps(value if not isinstance(value, date) else value.isoformat())}" for name, value in merged.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
