# mlops-lab: every install step lives here, so a fresh clone needs only `make lab` / `make test`.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
STAMP := $(CURDIR)/.make
LAB_PORT ?= 8888

.PHONY: help dev lab test lint lint-py lint-ts fmt pytest jest ui-test test-deps api clean \
  mlflow-parity

help:
	@echo "make lab     install everything into .venv, build the extension, open JupyterLab on notebooks/"
	@echo "make test    install what tests need (Debian chromium too), then lint, pytest (with"
	@echo "             schemathesis against the REST API), jest, Galata"
	@echo "make dev     only the install step of 'make lab'"
	@echo "make api     regenerate the OpenAPI document and the TypeScript types from it"
	@echo "make mlflow-parity MLFLOW=3.17.2"
	@echo "             the search parity grid and the schema tests against that MLflow, in a"
	@echo "             scratch venv (.make/mlflow-<version>/): decides whether it is supported"

$(STAMP):
	mkdir -p $(STAMP)

# The venv, the package in development mode (its build runs `jlpm install` and builds the
# front end) and the labextension link so rebuilds show in JupyterLab.
$(STAMP)/dev: pyproject.toml package.json yarn.lock | $(STAMP)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,test,cluster]"
	$(BIN)/jupyter-builder develop . --overwrite >/dev/null
	touch $@

dev: $(STAMP)/dev

lab: dev
	mkdir -p notebooks
	# JupyterLab refuses root unless told; these machines (and containers) often run as root.
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 \
	  --ServerApp.port=$(LAB_PORT) $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# Debian's chromium for Galata (Playwright cannot download a browser here) and
# PostgreSQL's server binaries for the store's team-mode tests (a throwaway cluster).
$(STAMP)/system-deps: | $(STAMP)
	missing=""
	command -v chromium >/dev/null || missing="$$missing chromium"
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"
	if [ -n "$$missing" ]; then
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo )
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null
	fi
	touch $@

$(STAMP)/ui-deps: ui-tests/package.json ui-tests/yarn.lock $(STAMP)/dev | $(STAMP)
	(cd ui-tests && $(BIN)/jlpm install)
	touch $@

test-deps: dev $(STAMP)/system-deps $(STAMP)/ui-deps

test: test-deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory pytest
	$(MAKE) --no-print-directory jest
	$(MAKE) --no-print-directory ui-test

lint: lint-py lint-ts

lint-py: dev
	$(BIN)/ruff check mlops_lab tests benchmarks
	$(BIN)/ruff format --check mlops_lab tests benchmarks
	$(BIN)/mypy mlops_lab
	$(BIN)/lint-imports

lint-ts: dev
	$(BIN)/python -m mlops_lab.faces.server.openapi --check
	$(BIN)/jlpm api:check
	$(BIN)/jlpm lint:check

fmt: dev
	$(BIN)/ruff check --fix mlops_lab tests benchmarks
	$(BIN)/ruff format mlops_lab tests benchmarks
	$(BIN)/jlpm lint

api: dev
	$(BIN)/python -m mlops_lab.faces.server.openapi
	$(BIN)/jlpm api:types

# Includes tests/faces/server/test_schemathesis.py: schemathesis against a live server over
# real runs, zero 5xx and every response as openapi.json says (about 25 s).
pytest: dev $(STAMP)/system-deps
	$(BIN)/python -m pytest -q

jest: dev
	$(BIN)/jlpm build
	$(BIN)/jlpm test

ui-test: test-deps
	$(BIN)/jlpm build
	cd ui-tests && $(BIN)/jlpm test

# The check that decides whether an MLflow version is supported (README, "Supported MLflow
# versions"): we read MLflow's tables directly, so a new MLflow must pass the search parity
# grid (SQLite and a throwaway PostgreSQL) and the schema and run tests. A scratch venv per
# version holds exactly that MLflow and our other requirements; the tests import mlops_lab
# from this tree. Not part of `make test`: each version costs a 1 GB venv and 2-3 minutes.
MLFLOW ?=
PARITY_VENV := $(STAMP)/mlflow-$(MLFLOW)

mlflow-parity: $(STAMP)/system-deps
	if [ -z "$(MLFLOW)" ]; then
	  echo "Name the MLflow version to check: make mlflow-parity MLFLOW=3.17.2" >&2; exit 2
	fi
	test -x $(PARITY_VENV)/bin/python || $(PYTHON) -m venv $(PARITY_VENV)
	$(PARITY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PARITY_VENV)/bin/python scripts/mlflow_parity_requirements.py $(MLFLOW) \
	  > $(PARITY_VENV)/requirements.txt
	$(PARITY_VENV)/bin/python -m pip install --quiet -r $(PARITY_VENV)/requirements.txt
	export PYTHONPATH=$(CURDIR)
	$(PARITY_VENV)/bin/python -c 'import mlflow; from mlops_lab.core.mlflow.schema import \
	  head_revision; print(f"MLflow {mlflow.__version__}, schema head {head_revision()}")'
	$(PARITY_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/core/mlflow tests/core/runs

clean:
	rm -rf $(STAMP) lib mlops_lab/labextension tsconfig.tsbuildinfo coverage junit.xml \
	  ui-tests/test-results ui-tests/playwright-report
