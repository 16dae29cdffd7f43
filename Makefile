# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
# uv is bootstrapped into .tools/ (it is not preinstalled); the project's environment is .venv/.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV_BIN := .venv/bin
export UV_COMPILE_BYTECODE := 1

.PHONY: install install-engines manifest demo refresh ui test bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --inexact: a later `make install` keeps the engine extras that `make test` added
.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --python $(PYTHON)
	touch $@

install: .venv/.installed

# the Postgres and Spark engines (extras postgres, spark) and what their tests need from Debian:
# a Postgres server and Java (scripts/install_system_packages.sh, which does nothing when both are there)
.venv/.installed-engines: .venv/.installed
	$(UV) sync --frozen --inexact --extra postgres --extra spark --python $(PYTHON)
	touch $@

install-engines: .venv/.installed-engines
	scripts/install_system_packages.sh

# dbt's manifest, which the Dagster definitions read (crm-kpis refresh/demo also parse when it is stale)
manifest: install
	$(VENV_BIN)/python -c "from orchestration.refresh import ensure_manifest; ensure_manifest()"

demo: install
	$(VENV_BIN)/crm-kpis demo

refresh: install
	$(VENV_BIN)/crm-kpis refresh

# the Dagster UI on http://127.0.0.1:3000 with run history kept in data/.dagster_home
ui: manifest
	mkdir -p data/.dagster_home
	DAGSTER_HOME=$(CURDIR)/data/.dagster_home $(VENV_BIN)/dagster dev -m orchestration.definitions

# two workers (pytest-xdist): most of the suite waits on dbt and Dagster start-up, not on the cores
TEST_WORKERS ?= 2
test: install-engines
	$(VENV_BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# 100k, 1M and 10M opportunities (about an hour and ~15 GB of scratch in data/bench); writes docs/benchmarks.md
bench: install
	$(VENV_BIN)/python -m bench.run --sizes 100000 1000000 10000000

clean:
	rm -rf .venv .tools data target logs
