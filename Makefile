# ecsapi — the verbs. `make help` lists them; the first use of any verb bootstraps .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Stamps: a venv is rebuilt when the files that define it change.
BASE_STAMP := $(VENV)/.base-installed
DEV_STAMP := $(VENV)/.dev-installed
NODE_STAMP := node_modules/.installed

.PHONY: help
help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(BASE_STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(DEV_STAMP): $(BASE_STAMP) setup.cfg containers/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' -r containers/requirements.txt
	@touch $@

# dynalite (a DynamoDB-compatible server on disk) for the integration tests and benchmarks.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: template
template: $(BASE_STAMP) ## Write templates/ (the versioned CloudFormation template and launch-stack.md)
	$(PY) -m generator template --out templates

.PHONY: test
test: $(DEV_STAMP) $(NODE_STAMP) ## Run the whole suite (unit, golden file, cfn-lint, integration)
	$(PY) -m pytest

.PHONY: lint
lint: $(DEV_STAMP) ## cfn-lint every emitted template
	$(PY) -m generator template --check --out templates
	$(VENV)/bin/cfn-lint -c I -- templates/*.json

.PHONY: lint-containers
lint-containers: $(DEV_STAMP) ## hadolint both container Dockerfiles
	$(VENV)/bin/hadolint containers/food/Dockerfile containers/pet/Dockerfile

.PHONY: bench-containers
bench-containers: $(DEV_STAMP) $(NODE_STAMP) ## Load each container app under gunicorn + dynalite (wrk): req/s, latency, CPU per request
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) scripts/bench_containers.py

.PHONY: clean
clean: ## Remove the virtualenv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache build dist *.egg-info .bench
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
