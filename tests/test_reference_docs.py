"""Each rule has one home; the files written from it must be current (`make docs` writes them)."""

from __future__ import annotations

import re

from orchestration import reference_docs
from orchestration.landing.contract import CONTRACTS


def test_files_written_from_a_rules_home_are_current():
    assert reference_docs.stale() == [], "run `make docs`"


def test_every_kpi_mart_takes_its_description_from_its_doc_block():
    definitions = reference_docs.kpi_definitions()
    page = reference_docs.KPI_PAGE.read_text()
    described = set(re.findall(r"<!-- definition (\w+):", page))
    assert described == set(definitions), "docs/kpis.md shows exactly the doc blocks"
    yaml_text = "".join(path.read_text() for path in reference_docs.PROJECT_DIR.glob("models/marts/*/_*__models.yml"))
    for name in definitions:
        assert f"{{{{ doc('{name}') }}}}" in yaml_text, f"{name}'s YAML description does not reference its doc block"


def test_the_generated_sources_list_every_contract_table():
    sources = reference_docs.sources_yaml()
    for table in CONTRACTS:
        assert f"- name: {table}\n" in sources
