"""What a dbt invocation left in its target folder, node by node: which tests failed or warned, what each means
(its description in the YAML) and the model it tests. The refresh's dbt step and its summary both read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FAILED = ("fail", "error", "runtime error")
WARNED = ("warn",)


@dataclass(frozen=True)
class NodeOutcome:
    name: str
    resource_type: str
    status: str
    subject: str
    description: str
    message: str

    @property
    def is_test(self) -> bool:
        return self.resource_type in ("test", "unit_test")

    def describe(self) -> str:
        """One line for a summary: `name on schema/model (dbt test): what it means`."""
        kind = "dbt unit test" if self.resource_type == "unit_test" else "dbt test" if self.is_test else f"dbt {self.resource_type}"
        target = f" on {self.subject}" if self.subject else ""
        meaning = self.description or (self.message if not self.is_test else "")
        return f"{self.name}{target} ({kind})" + (f": {meaning}" if meaning else "")


def _subject(node: dict, nodes: dict) -> str:
    """The model a test is attached to (schema/name, as its Dagster asset key reads); '' for a model, a seed or a
    singular test, which name no other node."""
    attached = nodes.get(node.get("attached_node") or "")
    if attached is None and node.get("resource_type") == "unit_test":
        attached = next((nodes[parent] for parent in node.get("depends_on", {}).get("nodes", []) if parent in nodes), None)
    if attached is None:
        return ""
    schema = attached.get("config", {}).get("schema")
    return f"{schema}/{attached['name']}" if schema else attached["name"]


def read_outcomes(target_folder: Path) -> list[NodeOutcome]:
    """Every node dbt ran in the invocation that wrote `target_folder` (empty when it never got that far)."""
    results_path, manifest_path = target_folder / "run_results.json", target_folder / "manifest.json"
    if not results_path.exists() or not manifest_path.exists():
        return []
    manifest = json.loads(manifest_path.read_text())
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    outcomes = []
    for result in json.loads(results_path.read_text()).get("results", []):
        node = nodes.get(result["unique_id"], {"name": result["unique_id"].split(".")[-1], "resource_type": result["unique_id"].split(".")[0]})
        outcomes.append(NodeOutcome(name=node["name"], resource_type=node.get("resource_type", ""), status=str(result.get("status", "")),
                                    subject=_subject(node, nodes), description=(node.get("description") or "").strip(),
                                    message=(result.get("message") or "").strip()))
    return outcomes


def failed_nodes(outcomes: list[NodeOutcome]) -> list[NodeOutcome]:
    return [outcome for outcome in outcomes if outcome.status in FAILED]


def warned_nodes(outcomes: list[NodeOutcome]) -> list[NodeOutcome]:
    return [outcome for outcome in outcomes if outcome.status in WARNED]
