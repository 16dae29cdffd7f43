"""`crm-kpis`: generate demo CRM data, map exports, land them, refresh the warehouse (land, build, check,
publish), run the demo."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import date
from pathlib import Path

from . import settings
from .generator import FORMATS, GeneratorSettings, WrittenTable, generate_landing
from .landing import FileResult, LandingReport, land_directory
from .landing.contract import CONTRACTS
from .landing.source_tables import ADAPTER_SOURCES, load_source_tables
from .mapping import MappingError, apply_mapping, load_mapping
from .dashboard import build_dashboard
from .publish import serving_file
from .refresh import print_summary, run_refresh
from .warehouse_connection import connect_warehouse

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


def run_land(landing: Path, warehouse: Path) -> LandingReport:
    started = time.perf_counter()
    _say(f"Landing {landing} into {warehouse}")
    try:
        report = land_directory(landing, warehouse, _show_landed)
    except FileNotFoundError as error:
        raise CommandFailed(str(error)) from None
    _say(f"{report.summary()} in {time.perf_counter() - started:.1f}s")
    if not report.invariant_holds:
        raise CommandFailed("row accounting broken: rows read != landed + rejected")
    if report.rejected_files:
        first = report.rejected_files[0].error
        more = len(report.rejected_files) - 1
        raise CommandFailed(f"{first}" + (f" (and {more} more rejected file(s))" if more else ""))
    return report


def run_map(mapping_file: Path, input_dir: Path, landing: Path) -> None:
    """Apply a mapping file to an export folder, writing landing-contract files into the landing folder."""
    try:
        mapping = load_mapping(mapping_file, input_dir)
        tables = apply_mapping(mapping, landing)
    except MappingError as error:
        raise CommandFailed(str(error)) from None
    for table in tables:
        _say(f"  {table.export_file.name:<28} -> {table.output_file} ({table.rows:,} rows)")
    _say(f"Mapped {len(tables)} table(s) with {mapping_file}; land them with `crm-kpis land` or `crm-kpis refresh`")


def run_load_source(source: str, folder: Path, warehouse: Path) -> None:
    """Load a CRM's tables, as its EL tool names them, into raw_<source> of the warehouse."""
    try:
        tables = load_source_tables(source, folder, warehouse)
    except (ValueError, FileNotFoundError) as error:
        raise CommandFailed(str(error)) from None
    for table in tables:
        _say(f"  {table.file.name:<40} -> raw_{source}.{table.table} ({table.rows:,} rows)")
    _say(f"Loaded {len(tables)} table(s) into raw_{source}; select the source with CRM_KPIS_SOURCES={source}")


KPI_SUMMARY_SQL = """
    with window_start as (select max(period_month) - interval 11 month as since from marts.fct_kpi_win_rate),
    wins as (
        select sum(won_count) as won, sum(lost_count) as lost, sum(won_amount) as won_amount, sum(lost_amount) as lost_amount
        from marts.fct_kpi_win_rate where period_month >= (select since from window_start)
    ),
    cycle as (
        select sum(won_cycle_days_sum) / nullif(sum(won_count), 0) as won_cycle
        from marts.fct_kpi_sales_cycle where period_month >= (select since from window_start)
    ),
    leads as (
        select sum(converted_count) / nullif(sum(lead_count), 0) as lead_conversion
        from marts.fct_kpi_lead_conversion where period_month >= (select since from window_start) - interval 12 month
            and period_month < (select since from window_start)
    ),
    pipeline as (
        select sum(open_amount) as open_amount, sum(weighted_amount) as weighted_amount
        from marts.fct_kpi_pipeline_value where snapshot_date = (select max(snapshot_date) from marts.fct_kpi_pipeline_value)
    ),
    recurring as (
        select sum(arr) as arr from marts.fct_kpi_recurring_revenue
        where period_month = (select max(period_month) from marts.fct_kpi_recurring_revenue)
    ),
    retention as (
        select sum(start_customers_end_mrr) / nullif(sum(start_mrr), 0) as nrr,
            (sum(customers_end) - sum(new_customers)) / nullif(sum(customers_start), 0) as logo_retention
        from marts.fct_kpi_customer_retention where period_grain = 'year'
            and period_start = (select max(period_start) from marts.fct_kpi_customer_retention where period_grain = 'year')
    ),
    last_quarter as (
        select max(period_start) as quarter_start from marts.fct_kpi_quota_attainment where not is_current_period
    ),
    quota as (
        select sum(bookings) / nullif(sum(quota_amount), 0) as attainment, avg(is_attained) as share_at_quota
        from marts.fct_kpi_quota_attainment where period_start = (select quarter_start from last_quarter)
    ),
    acquisition as (
        select cac from marts.fct_kpi_customer_acquisition_cost
        where scope = 'company' and period_grain = 'quarter' and period_start = (select quarter_start from last_quarter)
    )
    select (select since from window_start), won, lost, won / nullif(won + lost, 0), won_amount / nullif(won_amount + lost_amount, 0),
        won_amount / nullif(won, 0), (select won_cycle from cycle), (select max(reporting_currency) from marts.fct_kpi_win_rate),
        (select lead_conversion from leads), (select open_amount from pipeline), (select weighted_amount from pipeline),
        (select arr from recurring), (select nrr from retention), (select logo_retention from retention),
        (select quarter_start from last_quarter), (select attainment from quota), (select share_at_quota from quota),
        (select cac from acquisition)
    from wins
"""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _amount(value: float | None, currency: str) -> str:
    return "n/a" if value is None else f"{value:,.0f} {currency}"


def print_kpi_summary(warehouse: Path) -> None:
    with connect_warehouse(warehouse, read_only=True) as connection:
        (since, won, lost, win_rate, value_win_rate, deal_size, cycle, currency, lead_conversion, open_amount, weighted_amount,
         arr, nrr, logo_retention, quarter, attainment, share_at_quota, cac) = connection.execute(KPI_SUMMARY_SQL).fetchone()
        issues = connection.execute("select table_name || '.' || issue_type, row_count from marts.fct_data_quality_issues where row_count > 0 order by 1").fetchall()
    print(f"\nKPIs for the 12 months from {since:%Y-%m} (marts schema):")
    print(f"  win rate                 {_percent(win_rate):>8}   ({won:,} won / {won + lost:,} closed)")
    print(f"  value win rate           {_percent(value_win_rate):>8}")
    print(f"  average deal size        {_amount(deal_size, currency)}")
    print(f"  sales cycle (won)        {cycle:8.1f} days")
    print(f"  lead-to-opportunity      {_percent(lead_conversion):>8}   (leads of the 12 months before)")
    print(f"  open pipeline now        {_amount(open_amount, currency)} (weighted {_amount(weighted_amount, currency)})")
    print(f"  ARR now                  {_amount(arr, currency)}")
    print(f"  net revenue retention    {_percent(nrr):>8}   (logo retention {_percent(logo_retention)}, last full year)")
    if quarter is not None:
        print(f"  quota attainment {quarter:%Y-%m}  {_percent(attainment):>8}   ({_percent(share_at_quota)} of reps at quota; CAC {_amount(cac, currency)})")
    print("  data-quality exclusions: " + (", ".join(f"{name} {count:,}" for name, count in issues) or "none"))


def run_dashboard(serving: Path, out: Path) -> None:
    try:
        report = build_dashboard(serving, out)
    except FileNotFoundError as error:
        raise CommandFailed(str(error)) from None
    _say(f"Dashboard of the marts published {report.published_at or '(never published)'} from {serving}")
    print(report.path.resolve().as_uri())


def run_refresh_command() -> None:
    summary = run_refresh()
    print_summary(summary)
    if not summary.published:
        raise CommandFailed("the refresh did not publish (see the failed steps and checks above)")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm-kpis",
        description="Sales-KPI warehouse: land raw CRM files into DuckDB and build trusted KPI marts.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every assumption and step")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser("generate", help="write a synthetic CRM as landing files")
    generate.add_argument("--opportunities", type=int, default=DEMO_OPPORTUNITIES, help="number of opportunities (default %(default)s)")
    generate.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives identical files (default %(default)s)")
    generate.add_argument("--as-of", type=_parse_date, default=DEFAULT_AS_OF, help="last day of the data (default %(default)s)")
    generate.add_argument("--format", choices=FORMATS, default="parquet", help="file format (default %(default)s)")
    generate.add_argument("--messy", action="store_true", help="plant defects for the quality gate (duplicates, orphans, bad dates, ...)")
    generate.add_argument("--out", type=Path, default=None, help="landing folder (default $CRM_KPIS_LANDING or data/landing); replaced")

    land = commands.add_parser("land", help="land the files of a landing folder into the warehouse's raw schema")
    land.add_argument("--landing", type=Path, default=None, help="landing folder (default $CRM_KPIS_LANDING or data/landing)")
    land.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default $CRM_KPIS_WAREHOUSE or data/warehouse.duckdb)")

    mapping = commands.add_parser("map", help="turn a CRM export into landing files with a mapping file (see examples/)")
    mapping.add_argument("mapping", type=Path, help="the mapping file (YAML)")
    mapping.add_argument("--input", type=Path, required=True, help="folder holding the export's files")
    mapping.add_argument("--landing", type=Path, default=None, help="landing folder (default $CRM_KPIS_LANDING or data/landing)")

    load_source = commands.add_parser("load-source", help="load a CRM's tables (Fivetran naming) into raw_<source>, for trials and tests")
    load_source.add_argument("source", choices=ADAPTER_SOURCES)
    load_source.add_argument("folder", type=Path, help="folder of CSV or Parquet files, one per table")
    load_source.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default $CRM_KPIS_WAREHOUSE or data/warehouse.duckdb)")

    commands.add_parser("refresh", help="run the refresh job in-process: land, dbt build, quality gate, publish")

    dashboard = commands.add_parser(
        "dashboard", help="write the sales dashboard (one HTML file that opens from disk) from the published marts")
    dashboard.add_argument("--out", type=Path, default=None,
                           help="folder for index.html (default $CRM_KPIS_DASHBOARD or <serving>/dashboard)")
    dashboard.add_argument("--serving", type=Path, default=None,
                           help="the serving DuckDB file to read (default the published one, $CRM_KPIS_SERVING/warehouse.duckdb)")

    demo = commands.add_parser("demo", help="generate demo data, refresh (land, build, check, publish) and print KPIs")
    demo.add_argument("--opportunities", type=int, default=DEMO_OPPORTUNITIES, help="number of opportunities (default %(default)s)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    level = logging.INFO if arguments.verbose else logging.CRITICAL
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:  # libraries (Dagster) set their own loggers' levels
        handler.setLevel(level)
    try:
        if arguments.command == "generate":
            run_generate(arguments.opportunities, arguments.seed, arguments.as_of, arguments.format, arguments.messy,
                         arguments.out or settings.landing_dir())
        elif arguments.command == "land":
            run_land(arguments.landing or settings.landing_dir(), arguments.warehouse or settings.warehouse_path())
        elif arguments.command == "map":
            run_map(arguments.mapping, arguments.input, arguments.landing or settings.landing_dir())
        elif arguments.command == "load-source":
            run_load_source(arguments.source, arguments.folder, arguments.warehouse or settings.warehouse_path())
        elif arguments.command == "refresh":
            run_refresh_command()
        elif arguments.command == "dashboard":
            run_dashboard(arguments.serving or serving_file(settings.serving_dir()), arguments.out or settings.dashboard_dir())
        elif arguments.command == "demo":
            # the demo data ends on DEFAULT_AS_OF: that is its "today" for point-in-time KPIs and freshness
            os.environ.setdefault("CRM_KPIS_AS_OF_DATE", DEFAULT_AS_OF.isoformat())
            run_generate(arguments.opportunities, arguments.seed, DEFAULT_AS_OF, "parquet", False, settings.landing_dir())
            run_refresh_command()
            print_kpi_summary(serving_file(settings.serving_dir()))
            print(f"\nDashboard: {(settings.dashboard_dir() / 'index.html').resolve().as_uri()}  (rewritten on every publish; "
                  "`crm-kpis dashboard` writes it again)")
    except CommandFailed as error:
        _say(f"crm-kpis {arguments.command}: error: {error}")
        return 1
    except Exception as error:  # a one-line cause, not a traceback; -v shows the traceback
        if arguments.verbose:
            raise
        _say(f"crm-kpis {arguments.command}: error: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
