"""The one list of the quality gate's checks: the Dagster asset checks are made from it and the gate
reports under these names. The per-mart checks follow the marts of the manifest."""

from __future__ import annotations

from dataclasses import dataclass

from expectations.manifest_rules import ManifestRules

MART_CHECK = "great_expectations"
MART_WARNINGS_CHECK = "great_expectations_warnings"
CROSS_KPI_CHECK = "cross_kpi_consistency"
ROW_COUNTS_CHECK = "row_counts_vs_published"
BOOKINGS_CHECK = "bookings_vs_published"
FRESHNESS_CHECK = "freshness"
INTACT_CHECK = "serving_file_intact"


@dataclass(frozen=True)
class GateCheck:
    name: str
    mart: str
    blocking: bool
    description: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.mart)


def gate_checks(rules: ManifestRules) -> list[GateCheck]:
    checks: list[GateCheck] = []
    for mart in rules.marts:
        tests = rules.tests.get(mart, [])
        if any(test.blocking for test in tests):
            checks.append(GateCheck(MART_CHECK, mart, True, "the mart's dbt tests (severity error) in Great Expectations: "
                                    + ", ".join(sorted({test.test for test in tests if test.blocking}))))
        if any(not test.blocking for test in tests):
            checks.append(GateCheck(MART_WARNINGS_CHECK, mart, False, "the mart's dbt tests of severity warn: "
                                    + ", ".join(sorted({test.test for test in tests if not test.blocking}))))
    checks += [
        GateCheck(CROSS_KPI_CHECK, "fct_kpi_quota_attainment", True,
                  "the cross-KPI dbt tests (tests/dbt): bookings agree across quota attainment, win rate and deal size; "
                  "MRR movements reconcile; company forecast = sum of teams"),
        GateCheck(ROW_COUNTS_CHECK, "fct_kpi_win_rate", True,
                  "every mart's row count within CRM_KPIS_GATE_MAX_ROW_CHANGE of the published version"),
        GateCheck(BOOKINGS_CHECK, "fct_kpi_win_rate", True,
                  "total bookings within CRM_KPIS_GATE_MAX_BOOKINGS_CHANGE of the published version"),
        GateCheck(FRESHNESS_CHECK, "fct_data_freshness", True,
                  "each source's newest opportunity change at most CRM_KPIS_GATE_MAX_DATA_AGE_DAYS old at the build date"),
        # not blocking: a serving file changed behind the pipeline's back is reported, and the publish
        # that follows replaces it with the audited marts
        GateCheck(INTACT_CHECK, "fct_kpi_win_rate", False,
                  "the served marts are the ones last published (content checksums in meta.publish_log)"),
    ]
    return checks
