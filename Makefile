# Quick start: `make run` serves the historical dataset on SQLite; `make test` runs every test.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The browser tests inject axe-core from node_modules (npm ci from package-lock.json).
NODE_STAMP := $(if $(wildcard package.json),node_modules/.installed)

.PHONY: run test lint bench fuzz clean

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

# `make bench BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres` also
# times the imports on a throwaway database of that server.
bench: $(STAMP)
	$(BIN)/python bench/api.py
	$(BIN)/python bench/import_export.py
	$(if $(BENCH_POSTGRES_URL),$(BIN)/python bench/import_export.py --import-only \
	  --database-url $(BENCH_POSTGRES_URL))
	$(BIN)/python bench/timelines.py

# A long schemathesis run with the stateful phase against a live server, on both databases.
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz_api.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules artifacts
