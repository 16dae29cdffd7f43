"""The sales managers' HTML dashboard, rebuilt from the serving file after each publish."""

import dagster as dg

from orchestration.defs.publish import PUBLISHED_MARTS_KEY
from orchestration.progress import say
from orchestration.settings import Settings

DASHBOARD_KEY = dg.AssetKey(["serving", "dashboard"])


def dashboard_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(key=DASHBOARD_KEY, group_name="publish", kinds={"html"}, deps=[PUBLISHED_MARTS_KEY])
    def sales_dashboard() -> dg.MaterializeResult:
        """Runs after publishing, so a failure here never holds back or undoes a publish."""
        from orchestration.dashboard import build_dashboard

        report = build_dashboard(settings.serving_file, settings.dashboard)
        say(f"dashboard written to {report.path}")
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(report.path)), "bytes": report.size_bytes})

    return sales_dashboard
