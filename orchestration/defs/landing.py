"""Landing: the files of the landing folder into the working warehouse's raw tables."""


from collections.abc import Iterator

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at definition time
import dagster as dg

from orchestration.engines import open_engine
from orchestration.landing import LandingAborted, land_directory
from orchestration.landing.contract import CONTRACTS
from orchestration.progress import say
from orchestration.settings import Settings

TRANSIENT_FAILURE_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def landing_assets(settings: Settings) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name="landed_raw_tables",
        specs=[dg.AssetSpec(raw_asset_key(table), group_name="landing", kinds={"duckdb"} if settings.engine == "duckdb" else {"duckdb", settings.engine},
                            description=f"raw.{table}: landed from <landing>/{table}/ (CSV, Parquet, JSON lines)")
               for table in CONTRACTS],
        retry_policy=TRANSIENT_FAILURE_RETRY,
        required_resource_keys={"warehouse_lock"},
    )
    def landed_raw_tables(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        """Land every new file of the landing folder into the working warehouse's raw tables."""
        landing = settings.landing
        if not landing.is_dir() and "files" not in settings.crm_sources:
            # the selected CRM adapters read what their EL tool loaded; there is nothing to land
            landing.mkdir(parents=True, exist_ok=True)
        say(f"landing files from {landing}")
        try:
            report = land_directory(landing, settings.warehouse, config=settings.warehouse_config)
        except LandingAborted as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
        say(report.summary())
        if not report.invariant_holds:
            raise dg.Failure(description=f"row accounting broken: {report.summary()}")
        for rejected in report.rejected_files:
            context.log.warning(f"rejected file {rejected.file_path}: {rejected.error}")
        if settings.engine != "duckdb":
            # the typed raw tables onto the engine dbt builds on (closed again: Spark's metastore takes one
            # process at a time, and dbt's is next)
            with open_engine(settings) as engine:
                copied = engine.copy_raw_tables(settings.warehouse)
            say(f"copied {len(copied)} raw tables ({sum(copied.values()):,} rows) onto {settings.engine}")
        for table in CONTRACTS:
            files = [result for result in report.files if result.table_name == table and result.status != "skipped"]
            yield dg.MaterializeResult(asset_key=raw_asset_key(table), metadata={
                "files_landed": sum(1 for result in files if result.status == "landed"),
                "files_rejected": sum(1 for result in files if result.status == "rejected"),
                "rows_landed": sum(result.rows_landed for result in files),
                "rows_rejected": sum(result.rows_rejected for result in files),
                "load_id": report.load_id,
            })

    return landed_raw_tables
