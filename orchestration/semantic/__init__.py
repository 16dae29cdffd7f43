"""The semantic layer's runtime: MetricFlow (`mf`) on the published serving file, read-only."""

from orchestration.semantic.metricflow_project import MetricsUnavailable, prepare_metricflow_project, run_metricflow

__all__ = ["MetricsUnavailable", "prepare_metricflow_project", "run_metricflow"]
