# The README's commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tests run on real PostgreSQL and Redis; these are the local defaults (override freely).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
MYPY_TARGETS := tickets/services.py tickets/selectors.py channels_app/ingest.py \
	tickets/agent_selectors.py tickets/agent_services.py tickets/search.py tickets/macros.py \
	tickets/kb.py tickets/presence.py tickets/consumers.py \
	channels_app/delivery.py channels_app/adapters

.PHONY: install run test lint typecheck pytest bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py serve_all

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy $(MYPY_TARGETS)

pytest: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	HELPDESK_VAR_DIR=$${HELPDESK_VAR_DIR:-$(CURDIR)/var/test} \
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)_bench} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
