# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
# uv is bootstrapped into .tools/ (it is not preinstalled); the project's environment is .venv/.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV_BIN := .venv/bin
export UV_COMPILE_BYTECODE := 1

.PHONY: install demo test clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: .venv/.installed

demo: install
	$(VENV_BIN)/crm-kpis demo

test: install
	$(VENV_BIN)/python -m pytest

clean:
	rm -rf .venv .tools data target logs
