# One command to run the app, one to run every test. Each creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: install run test lint format chromium services bench clean screenshots plotly-bundle coverage

# uv installs the same packages from PyPI in a quarter of pip's time (30 s against 2 min on
# a fresh machine); pip is the fallback if uv cannot.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -e '.[dev]' \
		|| $(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the dashboard on http://127.0.0.1:8050 (embedded simulator unless Alpaca keys are set).
run: install
	$(PY) -m dashboard

## Debian's Chromium for the browser tests; never a downloaded browser.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian chromium for browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

## Debian's Postgres and Redis: tests start throwaway servers of each (tests/_servers.py).
services:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then \
		echo "Installing Debian postgresql and redis-server for the database tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null; \
	fi

## Ruff (lint and format), mypy (strict on the core and views) and the import contracts.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Lint, then every test (unit, HTTP, simulator, Postgres, Redis, deployment, browser).
test: install chromium services lint
	$(PY) -m pytest -n 2 -p no:cacheprovider -m "not e2e"
	$(PY) -m pytest -p no:cacheprovider -m e2e

## Line coverage of dashboard/components/ by the non-browser suite; fails under 85% per module.
coverage: install services
	$(PY) -m pytest -n 2 -p no:cacheprovider -m "not e2e" --cov=dashboard/components \
		--cov-report=term --cov-report=json:.coverage-components.json
	$(PY) scripts/coverage_gate.py .coverage-components.json

## Refresh docs/screenshots from the browser tests.
screenshots: install chromium
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest -p no:cacheprovider -m e2e tests/e2e/test_tabs.py tests/e2e/test_alerts.py
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest -p no:cacheprovider -m e2e tests/e2e/test_layout.py

## Every benchmark; writes docs/performance.md.
bench: install
	$(PY) -m bench

## Rebuild dashboard/assets/05-plotly-partial.min.js (plotly.js with only the traces in
## frontend/plotly-bundle/traces.json) from the npm registry; needs node and npm. The built
## file is committed, so `make run` and the tests need neither.
plotly-bundle: install
	cd frontend/plotly-bundle && npm ci --ignore-scripts --no-audit --no-fund
	cd frontend/plotly-bundle && node build.mjs --expect-version \
		"$$($(CURDIR)/$(PY) -c 'import plotly.offline as o; print(o.get_plotlyjs_version())')"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
