# Quick start: `make run` serves the historical dataset on SQLite; `make test` runs every test.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The browser tests inject axe-core from node_modules (npm ci from package-lock.json).
NODE_STAMP := $(if $(wildcard package.json),node_modules/.installed)

.PHONY: run test lint bench fuzz messages clean

$(STAMP): requirements-dev.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json .npmrc
	@if ! command -v npm >/dev/null; then \
	  echo "npm is missing (Debian: apt-get install npm): the axe checks will skip"; \
	  case "$$CI" in 1|true|yes) exit 1;; esac; \
	else npm ci --no-audit --no-fund && touch $@; fi

# `make run PORT=8080 HOST=0.0.0.0` to serve elsewhere.
PORT ?= 8000
HOST ?= 127.0.0.1
run: $(STAMP)
	$(BIN)/optout-tracker serve --demo --webhooks --host $(HOST) --port $(PORT)

# Every database test runs on SQLite and on the PostgreSQL at OPTOUT_TEST_POSTGRES_URL
# (default: the local server); the browser tests also need chromium and axe-core (npm).
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Issue 15's table comes last (bench/api.py: reads with wrk beside a bare app and Datasette,
# bench/import_export.py on SQLite and PostgreSQL, the load test on both); `make bench
# BENCH_ARGS=--quick` for a short run.
bench: $(STAMP)
	$(BIN)/python bench/timelines.py
	$(BIN)/python bench/api.py $(BENCH_ARGS)

# A long schemathesis run with the stateful phase against a live server, on both databases.
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz_api.py $(FUZZ_ARGS)

# The English messages extracted from the code and templates (babel.cfg), each language's
# catalog updated (new messages empty, none guessed), then compiled into the package.
LOCALE_DIR := src/optout_tracker/locale
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k Sentence \
	  --no-location --sort-output --project optout-tracker -o $(LOCALE_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) --no-fuzzy-matching --width 100
	$(BIN)/pybabel compile -d $(LOCALE_DIR)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules artifacts
