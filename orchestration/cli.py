"""`crm-kpis`: generate demo CRM data, map exports, land them, refresh the warehouse (land, build, check,
publish), run dbt, show the settings, reset a home, run the demo."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from .dashboard import build_dashboard
from .dbt.runner import run_dbt
from .generator import FORMATS, GeneratorSettings, WrittenTable, generate_landing
from .landing import FileResult, LandingAborted, LandingReport, land_directory
from .landing.landing_folder import landing_entries
from .landing.source_tables import ADAPTER_SOURCES, load_source_tables
from .mapping import MappingError, apply_mapping, load_mapping
from .refresh import print_summary, run_refresh
from .run_lock import WarehouseBusy, warehouse_lock
from .semantic import MetricsUnavailable, run_metricflow
from .serving.kpi_summary import print_kpi_summary
from .serving.publish import last_publish
from .serving.sql_prompt import SqlUnavailable, prompt, run_statement, serving_connection
from .settings import RUNTIME_SETTINGS, SETTINGS_FILE_NAME, WEEKDAYS, Settings, SettingsError, dbt_var_environment_variable, write_home_settings

DEFAULT_AS_OF = date(2026, 6, 30)
DEMO_OPPORTUNITIES = 20_000


class CommandFailed(Exception):
    """A command failed; the message is the one-line cause shown to the user."""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _show_written(table: WrittenTable) -> None:
    _say(f"  wrote {table.table:<24} {table.rows:>12,} rows  {table.seconds:6.1f}s  {table.path}")


def _show_landed(result: FileResult) -> None:
    if result.status == "rejected":
        _say(f"  REJECTED {result.file_path}: {result.error}")
    elif result.status == "skipped":
        _say(f"  skipped  {result.file_path} (already landed, same checksum)")
    elif result.status == "ignored":
        _say(f"  ignored  {result.error}")
    else:
        _say(
            f"  landed   {result.file_path:<48} read {result.rows_read:>10,}  landed {result.rows_landed:>10,}  "
            f"rejected {result.rows_rejected:>6,}"
        )
        for assumption in result.assumptions:
            _say(f"           assumed {assumption}")


def run_generate(opportunities: int, seed: int, as_of: date, file_format: str, messy: bool, out: Path) -> list[WrittenTable]:
    if opportunities < 1:
        raise CommandFailed("--opportunities must be at least 1")
    started = time.perf_counter()
    _say(f"Generating {opportunities:,} opportunities (seed {seed}, as of {as_of}, {file_format}{', messy' if messy else ''}) into {out}")
    written = generate_landing(
        GeneratorSettings(opportunities=opportunities, seed=seed, as_of=as_of, messy=messy), out, file_format, _show_written
    )
    _say(f"Generated {sum(t.rows for t in written):,} rows in {time.perf_counter() - started:.1f}s")
    return written


def run_land(settings: Settings, landing: Path, warehouse: Path) -> LandingReport:
    started = time.perf_counter()
    _say(f"Landing {landing} into {warehouse}")
    try:
        with warehouse_lock(warehouse, "crm-kpis land"):
            report = land_directory(landing, warehouse, _show_landed, config=settings.warehouse_config)
    except (FileNotFoundError, LandingAborted, WarehouseBusy) as error:
        raise CommandFailed(str(error)) from None
    _say(f"{report.summary()} in {time.perf_counter() - started:.1f}s")
    if not report.invariant_holds:
        raise CommandFailed("row accounting broken: rows read != landed + rejected")
    if report.rejected_files:
        first = report.rejected_files[0].error
        more = len(report.rejected_files) - 1
        raise CommandFailed(f"{first}" + (f" (and {more} more rejected file(s))" if more else ""))
    return report


def _other_data_sets(landing: Path, mapping_name: str) -> list[str]:
    """Landing files a mapping of another name (or the generator, or a user) put there."""
    if not landing.is_dir():
        return []
    return [entry.relative for entry in landing_entries(landing.resolve())
            if not entry.ignored and not Path(entry.relative).name.startswith(f"{mapping_name}__")]


def run_map(settings: Settings, mapping_file: Path, input_dir: Path, landing: Path, add: bool) -> None:
    """Apply a mapping file to an export folder, writing landing-contract files into the landing folder."""
    try:
        mapping = load_mapping(mapping_file, input_dir, settings.business_timezone)
        others = _other_data_sets(landing, mapping.name)
        if others and not add:
            raise CommandFailed(
                f"the landing folder {landing} already holds {len(others)} file(s) of another data set (e.g. {others[0]}); "
                "mapping into it would mix both in one warehouse and its KPIs. Use a home of its own "
                "(CRM_KPIS_HOME=<folder>), or `crm-kpis reset --landing --yes` first, or --add to combine them on purpose")
        tables = apply_mapping(mapping, landing)
    except MappingError as error:
        raise CommandFailed(str(error)) from None
    for table in tables:
        dropped = f"; {table.rows_dropped:,} without a match in an inner join, dropped" if table.rows_dropped else ""
        _say(f"  {table.export_file.name:<28} -> {table.output_file} ({table.rows:,} rows{dropped})")
    _say(f"Mapped {len(tables)} table(s) with {mapping_file}; land them with `crm-kpis land` or `crm-kpis refresh`")


def run_load_source(settings: Settings, source: str, folder: Path, warehouse: Path) -> None:
    """Load a CRM's tables, as its EL tool names them, into raw_<source> of the warehouse."""
    try:
        with warehouse_lock(warehouse, "crm-kpis load-source"):
            tables = load_source_tables(source, folder, warehouse, config=settings.warehouse_config)
    except (ValueError, FileNotFoundError, WarehouseBusy) as error:
        raise CommandFailed(str(error)) from None
    for table in tables:
        _say(f"  {table.file.name:<40} -> raw_{source}.{table.table} ({table.rows:,} rows)")
    _say(f"Loaded {len(tables)} table(s) into raw_{source}; select the source with CRM_KPIS_SOURCES={source}")


def run_dashboard(serving: Path, out: Path) -> None:
    try:
        report = build_dashboard(serving, out)
    except FileNotFoundError as error:
        raise CommandFailed(str(error)) from None
    _say(f"Dashboard of the marts published {report.published_at or '(never published)'} from {serving}")
    print(report.path.resolve().as_uri())


# mf options whose value is a file the user names: relative to the user's folder, not mf's project folder
MF_PATH_OPTIONS = ("--csv",)
MF_COMMANDS = ("query", "list", "tutorial")


def metricflow_arguments(arguments: list[str]) -> list[str]:
    """`crm-kpis metrics ARGS` as mf's: a query unless ARGS start with an mf command (`list metrics`)."""
    resolved = list(arguments)
    for index, argument in enumerate(resolved):
        if argument in MF_PATH_OPTIONS and index + 1 < len(resolved):
            resolved[index + 1] = str(Path(resolved[index + 1]).resolve())
        elif argument.startswith(tuple(option + "=" for option in MF_PATH_OPTIONS)):
            option, _, value = argument.partition("=")
            resolved[index] = f"{option}={Path(value).resolve()}"
    if not resolved or resolved[0] not in MF_COMMANDS:
        resolved = ["query", *resolved]
    return resolved


def run_metrics(settings: Settings, serving: Path, arguments: list[str]) -> int:
    if not arguments:
        raise CommandFailed("name metrics, e.g. `crm-kpis metrics --metrics win_rate --group-by metric_time__quarter,owner__team` "
                            "(`crm-kpis metrics list metrics` lists them)")
    try:
        return run_metricflow(settings, metricflow_arguments(arguments), serving_file=serving).returncode
    except MetricsUnavailable as error:
        raise CommandFailed(str(error)) from None


def run_sql(serving: Path, statement: str | None, as_csv: bool) -> None:
    try:
        if statement is None:
            prompt(serving, (last_publish(serving) or {}).get("published_at") if serving.exists() else None)
            return
        with serving_connection(serving) as connection:
            run_statement(connection, statement, as_csv=as_csv)
    except SqlUnavailable as error:
        raise CommandFailed(str(error)) from None
    except duckdb.Error as error:
        raise CommandFailed(str(error).splitlines()[0]) from None


def run_refresh_command(settings: Settings, full: bool = False) -> None:
    try:
        summary = run_refresh(settings, full)
    except WarehouseBusy as error:
        raise CommandFailed(str(error)) from None
    print_summary(summary)
    if not summary.published:
        raise CommandFailed("the refresh did not publish (see the failed steps and checks above)")


def run_demo(settings: Settings, opportunities: int, seed: int) -> None:
    """The demo's data ends on DEFAULT_AS_OF: that is its "today" for point-in-time KPIs and freshness,
    written into the home's settings file so later refreshes and the UI of this home use it too."""
    if settings.as_of_date is None:
        path = write_home_settings(settings.home, {"as_of_date": DEFAULT_AS_OF.isoformat()})
        _say(f"The demo's data ends on {DEFAULT_AS_OF}: as_of_date written to {path} (the build date of this home's "
             "refreshes and UI; remove the line, or `crm-kpis reset`, before refreshing live data)")
        settings = settings.with_overrides(as_of_date=DEFAULT_AS_OF)
    try:
        with warehouse_lock(settings.warehouse, "crm-kpis demo"):
            run_generate(opportunities, seed, DEFAULT_AS_OF, "parquet", False, settings.landing)
            run_refresh_command(settings)
    except WarehouseBusy as error:
        raise CommandFailed(str(error)) from None
    print_kpi_summary(settings.serving_file)
    print(f"\nDashboard: {(settings.dashboard / 'index.html').resolve().as_uri()}  (rewritten on every publish; "
          "`crm-kpis dashboard` writes it again)")


def run_dbt_command(settings: Settings, arguments: list[str]) -> int:
    """dbt with the settings' target and vars, artifacts in the home's dbt folder."""
    if not arguments:
        raise CommandFailed("give a dbt command, e.g. `crm-kpis dbt build --select fct_kpi_win_rate`")
    with warehouse_lock(settings.warehouse, f"crm-kpis dbt {arguments[0]}"):
        return run_dbt(arguments, settings, target_dir=settings.dbt_target / "manual").returncode


def run_reset(settings: Settings, landing: bool) -> None:
    """Remove what the pipeline made in the home (warehouse, serving file, reports, dbt artifacts, Dagster
    runs, the settings file); the landing files too with --landing."""
    with warehouse_lock(settings.warehouse, "crm-kpis reset"):
        doomed = [settings.warehouse, settings.warehouse.with_name(settings.warehouse.name + ".wal"),
                  settings.warehouse.parent / ".duckdb_tmp", settings.serving, settings.quality, settings.dbt_target,
                  settings.dagster_home, settings.home / "logs", settings.home / SETTINGS_FILE_NAME]
        if landing:
            doomed.append(settings.landing)
        for path in doomed:
            if path.is_dir():
                _make_writable(path)
                shutil.rmtree(path)
                _say(f"  removed {path}/")
            elif path.exists():
                path.unlink()
                _say(f"  removed {path}")
    _say(f"Reset {settings.home}" + ("" if landing else f"; the landing files in {settings.landing} are kept (--landing removes them)"))


def _make_writable(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(0o644)


def print_settings(settings: Settings) -> None:
    """Every setting, its environment variable and the value in effect."""
    print(f"settings of home {settings.home} (environment variables win over {settings.home / SETTINGS_FILE_NAME})")
    # the settings whose value the Settings object holds under another name; every other one is its attribute
    held_elsewhere = {"duckdb_memory_limit": settings.warehouse_config.memory_limit, "duckdb_threads": settings.warehouse_config.threads,
                      "spark_home": settings.spark.home, "spark_master": settings.spark.master,
                      "spark_driver_memory": settings.spark.driver_memory, "spark_shuffle_partitions": settings.spark.shuffle_partitions,
                      "full_refresh_weekday": "none" if settings.full_refresh_weekday is None else WEEKDAYS[settings.full_refresh_weekday]}
    values = {setting.name: held_elsewhere.get(setting.name, getattr(settings, setting.name, None)) for setting in RUNTIME_SETTINGS}
    for setting in RUNTIME_SETTINGS:
        print(f"  {setting.environment_variable:<34} {values[setting.name]!s:<34} {setting.meaning}")
    for name, value in settings.dbt_variables.items():
        print(f"  {dbt_var_environment_variable(name):<34} {value!s:<34} dbt var {name}")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from None


def build_parser() -> argparse.ArgumentParser:
    # -v works before or after the command (`crm-kpis -v refresh`, `crm-kpis refresh -v`)
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log every assumption and step")
    parser = argparse.ArgumentParser(
        prog="crm-kpis", parents=[verbose],
        description="Sales-KPI warehouse: land raw CRM files into DuckDB and build trusted KPI marts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, parents=[verbose])

    generate = command("generate", "write a synthetic CRM as landing files")
    generate.add_argument("--opportunities", type=int, default=DEMO_OPPORTUNITIES, help="number of opportunities (default %(default)s)")
    generate.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives identical files (default %(default)s)")
    generate.add_argument("--as-of", type=_parse_date, default=DEFAULT_AS_OF, help="last day of the data (default %(default)s)")
    generate.add_argument("--format", choices=FORMATS, default="parquet", help="file format (default %(default)s)")
    generate.add_argument("--messy", action="store_true", help="plant defects for the quality gate (duplicates, orphans, bad dates, ...)")
    generate.add_argument("--out", type=Path, default=None, help="landing folder (default $CRM_KPIS_LANDING or data/landing); replaced")

    land = command("land", "land the files of a landing folder into the warehouse's raw schema")
    land.add_argument("--landing", type=Path, default=None, help="landing folder (default $CRM_KPIS_LANDING or data/landing)")
    land.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default $CRM_KPIS_WAREHOUSE or data/warehouse.duckdb)")

    mapping = command("map", "turn a CRM export into landing files with a mapping file (see examples/)")
    mapping.add_argument("mapping", type=Path, help="the mapping file (YAML)")
    mapping.add_argument("--input", type=Path, required=True, help="folder holding the export's files")
    mapping.add_argument("--landing", type=Path, default=None, help="landing folder (default $CRM_KPIS_LANDING or data/landing)")
    mapping.add_argument("--add", action="store_true", help="map into a landing folder that already holds another data set")

    load_source = command("load-source", "load a CRM's tables (Fivetran naming) into raw_<source>, for trials and tests")
    load_source.add_argument("source", choices=ADAPTER_SOURCES)
    load_source.add_argument("folder", type=Path, help="folder of CSV or Parquet files, one per table")
    load_source.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default $CRM_KPIS_WAREHOUSE or data/warehouse.duckdb)")

    refresh = command("refresh", "run the refresh job in-process: land, dbt build, quality gate, publish")
    refresh.add_argument("--full", action="store_true",
                         help="rebuild every model from all history (dbt build --full-refresh): after an upgrade or a "
                              "change of settings, which incremental models would otherwise apply to new rows only")

    dashboard = command("dashboard", "write the sales dashboard (one HTML file that opens from disk) from the published marts")
    dashboard.add_argument("--out", type=Path, default=None,
                           help="folder for index.html (default $CRM_KPIS_DASHBOARD or <serving>/dashboard)")
    dashboard.add_argument("--serving", type=Path, default=None,
                           help="the serving DuckDB file to read (default the published one, $CRM_KPIS_SERVING/warehouse.duckdb)")

    demo = command("demo", "generate demo data, refresh (land, build, check, publish) and print KPIs")
    demo.add_argument("--opportunities", type=int, default=DEMO_OPPORTUNITIES, help="number of opportunities (default %(default)s)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")

    dbt = command("dbt", "run dbt with the settings' engine and vars, e.g. `crm-kpis dbt build --select fct_kpi_win_rate`")
    dbt.add_argument("dbt_arguments", nargs=argparse.REMAINDER, help="dbt's own command and options")

    metrics = command("metrics", "query the semantic layer (MetricFlow's mf query) on the published marts, e.g. "
                      "`crm-kpis metrics --metrics win_rate --group-by metric_time__quarter,owner__team`")
    metrics.add_argument("--serving", type=Path, default=None,
                         help="the serving DuckDB file (default the published one); before any of mf's own options")
    metrics.epilog = ("Every other option is MetricFlow's: --metrics, --group-by, --where, --order, --limit, --csv FILE, --explain; "
                      "`crm-kpis metrics list metrics` / `list dimensions --metrics win_rate` list what there is.")

    sql = command("sql", "a read-only SQL prompt on the published marts; -c runs one statement and prints the result")
    sql.add_argument("-c", "--command", dest="statement", default=None, help="run this one statement and print its result")
    sql.add_argument("--csv", action="store_true", help="with -c: print the result as CSV")
    sql.add_argument("--serving", type=Path, default=None, help="the serving DuckDB file (default the published one)")

    command("settings", "show every setting, its environment variable and the value in effect")

    reset = command("reset", "remove the home's warehouse, serving file, reports and runs (keeps the landing files)")
    reset.add_argument("--landing", action="store_true", help="remove the landing files too")
    reset.add_argument("--yes", action="store_true", help="really remove them (required)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # `crm-kpis metrics` passes MetricFlow's own options on as they are
    arguments, passed_on = parser.parse_known_args(argv)
    if passed_on and arguments.command != "metrics":
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    verbose = getattr(arguments, "verbose", False)
    level = logging.INFO if verbose else logging.CRITICAL
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:  # libraries (Dagster) set their own loggers' levels
        handler.setLevel(level)
    try:
        settings = Settings.from_environment()
        if arguments.command == "generate":
            run_generate(arguments.opportunities, arguments.seed, arguments.as_of, arguments.format, arguments.messy,
                         arguments.out or settings.landing)
        elif arguments.command == "land":
            run_land(settings, arguments.landing or settings.landing, arguments.warehouse or settings.warehouse)
        elif arguments.command == "map":
            run_map(settings, arguments.mapping, arguments.input, arguments.landing or settings.landing, arguments.add)
        elif arguments.command == "load-source":
            run_load_source(settings, arguments.source, arguments.folder, arguments.warehouse or settings.warehouse)
        elif arguments.command == "refresh":
            run_refresh_command(settings, arguments.full)
        elif arguments.command == "dashboard":
            run_dashboard(arguments.serving or settings.serving_file, arguments.out or settings.dashboard)
        elif arguments.command == "demo":
            run_demo(settings, arguments.opportunities, arguments.seed)
        elif arguments.command == "dbt":
            return run_dbt_command(settings, arguments.dbt_arguments)
        elif arguments.command == "metrics":
            return run_metrics(settings, arguments.serving or settings.serving_file, passed_on)
        elif arguments.command == "sql":
            run_sql(arguments.serving or settings.serving_file, arguments.statement, arguments.csv)
        elif arguments.command == "settings":
            print_settings(settings)
        elif arguments.command == "reset":
            if not arguments.yes:
                raise CommandFailed(f"this removes the warehouse, serving file and reports of {settings.home}: add --yes")
            run_reset(settings, arguments.landing)
    except (CommandFailed, SettingsError, WarehouseBusy) as error:
        _say(f"crm-kpis {arguments.command}: error: {error}")
        return 1
    except Exception as error:  # a one-line cause, not a traceback; -v shows the traceback
        if verbose:
            raise
        _say(f"crm-kpis {arguments.command}: error: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
