"""The hand-made CRM (tests/fixtures/hand_made) landed, built and published as a refresh publishes it
(serving file, Parquet, semantic manifest), for the tests of what analysts and BI tools read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.dbt.runner import dbt_target_dir, run_dbt, settings_for_warehouse
from orchestration.landing import land_directory
from orchestration.serving.client_format import mart_descriptions
from orchestration.serving.publish import PublishRecord, publish, withheld_columns
from orchestration.serving.semantic_manifest import publish_semantic_manifest
from orchestration.settings import Settings

HAND_MADE = Path(__file__).parent / "fixtures" / "hand_made"
AS_OF = date(2025, 6, 15)


@dataclass(frozen=True)
class Published:
    warehouse: Path
    record: PublishRecord
    settings: Settings


def build_and_publish(root: Path) -> Published:
    warehouse = root / "warehouse.duckdb"
    land_directory(HAND_MADE, warehouse)
    result = run_dbt(["build"], warehouse, quiet=True, as_of=AS_OF)
    assert result.returncode == 0, result.stdout[-3000:]
    manifest = dbt_target_dir(warehouse) / "manifest.json"
    serving = root / "serving"
    record = publish(warehouse, serving, "hand-made", [], withheld=withheld_columns(manifest, False),
                     descriptions=mart_descriptions(manifest))
    publish_semantic_manifest(manifest, serving)
    settings = settings_for_warehouse(warehouse, AS_OF).with_overrides(serving=serving)
    return Published(warehouse, record, settings)
