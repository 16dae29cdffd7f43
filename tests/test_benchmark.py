"""A small run of the benchmark (no timing assertions): it runs end to end, and the core KPIs computed by
the pipeline, the hand-written reference SQL and the naive pandas version are identical."""

from __future__ import annotations

import json

import pytest

from bench.run import main

pytestmark = pytest.mark.seconds(100)


def test_small_benchmark_runs_and_three_implementations_agree(tmp_path):
    report = tmp_path / "benchmarks.md"
    assert main(["--sizes", "1500", "--work", str(tmp_path / "work"), "--output", str(report)]) == 0
    result = json.loads(report.with_suffix(".json").read_text())["sizes"][0]
    assert result["consistent"] and result["disagreements"] == {
        "win_rate": 0, "average_deal_size": 0, "sales_cycle": 0, "activities_per_week": 0}
    steps = {step["name"]: step for step in result["steps"]}
    assert {"land", "dbt build (full)", "quality gate", "publish", "reference: core KPI subset (SQL)",
            "naive pandas: core KPI subset", "dbt build (nightly, incremental)", "quality gate (nightly)", "publish (nightly)"} <= steps.keys()
    assert all(step["seconds"] > 0 and step["peak_mib"] > 0 for step in steps.values())
    text = report.read_text()
    assert "one-pass reference SQL" in text and "cores" in text and "nightly refresh end to end" in text
    # dbt's own time per node of both builds, the data tests as one line
    assert {"full", "nightly"} <= result["node_seconds"].keys() and "data tests (all)" in result["node_seconds"]["nightly"]
    assert "int_activities_enriched" in result["node_seconds"]["full"] and "Slowest parts of the nightly build" in text

    # the report is rewritten from its JSON alone, the same; and from the JSON of before the engines' table
    rewritten = tmp_path / "again.md"
    assert main(["--report-only", str(report.with_suffix(".json")), "--output", str(rewritten)]) == 0
    assert _tables(rewritten.read_text()) == _tables(text)
    older = tmp_path / "older.json"
    older.write_text(json.dumps([result]))
    assert main(["--report-only", str(older), "--output", str(tmp_path / "older.md")]) == 0
    assert _tables((tmp_path / "older.md").read_text()) == _tables(text)


def _tables(report: str) -> list[str]:
    return [line for line in report.splitlines() if line.startswith("|")]
