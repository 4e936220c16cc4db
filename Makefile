# The two promises of the README: `make run` runs the gateway with its emulators and front end,
# `make test` runs every test. Both work on a fresh Debian 12 machine (as root, or with sudo).
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.provgw-installed
SOURCES := gateway adapters simcard emulators tests

.PHONY: run test lint typecheck system-deps bench clean

$(STAMP): pyproject.toml
	scripts/install-system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	scripts/install-system-deps

run: $(STAMP)
	$(BIN)/provgw serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) system-deps lint typecheck
	$(BIN)/pytest -q -ra

bench: $(STAMP)
	$(BIN)/provgw bench orders -n 5000

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
