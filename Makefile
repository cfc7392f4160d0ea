# The README's commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Where `make run` serves (e.g. `make run PORT=8080`).
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests run on real PostgreSQL and Redis; these are the local defaults (override freely).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: install run test lint typecheck pytest pytest-embedded bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py serve_all --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

pytest: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	HELPDESK_VAR_DIR=$${HELPDESK_VAR_DIR:-$(CURDIR)/var/test} \
	$(BIN)/pytest $(PYTEST_ARGS)

# The embedded default, what `make run` serves: SQLite, the in-memory channel layer, the file
# cache, no Redis. Runs the tests marked `embedded` (page paths and browser journeys).
pytest-embedded: install
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND \
	HELPDESK_TESTS_ALLOW_SQLITE=1 HELPDESK_VAR_DIR=$(CURDIR)/var/test-embedded \
	$(BIN)/pytest -m embedded $(PYTEST_ARGS)

test: lint typecheck pytest pytest-embedded

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)_bench} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
