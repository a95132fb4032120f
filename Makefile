# Two commands for a fresh machine: `make demo` runs the product, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: demo prod test lint widget widget-check bench wrk-installed install install-dev clean

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

## The production stack on this machine, as docker-compose.yml runs it (deploy/Procfile): nginx on
## https://localhost:8443 (and http://localhost:8080), gunicorn with its collect writer, a Celery worker and beat,
## against DATABASE_URL and REDIS_URL (the local PostgreSQL and Redis by default), migrated first. Installs Debian's
## nginx when missing. HTTPS_ONLY=0 for plain HTTP; HTTP_PORT, HTTPS_PORT, WEB_PORT, TLS_DIR; see scripts/prod.py.
prod: install
	$(PY) scripts/prod.py

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

# wrk drives the HTTP benchmarks: installed from Debian's packages when missing.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
wrk-installed:
	@command -v wrk >/dev/null 2>&1 || { echo "installing Debian's wrk for the benchmarks"; \
	  $(SUDO) apt-get install -y -q wrk >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q wrk >/dev/null; }; }

bench: install-dev widget/node_modules/.installed wrk-installed
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) widget/node_modules db.sqlite3 db.sqlite3-wal db.sqlite3-shm test-db.sqlite3
