# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install install-dev clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[all]'
	touch $@

install: $(STAMP)

$(VENV)/.installed-dev: $(STAMP)
	$(BIN)/pip install --quiet -e '.[all,dev]'
	touch $@

# axe-core, for the accessibility tests, from the npm registry at the version package-lock.json pins.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --silent --no-audit --no-fund

install-dev: $(VENV)/.installed-dev node_modules/.package-lock.json

demo: install
	$(BIN)/kantelmeter demo

# ruff (lint and format) and mypy, configured in pyproject.toml; any finding fails the target.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-dev
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(BIN)/python -m pytest -n 2 -q

bench: install-dev
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules demo build *.egg-info
