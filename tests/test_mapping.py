"""Mapping files: every mistake is caught before anything is written, and named by file, column and value."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
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


def append_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


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
    append_line(export / "sales_pipeline.csv", "X1,Moses Frase,GTX Basic,Cancity,Pending,2017-01-02,,")
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


# --- every setting is checked ---------------------------------------------------------------------

@pytest.mark.parametrize("edit, setting, allowed", [
    (lambda m: m["tables"]["opportunities"]["lookups"]["list_price"].update(strict=False),
     "tables.opportunities.lookups.list_price.strict", "file, key, value, from, values, required"),
    (lambda m: m.update(version=2), "version", "name, defaults, tables"),
    (lambda m: m["defaults"].update(time_zone="UTC"), "defaults.time_zone", "date_format, timezone"),
    (lambda m: m["tables"]["users"].update(sheet="Sheet1"), "tables.users.sheet", "file, as, join, lookups, columns"),
    (lambda m: m["tables"]["accounts"]["columns"]["industry"].update(default="unknown"),
     "tables.accounts.columns.industry.default", "column, value, sql, values, strict, format, timezone"),
    (lambda m: m["tables"]["opportunities"].update(join=[{"file": "products.csv", "on": "product", "type": "left"}]),
     "tables.opportunities.join[0].type", "file, on, how, as"),
])
def test_an_unknown_setting_at_any_level_is_an_error_naming_file_setting_and_allowed_ones(export, tmp_path, edit, setting, allowed):
    mapping = edited_mapping(tmp_path, edit)
    message = mapping_error(mapping, export, tmp_path / "landing")
    assert message.startswith(f"{mapping}: {setting}: unknown setting (allowed ")
    assert message.endswith(f": {allowed})")


def test_settings_of_the_wrong_kind_are_errors(export, tmp_path):
    as_text = edited_mapping(tmp_path, lambda m: m["tables"]["accounts"]["columns"]["industry"].update(strict="no"))
    assert "tables.accounts.columns.industry.strict: must be true or false, not 'no'" in mapping_error(as_text, export, tmp_path / "l")
    strict_alone = edited_mapping(tmp_path, lambda m: m["tables"]["accounts"]["columns"].update(industry={"column": "sector", "strict": False}))
    assert "tables.accounts.columns.industry.strict: only applies with `values`" in mapping_error(strict_alone, export, tmp_path / "l")
    format_on_text = edited_mapping(tmp_path, lambda m: m["tables"]["users"]["columns"].update(team={"column": "manager", "format": "%Y"}))
    assert "tables.users.columns.team.format: only applies to date and timestamp columns" in mapping_error(format_on_text, export, tmp_path / "l")
    bad_zone = edited_mapping(tmp_path, lambda m: m["defaults"].update(timezone="Europe/Copenhagn"))
    assert "defaults.timezone: unknown time zone 'Europe/Copenhagn'" in mapping_error(bad_zone, export, tmp_path / "l")
    bad_format = edited_mapping(tmp_path, lambda m: m["defaults"].update(date_format="%Y-%q"))
    assert "defaults.date_format: '%Y-%q' is not a strptime format" in mapping_error(bad_format, export, tmp_path / "l")


def write_mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yml"
    path.write_text(text)
    return path


def test_yaml_reads_no_and_01_as_written_and_a_duplicate_key_is_an_error(export, tmp_path):
    # YAML 1.1 would read NO as false and 01 as 1: a value map must see the export's own text
    (export / "sales_teams.csv").write_text("sales_agent,manager,regional_office\nAnn,01,NO\n")
    users = """
tables:
  users:
    file: sales_teams.csv
    columns:
      user_id: sales_agent
      full_name: sales_agent
"""
    mapping = write_mapping(tmp_path, users + """      team: {column: manager, values: {01: First}}
      region: {column: regional_office, values: {NO: Norway}}
      updated_at: {value: 2017-12-31}
""")
    apply_mapping(load_mapping(mapping, export), tmp_path / "landing")
    assert (tmp_path / "landing" / "users" / "mapping__sales_teams.csv").read_text().splitlines()[1].startswith("Ann,Ann,First,Norway,")
    duplicate = write_mapping(tmp_path, users + "      user_id: manager\n")
    message = mapping_error(duplicate, export, tmp_path / "l")
    assert f"{duplicate} line 8 column 7: not valid YAML: duplicate key 'user_id' (first given on line 6)" in message
    assert "\n" not in message


# --- lookups -----------------------------------------------------------------------------------------

def test_an_optional_lookup_reads_a_miss_as_empty(export, tmp_path):
    def optional_price(m):
        m["tables"]["opportunities"]["lookups"]["list_price"].pop("values")
        m["tables"]["opportunities"]["lookups"]["list_price"]["required"] = False
    apply_mapping(load_mapping(edited_mapping(tmp_path, optional_price), export), tmp_path / "landing")
    with duckdb.connect() as connection:
        amounts = connection.execute(f"""
            select product, count(*), count(amount) from read_csv('{tmp_path}/landing/opportunities/*.csv', all_varchar = true)
            join read_csv('{export}/sales_pipeline.csv', all_varchar = true) using (opportunity_id)
            where deal_stage <> 'Won' group by all order by 1""").fetchall()
    # GTXPro is not in products.csv (it spells "GTX Pro"): its open and lost deals get no list price
    assert ("GTXPro", 1480 - amounts_won(export, "GTXPro"), 0) in amounts
    assert all(count == priced for product, count, priced in amounts if product != "GTXPro")


def amounts_won(export: Path, product: str) -> int:
    with duckdb.connect() as connection:
        return connection.execute(f"select count(*) from read_csv('{export}/sales_pipeline.csv') "
                                  f"where product = ? and deal_stage = 'Won'", [product]).fetchone()[0]


def test_a_required_lookup_miss_suggests_the_spelling_the_other_file_has(export, tmp_path):
    mapping = edited_mapping(tmp_path, lambda m: m["tables"]["opportunities"]["lookups"]["list_price"].pop("values"))
    message = mapping_error(mapping, export, tmp_path / "landing")
    assert "in 1480 row(s): sales_pipeline.csv line 3 column product: value 'GTXPro'" in message
    assert message.endswith("(products.csv has 'GTX Pro': map the export's spelling under "
                            "tables.opportunities.lookups.list_price.values, e.g. {GTXPro: GTX Pro})")
    append_line(export / "sales_pipeline.csv", "X1,Moses Frase,Quantum,Cancity,Engaging,2017-01-02,,")
    message = mapping_error(MAVEN_MAPPING, export, tmp_path / "landing")
    assert "sales_pipeline.csv line 8802 column product: value 'Quantum'" in message
    assert "set tables.opportunities.lookups.list_price.required: false if a row may have no match" in message


def test_a_lookup_with_two_values_for_one_key_is_an_error(export, tmp_path):
    append_line(export / "products.csv", "GTX Basic,GTX,600")
    message = mapping_error(MAVEN_MAPPING, export, tmp_path / "landing")
    assert "tables.opportunities.lookups.list_price: a lookup needs one sales_price per product" in message
    assert "products.csv lines 2, 9 key product 'GTX Basic'" in message


# --- one table from two files ----------------------------------------------------------------------

FUNNEL_MAPPING = """
name: funnel
tables:
  opportunities:
    file: deals.csv
    join:
      - {file: leads.csv, on: {mql_id: mql_id}, how: left}
    columns:
      opportunity_id: seller_id
      account_id: seller_id
      owner_id: sr_id
      lead_id: deals.mql_id              # mql_id is in both files
      stage: {value: Closed Won}
      is_closed: {value: true}
      is_won: {value: true}
      amount: {sql: "coalesce(revenue, '0')"}
      currency: {value: BRL}
      created_at: leads.first_contact_date
      closed_at: won_date
      updated_at: won_date
      lead_source_seen: origin
"""


@pytest.fixture
def funnel(tmp_path: Path) -> Path:
    folder = tmp_path / "funnel"
    folder.mkdir()
    (folder / "leads.csv").write_text(
        "mql_id,first_contact_date,origin\nm1,2018-02-01,social\nm2,2018-02-03,paid_search\nm3,2018-02-05,\n")
    (folder / "deals.csv").write_text(
        "mql_id,seller_id,sr_id,won_date,revenue\nm2,s2,r1,2018-03-01 10:00:00,500\nm9,s9,r1,2018-03-02 11:00:00,\n")
    return folder


def funnel_mapping(tmp_path: Path, edit=lambda text: text) -> Path:
    return write_mapping(tmp_path, edit(FUNNEL_MAPPING.replace("      lead_source_seen: origin\n", "")))


def written_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_table_joins_a_second_file_by_key(funnel, tmp_path):
    [table] = apply_mapping(load_mapping(funnel_mapping(tmp_path), funnel, business_timezone="UTC"), tmp_path / "landing")
    assert (table.rows, table.rows_dropped) == (2, 0)
    # m9 has no lead (how: left): its lead's columns are empty, the deal is kept
    assert [(row["opportunity_id"], row["lead_id"], row["created_at"], row["amount"]) for row in written_rows(table.output_file)] == [
        ("s2", "m2", "2018-02-03 00:00:00", "500"), ("s9", "m9", "", "0")]


def test_an_inner_join_drops_and_counts_rows_without_a_match(funnel, tmp_path):
    mapping = funnel_mapping(tmp_path, lambda text: text.replace("how: left", "how: inner"))
    [table] = apply_mapping(load_mapping(mapping, funnel), tmp_path / "landing")
    assert (table.rows, table.rows_dropped) == (1, 1)


def test_join_mistakes_are_named(funnel, tmp_path):
    ambiguous = funnel_mapping(tmp_path, lambda text: text.replace("lead_id: deals.mql_id", "lead_id: mql_id"))
    assert ("tables.opportunities.columns.lead_id: column 'mql_id' is ambiguous: write deals.mql_id or leads.mql_id"
            in mapping_error(ambiguous, funnel, tmp_path / "l"))
    unknown = funnel_mapping(tmp_path, lambda text: text.replace("leads.first_contact_date", "leads.first_contact"))
    assert ("unknown column 'leads.first_contact' in deals.csv or leads.csv (their columns: deals.mql_id, deals.seller_id"
            in mapping_error(unknown, funnel, tmp_path / "l"))
    bad_key = funnel_mapping(tmp_path, lambda text: text.replace("on: {mql_id: mql_id}", "on: {mql_id: lead}"))
    assert "tables.opportunities.join[0].on.mql_id: unknown column 'lead' in leads.csv" in mapping_error(bad_key, funnel, tmp_path / "l")
    bad_how = funnel_mapping(tmp_path, lambda text: text.replace("how: left", "how: outer"))
    assert "tables.opportunities.join[0].how: 'outer' is not one of left, inner" in mapping_error(bad_how, funnel, tmp_path / "l")
    append_line(funnel / "leads.csv", "m2,2018-02-04,email")
    assert ("tables.opportunities.join[0].on: a joined file needs one row per key, so a row is never doubled: "
            "leads.csv lines 3, 5 key mql_id 'm2'") in mapping_error(funnel_mapping(tmp_path), funnel, tmp_path / "l")


def test_a_bad_value_of_a_joined_file_names_that_files_line(funnel, tmp_path):
    mapping = funnel_mapping(tmp_path, lambda text: text.replace(
        "created_at: leads.first_contact_date", "created_at: {column: leads.first_contact_date, format: '%Y-%m-%d'}"))
    (funnel / "leads.csv").write_text((funnel / "leads.csv").read_text().replace("2018-02-03", "03/02/2018"))
    assert ("value does not match the date format '%Y-%m-%d', in 1 row(s): leads.csv line 3 column first_contact_date: "
            "value '03/02/2018'") in mapping_error(mapping, funnel, tmp_path / "landing")


# --- sql reads the export folder --------------------------------------------------------------------

def test_paths_in_sql_are_relative_to_the_input_folder_not_the_working_folder(funnel, tmp_path, monkeypatch):
    (funnel / "rates.csv").write_text("currency,factor\nBRL,2\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "rates.csv").write_text("currency,factor\nBRL,1000\n")
    monkeypatch.chdir(elsewhere)
    mapping = funnel_mapping(tmp_path, lambda text: text.replace(
        "amount: {sql: \"coalesce(revenue, '0')\"}",
        "amount: {sql: \"coalesce(revenue, '0')::int * (select factor from read_csv('rates.csv') where currency = 'BRL')\"}"))
    [table] = apply_mapping(load_mapping(mapping, funnel), tmp_path / "landing")
    assert [row["amount"] for row in written_rows(table.output_file)] == ["1000", "0"]
    (funnel / "rates.csv").unlink()
    message = mapping_error(mapping, funnel, tmp_path / "l")
    assert f"tables.opportunities.columns.amount.sql: reads 'rates.csv', which is not in {funnel}" in message


def test_sql_that_fails_on_a_row_names_its_line_and_values(funnel, tmp_path):
    (funnel / "deals.csv").write_text((funnel / "deals.csv").read_text().replace(",500\n", ",n/a\n"))
    mapping = funnel_mapping(tmp_path, lambda text: text.replace("coalesce(revenue, '0')", "cast(revenue as int)"))
    message = mapping_error(mapping, funnel, tmp_path / "landing")
    assert message.startswith(f"{mapping}: tables.opportunities.columns.amount: the sql fails on deals.csv line 2 (revenue = 'n/a'): ")
    assert "n/a" in message.split("):", 1)[1] and "\n" not in message


# --- dates and time zones ---------------------------------------------------------------------------

DATES_MAPPING = """
tables:
  opportunities:
    file: deals.csv
    columns:
      opportunity_id: id
      account_id: id
      owner_id: id
      stage: {value: Closed Won}
      amount: {value: 1}
      currency: {value: USD}
      created_at: created
      closed_at: closed
      expected_close_date: expected
      updated_at: {value: "2017-04-01"}
"""


def mapped_dates(tmp_path: Path, rows: str, business_timezone: str, edit=lambda text: text) -> list[tuple[str, ...]]:
    export = tmp_path / "dates"
    export.mkdir(exist_ok=True)
    (export / "deals.csv").write_text("id,created,closed,expected\n" + rows)
    mapping = write_mapping(tmp_path, edit(DATES_MAPPING))
    [table] = apply_mapping(load_mapping(mapping, export, business_timezone=business_timezone), tmp_path / "landing")
    return [(row["created_at"], row["closed_at"], row["expected_close_date"], row["updated_at"])
            for row in written_rows(table.output_file)]


def test_date_only_values_of_timestamp_columns_are_local_midnight_of_the_business_time_zone(tmp_path):
    # 1 April in New York starts at 04:00 UTC: read as UTC midnight it would be 31 March there, the previous quarter.
    # A time of day is UTC as written, an explicit offset wins, and date columns keep their date.
    assert mapped_dates(tmp_path, "D1,2017-03-31 23:30:00,2017-04-01,2017-04-01\nD2,2017-01-02T10:00:00+02:00,2017-07-01,\n",
                        "America/New_York") == [
        ("2017-03-31 23:30:00", "2017-04-01 04:00:00", "2017-04-01", "2017-04-01 04:00:00"),
        ("2017-01-02T10:00:00+02:00", "2017-07-01 04:00:00", "", "2017-04-01 04:00:00"),
    ]
    assert mapped_dates(tmp_path, "D1,2017-03-31 23:30:00,2017-04-01,2017-04-01\n", "Europe/Copenhagen") == [
        ("2017-03-31 23:30:00", "2017-03-31 22:00:00", "2017-04-01", "2017-03-31 22:00:00")]


def test_timezone_names_the_zone_the_export_writes_its_times_in(tmp_path):
    # created is São Paulo wall-clock time (UTC-3); defaults.timezone also makes date-only values local there.
    # expected, a date column, holds a time: its business date (New York) of that São Paulo moment.
    def with_zones(text):
        return text.replace("tables:", "defaults: {timezone: America/Sao_Paulo}\ntables:", 1).replace(
            "closed_at: closed", "closed_at: {column: closed, format: '%d/%m/%Y', timezone: Asia/Tokyo}")
    assert mapped_dates(tmp_path, "D1,2017-03-31 23:30:00,01/04/2017,2017-04-01 23:30\n", "America/New_York", with_zones) == [
        ("2017-04-01 02:30:00", "2017-03-31 15:00:00", "2017-04-01", "2017-04-01 03:00:00")]
    def with_utc(text):
        return text.replace("expected_close_date: expected", "expected_close_date: {column: expected, timezone: UTC}")
    assert mapped_dates(tmp_path, "D1,2017-03-31 23:30:00,,2017-04-01 02:30\n", "America/New_York", with_utc) == [
        ("2017-03-31 23:30:00", "", "2017-03-31", "2017-04-01 04:00:00")]


def test_several_date_formats_and_a_value_matching_none(tmp_path):
    def formats(text):
        return text.replace("created_at: created", "created_at: {column: created, format: ['%d.%m.%Y %H:%M', '%d.%m.%Y']}")
    assert mapped_dates(tmp_path, "D1,31.03.2017 23:30,,\nD2,01.04.2017,,\n", "America/New_York", formats) == [
        ("2017-03-31 23:30:00", "", "", "2017-04-01 04:00:00"), ("2017-04-01 04:00:00", "", "", "2017-04-01 04:00:00")]
    with pytest.raises(MappingError, match=r"value does not match the date format '%d.%m.%Y %H:%M' or '%d.%m.%Y', "
                                           r"in 1 row\(s\): deals.csv line 2 column created: value '2017-03-31'"):
        mapped_dates(tmp_path, "D1,2017-03-31,,\n", "America/New_York", formats)


# --- the export's own stages and lead sources ---------------------------------------------------------

def test_value_maps_put_the_exports_stages_and_sources_on_the_canonical_ones(funnel, tmp_path):
    mapping = write_mapping(tmp_path, """
tables:
  leads:
    file: leads.csv
    columns:
      lead_id: mql_id
      created_at: first_contact_date
      source: {column: origin, values: {social: inbound, paid_search: paid_search}}
      updated_at: first_contact_date
""")
    [table] = apply_mapping(load_mapping(mapping, funnel), tmp_path / "landing")
    assert [row["source"] for row in written_rows(table.output_file)] == ["inbound", "paid_search", ""]
    not_canonical = write_mapping(tmp_path, mapping.read_text().replace("social: inbound", "social: social_media"))
    assert ("tables.leads.columns.source.values.social: 'social_media' is not a canonical lead source "
            "(seeds/lead_source_map.csv); choose from webinar, referral, inbound, outbound, event, paid_search, partner, other"
            ) in mapping_error(not_canonical, funnel, tmp_path / "l")


def test_a_stage_outside_the_funnel_is_an_error_even_when_not_mapped(export, tmp_path):
    not_a_stage = edited_mapping(tmp_path, lambda m: m["tables"]["opportunities"]["columns"]["stage"]["values"].update(Engaging="Engaged"))
    assert ("tables.opportunities.columns.stage.values.Engaging: 'Engaged' is not a stage of the funnel "
            "(seeds/opportunity_stages.csv); choose from Prospecting, Qualification, Discovery, Proposal, Negotiation, "
            "Closed Won, Closed Lost") in mapping_error(not_a_stage, export, tmp_path / "l")
    def pass_unmapped(m):
        for column in ("stage", "is_closed", "is_won"):
            m["tables"]["opportunities"]["columns"][column]["strict"] = False
    passed_through = edited_mapping(tmp_path, pass_unmapped)
    append_line(export / "sales_pipeline.csv", "X1,Moses Frase,GTX Basic,Cancity,Pending,2017-01-02,,")
    message = mapping_error(passed_through, export, tmp_path / "l")
    assert "tables.opportunities.columns.stage: value is not a stage of the funnel" in message
    assert "sales_pipeline.csv line 8802 column deal_stage: value 'Pending'" in message


def test_the_readme_example_maps_as_written(tmp_path):
    readme = (PROJECT / "README.md").read_text()
    example = readme.split("### Mapping files: any other export", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    export = tmp_path / "exports"
    export.mkdir()
    (export / "deals.csv").write_text("Deal ID,Kunde,Sælger,Fase,Produkt,Oprettet,Beløb\n"
                                      "D1,K1,S1,Vundet,GTXPro,01.04.2017,\"1234,50\"\nD2,K1,S1,Ny,Other,02.04.2017,\n")
    (export / "closed.csv").write_text("deal,won_at\nD1,03-05-2017 14:00\n")
    (export / "products.csv").write_text("product,price,line\nGTX Pro,4821,HW\nOther,100,\n")
    (export / "leads.csv").write_text("lead,deal\nL1,D1\n")
    [table] = apply_mapping(load_mapping(write_mapping(tmp_path, example), export, business_timezone="Europe/Oslo"),
                            tmp_path / "landing")
    assert table.output_file.name == "my_crm__deals.csv"
    assert [(row["opportunity_id"], row["stage"], row["product_line"], row["created_at"], row["closed_at"], row["amount"],
             row["lead_id"]) for row in written_rows(table.output_file)] == [
        ("D1", "Closed Won", "Hardware", "2017-03-31 22:00:00", "2017-05-03 14:00:00", "1234.50", "L1"),
        ("D2", "Prospecting", "", "2017-04-01 22:00:00", "", "100", ""),
    ]
