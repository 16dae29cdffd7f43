"""The sales managers' dashboard: one self-contained HTML report built from the published marts."""

from orchestration.dashboard.report import DashboardReport, build_dashboard

__all__ = ["DashboardReport", "build_dashboard"]
