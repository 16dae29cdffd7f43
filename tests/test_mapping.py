"""Mapping files: every mistake is caught before anything is written, and named by file, column and value."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestration.mapping import MappingError, apply_mapping, load_mapping

PROJECT = Path(__file__).parent.parent
MAVEN_MAPPING = PROJECT / "examples" / "maven_crm" / "mapping.yml"
MAVEN_EXPORT = Path(__file__).parent / "fixtures" / "maven_crm"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    shutil.copytree(MAVEN_EXPORT, folder)
    return folder


def edited_mapping(tmp_path: Path, edit) -> Path:
    document = yaml.safe_load(MAVEN_MAPPING.read_text())
    edit(document)
    path = tmp_path / "mapping.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def mapping_error(mapping: Path, export: Path, out: Path) -> str:
    with pytest.raises(MappingError) as raised:
        apply_mapping(load_mapping(mapping, export), out)
    assert not out.exists(), "nothing may be written when the mapping fails"
    return str(raised.value)


def test_the_example_maps_every_row(export, tmp_path):
    tables = apply_mapping(load_mapping(MAVEN_MAPPING, export), tmp_path / "landing")
    assert {(table.table, table.rows) for table in tables} == {
        ("users", 35), ("accounts", 85), ("products", 7), ("opportunities", 8800)}
    header = (tmp_path / "landing" / "opportunities" / "maven_crm__sales_pipeline.csv").read_text().splitlines()[0]
    assert header.startswith("opportunity_id,opportunity_name,account_id,owner_id,product_line,stage")


def test_an_unmapped_stage_value_names_file_line_column_and_value(export, tmp_path):
    pipeline = export / "sales_pipeline.csv"
    pipeline.write_text(pipeline.read_text() + "X1,Moses Frase,GTX Basic,Cancity,Pending,2017-01-02,,\n")
    message = mapping_error(MAVEN_MAPPING, export, tmp_path / "landing")
    assert "tables.opportunities.columns.stage: value has no mapping" in message
    assert "sales_pipeline.csv line 8802 column deal_stage: value 'Pending'" in message


def test_an_unknown_export_column_is_named_with_the_files_columns(export, tmp_path):
    mapping = edited_mapping(tmp_path, lambda m: m["tables"]["accounts"]["columns"].update(industry="sektor"))
    message = mapping_error(mapping, export, tmp_path / "landing")
    assert "tables.accounts.columns.industry: unknown column 'sektor' in accounts.csv" in message
    assert "(its columns: account, sector, year_established" in message


def test_unknown_contract_tables_and_columns_and_missing_required_ones(export, tmp_path):
    unknown_table = edited_mapping(tmp_path, lambda m: m["tables"].update(deals=m["tables"]["opportunities"]))
    assert "tables.deals: not a table of the landing contract" in mapping_error(unknown_table, export, tmp_path / "l")
    unknown_column = edited_mapping(tmp_path, lambda m: m["tables"]["users"]["columns"].update(office="regional_office"))
    assert "tables.users.columns.office: not a column of users" in mapping_error(unknown_column, export, tmp_path / "l")
    missing = edited_mapping(tmp_path, lambda m: m["tables"]["opportunities"]["columns"].pop("currency"))
    assert "tables.opportunities: required column(s) not mapped: currency" in mapping_error(missing, export, tmp_path / "l")


def test_a_date_that_does_not_match_the_format(export, tmp_path):
    pipeline = export / "sales_pipeline.csv"
    pipeline.write_text(pipeline.read_text().replace("2016-10-20,2017-03-01", "20/10/2016,2017-03-01", 1))
    message = mapping_error(MAVEN_MAPPING, export, tmp_path / "landing")
    assert "value does not match the date format '%Y-%m-%d'" in message
    assert "sales_pipeline.csv line 2 column engage_date: value '20/10/2016'" in message


def test_a_lookup_value_that_is_not_in_the_other_file(export, tmp_path):
    mapping = edited_mapping(tmp_path, lambda m: m["tables"]["opportunities"]["lookups"]["list_price"].pop("values"))
    message = mapping_error(mapping, export, tmp_path / "landing")
    assert "tables.opportunities.lookups.list_price: value not found in products.csv column product" in message
    assert "sales_pipeline.csv line 3 column product: value 'GTXPro'" in message


def test_sql_that_does_not_run_is_named(export, tmp_path):
    mapping = edited_mapping(tmp_path, lambda m: m["tables"]["opportunities"]["columns"].update(amount={"sql": "close_valu * 2"}))
    assert "tables.opportunities.columns.amount: the sql does not run on sales_pipeline.csv" in mapping_error(
        mapping, export, tmp_path / "landing")


def test_the_cli_reports_a_mapping_error_in_one_line(export, tmp_path):
    (export / "accounts.csv").unlink()
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "map", str(MAVEN_MAPPING), "--input", str(export),
         "--landing", str(tmp_path / "landing")], capture_output=True, text=True, cwd=PROJECT)
    assert result.returncode == 1
    assert "tables.accounts: file accounts.csv not found in" in result.stderr


def test_a_semicolon_export_maps_to_the_same_files(export, tmp_path):
    # Nordic exports are often semicolon-separated: the header is read by the same reader as the rows
    for path in export.glob("*.csv"):
        path.write_text(path.read_text().replace(",", ";"))
    semicolon = apply_mapping(load_mapping(MAVEN_MAPPING, export), tmp_path / "semicolon")
    comma = apply_mapping(load_mapping(MAVEN_MAPPING, MAVEN_EXPORT), tmp_path / "comma")
    assert [table.output_file.read_text() for table in semicolon] == [table.output_file.read_text() for table in comma]
