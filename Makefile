# `make run` starts the service on its embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app booking

.PHONY: run test test-fast test-future lint format bench soak clean browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) serve

# The whole suite in parallel (one process per core, each with its own SQLite template and
# PostgreSQL database); coverage of booking/ must not fall below today's figure.
test: $(VENV)/.dev browser-deps
	$(BIN)/python -m pytest -n auto --cov --cov-report=term:skip-covered --cov-fail-under=94

# The edit loop: no browser, no coverage, in parallel.
test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -n auto -q -m "not browser"

# The tests that read the clock, with their clock a year ahead at awkward moments of the day
# (tests/awkward_moments.py says which and why).
test-future: $(VENV)/.dev
	$(BIN)/python -m tests.awkward_moments -n auto -q -p no:cacheprovider

# The browser tests drive Debian's Chromium (never a downloaded browser) and inject axe-core.
browser-deps: /usr/bin/chromium node_modules/axe-core/axe.min.js

/usr/bin/chromium:
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

bench: $(VENV)/.dev
	command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq wrk; else sudo apt-get install -y -qq wrk; fi; }
	$(BIN)/python -m bench.run

soak: $(VENV)/.dev
	$(BIN)/python -m bench.soak

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis node_modules tests/screenshots
