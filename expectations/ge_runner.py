"""Running Great Expectations the way this gate needs: a file-backed context under the quality folder,
suites and validation definitions (re)defined from code, pandas DataFrames read from a read-only connection
(GE 1.24's SQL datasource cannot read DuckDB), and an expectation that raised counted as a failure,
never as a pass."""

from __future__ import annotations

import math
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

# Great Expectations imports pyspark.sql.connect where pyspark is installed (engine spark), and that module ends
# the process (sys.exit(0), "Skipping doctests") when __main__ has neither __spec__ nor __file__, as in
# `python -c` and pytest-xdist workers, and Spark Connect's gRPC packages are missing. A file name for such a
# __main__ keeps the gate alive there; scripts and the CLI have one already.
_main = sys.modules.get("__main__")
if _main is not None and getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<crm-kpis>"


def _raised(exception_info: Any) -> str | None:
    """GE nests exception info per metric; any raised exception makes the expectation an error."""
    if isinstance(exception_info, dict):
        if exception_info.get("raised_exception"):
            return str(exception_info.get("exception_message") or "exception")
        for value in exception_info.values():
            message = _raised(value)
            if message:
                return message
    return None


def _json_safe(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict, str)):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


DATAFRAME_ASSET = "mart_frame"


class GreatExpectationsRunner:
    """A file-backed GE context under the quality folder; suites and validation definitions are (re)defined from code."""

    def __init__(self, root: Path) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GE fingerprints every DataFrame under 1 GB (pd.util.hash_pandas_object) for a marker of the
        # validation result that nothing here reads: 8 of the gate's 60 s at 1M opportunities
        pandas_execution_engine.HASH_THRESHOLD = 0

        self.gx = gx
        root.mkdir(parents=True, exist_ok=True)
        self.context = gx.get_context(mode="file", project_root_dir=str(root))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.variables.save()
        self.datasource = self.context.data_sources.add_or_update_pandas("warehouse")
        self._batch: Any = None

    def _batch_definition(self) -> Any:
        """One DataFrame asset and batch definition for every suite: each is saved into the context's
        project file, which costs a write per suite otherwise (seconds per gate); the frame is the batch
        parameter of each run."""
        if self._batch is None:
            asset = next((asset for asset in self.datasource.assets if asset.name == DATAFRAME_ASSET), None) \
                or self.datasource.add_dataframe_asset(DATAFRAME_ASSET)
            self._batch = next(iter(asset.batch_definitions), None) or asset.add_batch_definition_whole_dataframe("whole")
        return self._batch

    def validate(self, suite: Any, frame: pd.DataFrame, index_columns: list[str]) -> tuple[bool, list[dict], str | None]:
        """(passed, failures, error) of one suite on one DataFrame."""
        gx = self.gx
        name = suite.name
        batch = self._batch_definition()
        suite = self.context.suites.add_or_update(suite)
        validation = self.context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
        if index_columns:
            result_format["unexpected_index_column_names"] = index_columns
        # the validation definition runs (and stores its result for Data Docs) by itself: a checkpoint around it
        # would add a saved checkpoint and its result per check, a second of every gate, and nothing read
        result = validation.run(batch_parameters={"dataframe": frame}, result_format=result_format)
        failures, error = [], None
        for expectation in result.results:
            raised = _raised(expectation.exception_info)
            if raised:
                error = f"{expectation.expectation_config.type}: {raised}"
            if expectation.success and not raised:
                continue
            kwargs = expectation.expectation_config.kwargs
            details = expectation.result or {}
            sample = details.get("partial_unexpected_index_list") or details.get("partial_unexpected_list")
            failures.append(_json_safe({
                "expectation": expectation.expectation_config.type,
                "column": kwargs.get("column"),
                "columns": kwargs.get("column_list"),
                "unexpected_count": details.get("unexpected_count"),
                "sample": (sample or [])[:5],
                "error": raised,
            }))
        return result.success and error is None, failures, error

    def build_docs(self, keep_runs: int = 14) -> str | None:
        """Data Docs over the last `keep_runs` validations per suite (older results are pruned, or the
        site would grow, and take longer to render, every night)."""
        validations = Path(self.context.root_directory) / "uncommitted" / "validations"
        for suite_folder in (validations.iterdir() if validations.exists() else []):
            results = sorted(suite_folder.rglob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
            for old in results[keep_runs:]:
                old.unlink(missing_ok=True)
        sites = self.context.build_data_docs()
        site = next(iter(sites.values()), None)
        if site:
            from expectations.data_docs_assets import localise

            localise(Path(site.removeprefix("file://")).parent)
        return site
