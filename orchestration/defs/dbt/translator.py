"""Asset keys and groups of the dbt nodes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

from orchestration.defs.landing import raw_asset_key


class WarehouseTranslator(DagsterDbtTranslator):
    """The files source's tables are the landed raw tables (raw/<table>), so landing is upstream of
    staging; a CRM adapter's tables (raw_salesforce/<table>, ...) are loaded by its EL tool."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] == "files":
                return raw_asset_key(dbt_resource_props["name"])
            return dg.AssetKey([f"raw_{dbt_resource_props['source_name']}", dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "landing" if dbt_resource_props["source_name"] == "files" else "crm_sources"
        return dbt_resource_props["config"].get("schema") or "dbt"
