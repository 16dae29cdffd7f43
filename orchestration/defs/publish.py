"""Publishing: the audited marts into the serving file, once every blocking check passed."""


from pathlib import Path

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at definition time
import dagster as dg

from orchestration.defs.automation import is_full_refresh
from orchestration.defs.landing import TRANSIENT_FAILURE_RETRY
from orchestration.defs.quality import mart_asset_key
from orchestration.progress import say
from orchestration.serving.client_format import mart_descriptions
from orchestration.serving.engine_marts import published_marts_file
from orchestration.serving.publish import publish, replace_keys, withheld_columns
from orchestration.serving.semantic_manifest import publish_semantic_manifest
from orchestration.settings import Settings

PUBLISHED_MARTS_KEY = dg.AssetKey(["serving", "published_marts"])


def published_marts_asset(settings: Settings, marts: list[str], manifest_path: Path) -> dg.AssetsDefinition:
    @dg.asset(key=PUBLISHED_MARTS_KEY, group_name="publish", kinds={"duckdb", "parquet"},
              deps=[mart_asset_key(mart) for mart in marts], retry_policy=TRANSIENT_FAILURE_RETRY,
              required_resource_keys={"warehouse_lock"})
    def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """Copy the audited marts into a new serving file (+ Parquet) and swap it in atomically; on Postgres or
        Spark, swap them in as the engine's schema `published` first and serve those."""
        from expectations.gate import GateReport

        report = GateReport.load(settings.gate_reports, context.run.run_id)
        if report is None or not report.passed:
            # blocking checks already stop this step; this guards a run that skipped or lost the gate
            reason = "the quality gate did not run in this run" if report is None else \
                "; ".join(outcome.describe() for outcome in report.failed)
            raise dg.Failure(description=f"not publishing: {reason}")
        say(f"publishing to {settings.serving}" + ("" if settings.engine == "duckdb" else f" and to schema published on {settings.engine}"))
        with published_marts_file(settings, context.run.run_id, marts) as audited:
            record = publish(audited, settings.serving, context.run.run_id,
                             [{"check": outcome.check_name, "target": outcome.target, "passed": outcome.passed} for outcome in report.outcomes],
                             withheld=withheld_columns(manifest_path, settings.serve_pii), engine=settings.engine,
                             config=settings.warehouse_config, descriptions=mart_descriptions(manifest_path),
                             storage_version=settings.serving_storage_version,
                             # a night's publish applies the rows built since to the marts kept across builds; a full
                             # refresh, which rebuilds every row, writes a new file
                             changed_since_last=None if is_full_refresh(context.run.tags) else replace_keys(manifest_path))
        # the metric definitions the served marts were built with, for `crm-kpis metrics`
        publish_semantic_manifest(manifest_path, settings.serving)
        say(f"published {len(record.row_counts)} marts to {record.serving_file} and {record.parquet_folder}"
            + (f" ({len(record.changes_applied)} by the rows built since the last publish)" if record.changes_applied else ""))
        return dg.MaterializeResult(metadata={
            "serving_file": str(record.serving_file), "parquet_folder": str(record.parquet_folder),
            "publish_id": record.publish_id, "row_counts": dg.MetadataValue.json(record.row_counts),
            "total_bookings": record.total_bookings,
        })

    return published_marts
