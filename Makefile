# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
# uv is bootstrapped into .tools/ (it is not preinstalled); the project's environment is .venv/.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV_BIN := .venv/bin
export UV_COMPILE_BYTECODE := 1

.PHONY: install install-engines system-packages manifest docs demo refresh dashboard ui lint test bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --inexact: a later `make install` keeps the engine extras that `make test` added
.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --python $(PYTHON)
	$(VENV_BIN)/python -m expectations.data_docs_assets fetch
	touch $@

install: .venv/.installed

# Debian packages the tests need, only what is missing: a Postgres server and Java for the engines'
# tests, headless Chromium for the dashboard's browser tests (scripts/install_system_packages.sh)
system-packages:
	bash scripts/install_system_packages.sh

# the Postgres and Spark engines (extras postgres, spark)
.venv/.installed-engines: .venv/.installed
	$(UV) sync --frozen --inexact --extra postgres --extra spark --python $(PYTHON)
	touch $@

install-engines: .venv/.installed-engines system-packages

# dbt's manifest, which the Dagster definitions read (every crm-kpis refresh/demo parses it too;
# `dagster dev` does through DbtProject.prepare_if_dev)
manifest: install
	$(VENV_BIN)/python -c "from orchestration.refresh import prepare_manifest; from orchestration.settings import Settings; prepare_manifest(Settings.from_environment())"

# the files written from a rule's one home: the files source of dbt and docs/landing_contract.md from the
# landing contract, docs/kpis.md's definitions from the dbt doc blocks (a test fails when they are stale)
docs: install
	$(VENV_BIN)/python -m orchestration.reference_docs

demo: install
	$(VENV_BIN)/crm-kpis demo

refresh: install
	$(VENV_BIN)/crm-kpis refresh

# the sales dashboard from the published marts (every publish rewrites it too): prints its file:// address
dashboard: install
	$(VENV_BIN)/crm-kpis dashboard

# the Dagster UI on http://127.0.0.1:3000 with the home's run history ($CRM_KPIS_HOME/.dagster_home, where
# crm-kpis refresh records its runs too); exec, so Ctrl-C and SIGTERM reach dagster dev itself
ui: manifest
	mkdir -p $${CRM_KPIS_HOME:-data}/.dagster_home
	DAGSTER_HOME=$${DAGSTER_HOME:-$$(realpath $${CRM_KPIS_HOME:-data})/.dagster_home} exec $(VENV_BIN)/dagster dev -m orchestration.defs.code_location

# two workers (pytest-xdist): most of the suite waits on dbt and Dagster start-up, not on the cores
TEST_WORKERS ?= 2
# ruff on the Python, sqlfluff (dbt templater) on the models, singular tests and macros; `make test` runs it first
lint: install
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/sqlfluff lint models tests/dbt macros

test: install-engines lint
	$(VENV_BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# 100k, 1M and 10M opportunities (about an hour and ~15 GB of scratch in data/bench), then 100k on DuckDB,
# Postgres and Spark side by side (about another hour, most of it Spark's); writes docs/benchmarks.md
bench: install-engines
	$(VENV_BIN)/python -m bench.run --sizes 100000 1000000 10000000 --engines-at 100000

clean:
	rm -rf .venv .tools data target logs test-artifacts
