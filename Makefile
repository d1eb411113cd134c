# Two commands: `make run` (development server + worker with demo data) and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when pyproject.toml is newer than the last install.
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: run test lint sweep install clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Transbordo needs Python 3.11 or newer as '$(PYTHON)'." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Development: DEBUG on unless the environment says otherwise.
run sweep: export DEBUG ?= 1

run: install
	scripts/run_dev.sh

# Tests never run with DEBUG; a throwaway key lets them start without any setup.
test: export SECRET_KEY ?= insecure-test-key
test: install
	$(BIN)/pytest $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

sweep: install
	$(BIN)/python manage.py overflow_sweep

# Removes the local database, broker queue, beat schedule and caches; keeps .venv.
clean:
	rm -rf var/ .pytest_cache/ .ruff_cache/ tests/artifacts/ staticfiles/
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
