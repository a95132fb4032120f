# Two commands for a fresh machine: `make demo` runs the product, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: demo test lint widget widget-check bench install install-dev clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## The product on 127.0.0.1:8000: SQLite, in-process tasks, demo site seeded, admin login printed.
demo: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py demo_seed
	DEBUG=1 $(PY) manage.py results_seed --days 30
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

widget/node_modules/.installed: widget/package.json widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Rebuild the committed widget bundles.
widget: widget/node_modules/.installed
	npm --prefix widget run --silent build

## Fails when the committed bundles are not what the sources build.
widget-check: widget/node_modules/.installed
	npm --prefix widget run --silent check

lint: install-dev
	$(VENV)/bin/ruff check .

## The whole suite: Python (PostgreSQL + Redis when reachable), browser tests in Chromium, node tests.
test: install-dev widget/node_modules/.installed
	$(MAKE) --no-print-directory widget-check
	node --test widget/tests/
	$(VENV)/bin/pytest

bench: install-dev widget/node_modules/.installed
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) widget/node_modules db.sqlite3 db.sqlite3-wal db.sqlite3-shm test-db.sqlite3
