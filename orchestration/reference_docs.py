"""The files written from a rule's one home (`make docs` writes them, a test fails when one is stale):

- models/staging/files/_files__sources.yml: the dbt source of the landed files, from the landing contract
  (orchestration/landing/contract.py);
- docs/landing_contract.md, its tables section: from the same contract;
- docs/kpis.md, each KPI's definition: from its dbt doc block in models/docs/kpi_definitions.md, the
  block the mart's YAML description references;
- README.md, the table of settings: from orchestration/settings.py and the vars of dbt_project.yml (their
  meaning is the comment above them there).

    python -m orchestration.reference_docs          # write them
    python -m orchestration.reference_docs --check  # exit 1 naming the stale ones
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from orchestration.landing.contract import CONTRACTS, LINEAGE_COLUMNS, TableContract
from orchestration.settings import PROJECT_DIR, RUNTIME_SETTINGS, dbt_project_vars, dbt_var_environment_variable

SOURCES_YAML = PROJECT_DIR / "models" / "staging" / "files" / "_files__sources.yml"
CONTRACT_PAGE = PROJECT_DIR / "docs" / "landing_contract.md"
KPI_PAGE = PROJECT_DIR / "docs" / "kpis.md"
KPI_DEFINITIONS = PROJECT_DIR / "models" / "docs" / "kpi_definitions.md"
DOC_BLOCK = re.compile(r"\{%\s*docs\s+(\w+)\s*%\}\n(.*?)\n\{%\s*enddocs\s*%\}", re.S)
DEFINITION = re.compile(r"(<!-- definition (\w+):[^\n]*-->\n)(.*?)(\n<!-- /definition -->)", re.S)
TABLES_START = "<!-- tables: generated from orchestration/landing/contract.py by `make docs`; edit the contract -->"
TABLES_END = "<!-- /tables -->"
README = PROJECT_DIR / "README.md"
SETTINGS_START = "<!-- settings: generated from orchestration/settings.py and dbt_project.yml by `make docs` -->"
SETTINGS_END = "<!-- /settings -->"


def _key(contract: TableContract) -> str:
    return ", ".join(contract.key)


def sources_yaml() -> str:
    tables = []
    for contract in CONTRACTS.values():
        columns = [{"name": name, "data_type": sql_type,
                    **({"description": contract.notes[name]} if name in contract.notes else {})}
                   for name, sql_type in {**contract.columns, **LINEAGE_COLUMNS}.items()]
        tables.append({"name": contract.name, "description": f"{contract.description} Key: {_key(contract)}.", "columns": columns})
    source = {
        "name": "files",
        "description": "Raw CRM tables landed by `crm-kpis land` (docs/landing_contract.md). Timestamps are UTC.",
        "schema": "raw",
        "loaded_at_field": "_loaded_at",
        "freshness": {"warn_after": {"count": 2, "period": "day"}, "error_after": {"count": 7, "period": "day"}},
        "tables": tables,
    }
    header = ("# Generated from orchestration/landing/contract.py by `make docs` (python -m orchestration.reference_docs):\n"
              "# edit the contract, not this file.\n")
    return header + yaml.safe_dump({"version": 2, "sources": [source]}, sort_keys=False, width=110, allow_unicode=True)


def contract_tables() -> str:
    lines = [TABLES_START, ""]
    for contract in CONTRACTS.values():
        optional = " (optional table)" if contract.optional_table else ""
        version = f"newest `{contract.version_column}` wins" if contract.version_column else "the later file wins"
        lines += [f"### `{contract.name}`{optional}", "", f"{contract.description} Key: `{_key(contract)}`; {version}.", "",
                  "| column | type | required | notes |", "|---|---|---|---|"]
        for name, sql_type in contract.columns.items():
            notes = [contract.notes.get(name, "")]
            if name in contract.ranges:
                low, high = contract.ranges[name]
                notes.append(f"{low:g}–{high:g}, else rejected")
            lines.append(f"| `{name}` | {sql_type} | {'yes' if name in contract.required else ''} | {'; '.join(n for n in notes if n)} |")
        lines.append("")
    lines.append(TABLES_END)
    return "\n".join(lines)


def _replace_between(current: str, start: str, end: str, generated: str) -> str:
    """`current` with the part from `start` to `end` (both markers included) replaced by `generated`."""
    before, _, rest = current.partition(start)
    _, _, after = rest.partition(end)
    return before + generated + after


def contract_page(current: str) -> str:
    return _replace_between(current, TABLES_START, TABLES_END, contract_tables())


def kpi_definitions() -> dict[str, str]:
    return {name: text.strip() for name, text in DOC_BLOCK.findall(KPI_DEFINITIONS.read_text())}


def kpi_page(current: str) -> str:
    definitions = kpi_definitions()

    def replace(match: re.Match) -> str:
        name = match.group(2)
        if name not in definitions:
            raise KeyError(f"docs/kpis.md names definition {name}, which models/docs/kpi_definitions.md lacks")
        return match.group(1) + definitions[name] + match.group(4)

    return DEFINITION.sub(replace, current)


def _var_meanings() -> dict[str, str]:
    """Each var of dbt_project.yml with the comment lines right above it."""
    meanings: dict[str, str] = {}
    comment: list[str] = []
    in_vars = False
    for line in (PROJECT_DIR / "dbt_project.yml").read_text().splitlines():
        if line.startswith("vars:"):
            in_vars = True
        elif in_vars and line and not line.startswith(" "):
            break
        elif in_vars and line.strip().startswith("#"):
            comment.append(line.strip().lstrip("# "))
        elif in_vars and line.strip():
            meanings[line.strip().split(":")[0]] = " ".join(comment)
            comment = []
        else:
            comment = []
    return meanings


def settings_table() -> str:
    lines = [SETTINGS_START, "", "| variable | default | meaning |", "|---|---|---|"]
    for setting in RUNTIME_SETTINGS:
        default = f"`{setting.default.replace('{home}', '$CRM_KPIS_HOME')}`" if setting.default else "see meaning"
        lines.append(f"| `{setting.environment_variable}` | {default} | {setting.meaning} |")
    meanings = _var_meanings()
    for name, value in dbt_project_vars().items():
        default = "empty" if value is None else f"`{value}`"
        lines.append(f"| `{dbt_var_environment_variable(name)}` | {default} | dbt var `{name}`: {meanings.get(name, '')} |")
    lines += ["", SETTINGS_END]
    return "\n".join(lines)


def readme(current: str) -> str:
    return _replace_between(current, SETTINGS_START, SETTINGS_END, settings_table())


def rendered() -> dict[Path, str]:
    return {
        SOURCES_YAML: sources_yaml(),
        CONTRACT_PAGE: contract_page(CONTRACT_PAGE.read_text()),
        KPI_PAGE: kpi_page(KPI_PAGE.read_text()),
        README: readme(README.read_text()),
    }


def stale() -> list[Path]:
    return [path for path, text in rendered().items() if not path.exists() or path.read_text() != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        outdated = stale()
        for path in outdated:
            print(f"{path.relative_to(PROJECT_DIR)} is out of date: run `make docs`", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in rendered().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
