"""The quality gate as blocking (and, for dbt `warn` tests, non-blocking) asset checks on the marts:
every check named in expectations/checks.py, validated by expectations/gate.py."""


from collections.abc import Iterator

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at definition time
import dagster as dg

from expectations.checks import gate_checks
from expectations.manifest_rules import ManifestRules
from orchestration.defs.dbt.assets import run_folder
from orchestration.progress import say
from orchestration.settings import Settings


def mart_asset_key(mart: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", mart])


def gate_check_specs(rules: ManifestRules) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(check.name, asset=mart_asset_key(check.mart), blocking=check.blocking, description=check.description)
            for check in gate_checks(rules)]


def quality_gate_checks(settings: Settings, rules: ManifestRules) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(specs=gate_check_specs(rules), can_subset=False, required_resource_keys={"warehouse_lock"})
    def quality_gate(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        """Great Expectations on the finished marts of the working warehouse; a failure blocks publishing."""
        from expectations.gate import run_quality_gate

        say("checking the marts (Great Expectations)")
        report = run_quality_gate(settings, context.run.run_id, run_folder(settings, context.run.run_id) / "manifest.json")
        report.save(settings.gate_reports)
        say(f"quality gate {'passed' if report.passed else 'FAILED'}: {sum(outcome.passed for outcome in report.outcomes)} of "
            f"{len(report.outcomes)} checks passed; Data Docs: {report.data_docs}")
        for outcome in report.failed:
            say(f"  failed: {outcome.describe()}")
        for outcome in report.warnings:
            say(f"  warning: {outcome.describe()}")
        for outcome in report.outcomes:
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(list(outcome.asset_key)),
                check_name=outcome.check_name,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR if outcome.blocking else dg.AssetCheckSeverity.WARN,
                metadata={"failures": dg.MetadataValue.json(outcome.failures), "error": outcome.error or "",
                          "data_docs": report.data_docs or ""},
            )

    return quality_gate
