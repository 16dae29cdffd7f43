"""The quality gate's rules, read from dbt's manifest: the data tests of the marts (grain, not null,
bounds, keys, accepted values) and the singular cross-KPI tests. The dbt YAML and tests/dbt/ are the one
home of every rule; the gate validates the same rules with Great Expectations on the finished marts,
with the same severity (a dbt `warn` is a non-blocking gate check)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARTS_SCHEMA = "marts"
CROSS_KPI_TAG = "cross_kpi"
# the marts' generic tests (dbt_project.yml, data_tests): the gate checks them, so a refresh's dbt build leaves them out
GATE_RULE_TAG = "gate_rule"
# the generic dbt tests the gate can express in Great Expectations
TRANSLATED_TESTS = {"unique", "not_null", "unique_combination", "between", "relationships", "accepted_values"}
REF = re.compile(r"""ref\(\s*['"](\w+)['"]\s*\)""")
VAR = re.compile(r"""^\{\{\s*var\(\s*['"](\w+)['"]\s*\)\s*\}\}$""")


class RuleError(ValueError):
    """A rule the gate cannot apply (a test type it cannot translate, a key in no mart)."""


@dataclass(frozen=True)
class MartTest:
    """One generic dbt test on a mart: its kind, column, arguments and whether a failure blocks."""

    test: str
    mart: str
    column: str | None
    arguments: Mapping[str, Any]
    blocking: bool

    @property
    def referenced_mart(self) -> str | None:
        """For relationships: the mart the column's values must exist in."""
        if self.test != "relationships":
            return None
        match = REF.search(str(self.arguments["to"]))
        if match is None:
            raise RuleError(f"{self.mart}.{self.column}: relationships to {self.arguments['to']} is not a ref()")
        return match.group(1)


@dataclass(frozen=True)
class CrossKpiTest:
    name: str
    description: str
    # compiled SQL; None in a manifest that dbt only parsed (enough to name the checks)
    sql: str | None
    blocking: bool


@dataclass(frozen=True)
class ManifestRules:
    marts: list[str]
    tests: dict[str, list[MartTest]] = field(default_factory=dict)
    cross_kpi: list[CrossKpiTest] = field(default_factory=list)
    # the marts that record the build of each row (a built_at column): the gate may check only the rows built since
    kept_across_builds: set[str] = field(default_factory=set)

    def grain(self, mart: str) -> list[str]:
        for test in self.tests.get(mart, []):
            if test.test == "unique_combination":
                return list(test.arguments["columns"])
        return [test.column for test in self.tests.get(mart, []) if test.test == "unique" and test.column][:1]


def _rendered(value: Any, dbt_vars: Mapping[str, Any]) -> Any:
    """dbt keeps `{{ var('x') }}` arguments unrendered in the manifest; the gate needs the value."""
    if isinstance(value, str) and (match := VAR.match(value.strip())):
        return dbt_vars[match.group(1)]
    return value


def _strip_database(sql: str, database: str | None) -> str:
    # compiled SQL names the warehouse's catalog ("warehouse"."marts"."x"); the gate's connection is to
    # that file (or a copy under another name), whose default catalog it is
    return sql.replace(f'"{database}".', "") if database else sql


def read_rules(manifest_path: Path, dbt_vars: Mapping[str, Any] | None = None) -> ManifestRules:
    """The marts' rules of a manifest. The singular tests' SQL is taken compiled, so the gate reads the
    manifest a `dbt build` wrote; a parse-only manifest names them without SQL."""
    manifest = json.loads(manifest_path.read_text())
    dbt_vars = dbt_vars or {}
    marts = sorted(node["name"] for node in manifest["nodes"].values()
                   if node["resource_type"] == "model" and node["config"].get("schema") == MARTS_SCHEMA)
    mart_ids = {f"model.{node['package_name']}.{node['name']}": node["name"] for node in manifest["nodes"].values()
                if node["resource_type"] == "model" and node["name"] in marts}
    rules = ManifestRules(marts=marts, tests={mart: [] for mart in marts}, kept_across_builds={
        node["name"] for node in manifest["nodes"].values() if node["name"] in marts and "built_at" in node.get("columns", {})})
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node["config"].get("enabled", True):
            continue
        blocking = str(node["config"].get("severity", "error")).lower() == "error"
        metadata = node.get("test_metadata")
        if metadata:
            mart = mart_ids.get(node.get("attached_node") or "")
            if mart is None and GATE_RULE_TAG in node["config"].get("tags", []):
                raise RuleError(f"dbt test {node['name']} is tagged {GATE_RULE_TAG} (a refresh's dbt build leaves it to the quality "
                                "gate) but tests no mart, so nothing would check it: move it out of models/marts")
            if mart is None:
                continue
            if metadata["name"] not in TRANSLATED_TESTS:
                raise RuleError(f"the quality gate cannot translate dbt test '{metadata['name']}' on {mart}: "
                                f"add it to expectations/suites.py")
            arguments = {key: _rendered(value, dbt_vars) for key, value in metadata["kwargs"].items() if key not in ("model", "column_name")}
            rules.tests[mart].append(MartTest(metadata["name"], mart, node.get("column_name"), arguments, blocking))
        elif CROSS_KPI_TAG in node["config"].get("tags", []):
            sql = node.get("compiled_code") or None
            rules.cross_kpi.append(CrossKpiTest(node["name"], node.get("description") or node["name"],
                                                sql and _strip_database(sql, node.get("database")), blocking))
    for mart, tests in rules.tests.items():
        for test in tests:
            if test.referenced_mart is not None and test.referenced_mart not in marts:
                raise RuleError(f"{mart}.{test.column}: relationships to {test.referenced_mart}, which is not a mart; "
                                "the gate reads only the marts")
    return rules
