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

.PHONY: help dev lab test lint lint-py lint-ts fmt pytest jest ui-test test-deps api clean

help:
	@echo "make lab     install everything into .venv, build the extension, open JupyterLab on notebooks/"
	@echo "make test    install what tests need (Debian chromium too), then lint, pytest (with"
	@echo "             schemathesis against the REST API), jest, Galata"
	@echo "make dev     only the install step of 'make lab'"
	@echo "make api     regenerate the OpenAPI document and the TypeScript types from it"

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

clean:
	rm -rf $(STAMP) lib mlops_lab/labextension tsconfig.tsbuildinfo coverage junit.xml \
	  ui-tests/test-results ui-tests/playwright-report
