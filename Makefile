# OCOP — developer entry points. `make help` lists them.
#   make run    embedded default (SQLite, in-process Celery) on http://127.0.0.1:8000
#   make test   ruff + migration check + pytest against PostgreSQL and Redis
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV      ?= .venv
PY        := $(VENV)/bin/python
# Database name used by `make test` / `make bench` (pytest-django creates test_$(PG_DBNAME)).
PG_DBNAME ?= ocop
# Address for `make run`.
RUN_ADDR  ?= 127.0.0.1:8000
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-k regions -x'
PYTEST_ARGS ?=
# Examples per API operation and generation mode for `make fuzz` (`make test` runs 4).
FUZZ_EXAMPLES ?= 100

# `make run` is the embedded default: no database/Redis URLs, DEBUG at its default.
EMBEDDED_ENV := env -u DATABASE_URL -u REDIS_URL -u DEBUG
SERVICES     := OCOP_PYTHON=$(PY) PG_DBNAME=$(PG_DBNAME) scripts/services.sh

.PHONY: help venv venv-run run test lint messages bench fuzz worker-kill services services-status services-stop

help:
	@echo "make run             venv + migrate + load_units + seed_demo + runserver $(RUN_ADDR) (SQLite)"
	@echo "make test            venv + PostgreSQL/Redis + ruff + makemigrations --check + pytest"
	@echo "make lint            ruff check ."
	@echo "make messages        makemessages -l vi + compilemessages"
	@echo "make bench           run benchmarks/*.py against PostgreSQL/Redis"
	@echo "make fuzz            schemathesis over the whole API, $(FUZZ_EXAMPLES) examples an operation"
	@echo "make worker-kill     SIGKILL a Celery worker mid-render; the job completes once"
	@echo "make services        start/detect PostgreSQL + Redis and print their URLs"
	@echo "make services-stop   stop the PostgreSQL/Redis that scripts/services.sh started"
	@echo "Variables: PG_DBNAME=$(PG_DBNAME) RUN_ADDR=$(RUN_ADDR) PYTEST_ARGS=... VENV=$(VENV)"

venv:
	@scripts/venv.sh "$(VENV)"

# The demo installs only what running needs (no test extras: its own stamp, scripts/venv.sh)
# and runs with OCOP_DEMO=1: DEBUG off, the project's 404/500 pages (scripts/run.sh).
venv-run:
	@scripts/venv.sh "$(VENV)" run

run: venv-run
	@OCOP_PYTHON=$(PY) scripts/run.sh $(RUN_ADDR)

test: venv
	@$(SERVICES) exec scripts/test.sh $(PYTEST_ARGS)

lint: venv
	@echo "==> ruff check ."
	@$(VENV)/bin/ruff check .

messages: venv
	@echo "==> makemessages -l vi"
	@$(EMBEDDED_ENV) $(PY) manage.py makemessages -l vi --ignore=.venv --ignore=staticfiles --ignore=media
	@echo "==> compilemessages"
	@$(EMBEDDED_ENV) $(PY) manage.py compilemessages --ignore=.venv --ignore=staticfiles --ignore=media

bench: venv
	@$(SERVICES) exec scripts/bench.sh

fuzz: venv
	@echo "==> schemathesis: tests/ocop/test_fuzz.py with OCOP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES)"
	@$(SERVICES) exec env OCOP_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -p no:cacheprovider \
		-ra tests/ocop/test_fuzz.py $(PYTEST_ARGS)

worker-kill: venv
	@$(SERVICES) exec $(PY) benchmarks/worker_kill.py

services: venv
	@$(SERVICES) env

services-status: venv
	@$(SERVICES) status

services-stop:
	@$(SERVICES) stop
