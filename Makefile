# The only commands anyone needs. Each target sets up what it uses, so a fresh clone works.
SHELL := /bin/bash
# One CPython minor version everywhere: the Lambda runtime, the layer's and the function
# asset's bytecode, the tests, ruff, mypy and the local stack; and one architecture. Both are
# set once, in infra/constants.py. The interpreter is found on PATH, else through pyenv (whose
# shim answers "command not found" until a version is selected); PYTHON=... overrides.
PYTHON_VERSION := $(shell sed -n 's/^LAMBDA_PYTHON_VERSION = "\(.*\)".*/\1/p' infra/constants.py)
ARCHITECTURE := $(shell sed -n 's/^LAMBDA_ARCHITECTURE = "\(.*\)".*/\1/p' infra/constants.py)
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell python$(PYTHON_VERSION) -c 'import sys; print(sys.executable)' 2>/dev/null \
  || { command -v pyenv >/dev/null \
       && p=$$(pyenv prefix "$$(pyenv latest $(PYTHON_VERSION) 2>/dev/null)" 2>/dev/null) \
       && test -x "$$p/bin/python$(PYTHON_VERSION)" && echo "$$p/bin/python$(PYTHON_VERSION)"; })
endif
VENV := .venv
comma := ,
PY := $(VENV)/bin/python
PORT ?= 8080
# The CDK CLI from npm on a supported Node.js (22 LTS, from npm too: Node 20 is end-of-life and
# the CLI says so); `python app.py`, which the CLI runs, then drives CDK on that Node as well.
NODE_VERSION := 22
CDK_CLI := npx --yes -p node@$(NODE_VERSION) -p aws-cdk@2.1148.1 -- cdk
LAYER_DIR := build/layer
ASSET_DIR := build/asset
LAYER_PLATFORM := manylinux2014_$(if $(filter arm64,$(ARCHITECTURE)),aarch64,x86_64)
FUNCTION_SOURCES := $(shell find functions -name '*.py' -o -name '*.html' -o -name '*.json')
CHROMIUM := /usr/bin/chromium

.PHONY: run test fuzz lint typecheck unit synth deploy layer smoke bench browser axe clean

# The virtual environment is (re)made with $(PYTHON_VERSION): a .venv of another version is replaced.
$(VENV)/.python-$(PYTHON_VERSION):
	@test -n "$(PYTHON)" && "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(PYTHON_VERSION))))' \
	  || { echo "make: CPython $(PYTHON_VERSION) not found: it is the Lambda runtime's version, used for everything here." \
	         "Install it (pyenv install $(PYTHON_VERSION), or apt-get install python$(PYTHON_VERSION)) or pass PYTHON=/path/to/python$(PYTHON_VERSION)." >&2; exit 1; }
	rm -rf $(VENV) && "$(PYTHON)" -m venv $(VENV)
	@touch $@

$(VENV)/.installed: $(VENV)/.python-$(PYTHON_VERSION) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

## make run: the whole API on http://127.0.0.1:$(PORT) with an embedded AWS mock.
run: $(VENV)/.installed
	PORT=$(PORT) $(PY) -m local.server

## make test: lint, types and the whole suite (unit, integration, infra, end to end).
test: $(VENV)/.installed browser axe lint typecheck
	$(PY) -m pytest -n 2 --dist loadfile -q tests

## make fuzz: the fuzz suite alone, 40 times longer than in make test, random examples;
## failing examples are kept in .hypothesis/ and replayed first next time.
fuzz: $(VENV)/.installed
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -n 2 -q -s tests/fuzz tests/model --hypothesis-show-statistics

## make browser: Chromium for the browser tests (Playwright cannot download its own here).
## Nothing to do when installed; else apt-get, as root (CI is root on Debian), or fail.
browser:
	@test -x $(CHROMIUM) || { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	  && test -x $(CHROMIUM); } \
	  || { echo "make browser: could not install Chromium at $(CHROMIUM) (apt-get needs root): the browser tests need it" >&2; exit 1; }

## make axe: axe-core, which the browser suite injects into every page, from npm at the version
## package-lock.json pins (npm ci), into node_modules/.
axe: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

## make synth: the CloudFormation template in cdk.out/, offline, no AWS account needed. Refuses
## to synthesize functions without their built layer (they would fail at import) unless
## PLACEHOLDER_LAYER=1: a template to read, never to deploy.
synth: $(VENV)/.installed
	$(if $(PLACEHOLDER_LAYER),CDK_CONTEXT_JSON='{"allowPlaceholderLayer": true}') $(PY) app.py

## make layer: what Lambda runs, built without Docker: the dependency layer (pip's wheels for
## the Lambda platform) in $(LAYER_DIR) and the function asset in $(ASSET_DIR), both with
## unchecked-hash bytecode of the runtime's CPython (infra/artifacts.py).
layer: build/layer.stamp build/asset.stamp

build/layer.stamp: $(VENV)/.installed requirements.txt infra/constants.py infra/artifacts.py
	$(PY) -m infra.artifacts layer --platform $(LAYER_PLATFORM) \
	  --python-version $(PYTHON_VERSION) --requirements requirements.txt --target $(LAYER_DIR)
	@touch $@

build/asset.stamp: $(VENV)/.installed $(FUNCTION_SOURCES) infra/artifacts.py
	$(PY) -m infra.artifacts asset --python-version $(PYTHON_VERSION) \
	  --source functions --target $(ASSET_DIR)
	@touch $@

## make deploy EMAIL_SENDER=you@your-domain [ALARM_EMAIL=...] [LOG_LEVEL=INFO] [CDK_ARGS=...]:
## build the layer and the asset, bootstrap the account/region if needed (cdk bootstrap is a
## no-op when it is current), then deploy. The sender is required: SES must verify it, and the
## example.com default never can be.
deploy: $(VENV)/.installed layer
	@test -n "$(EMAIL_SENDER)" || { echo "make deploy: EMAIL_SENDER=<an address of yours> is required (SES mails it a verification link)" >&2; exit 1; }
	@case "$(EMAIL_SENDER)" in *@example.com|*@example.org|*@example.net) \
	  echo "make deploy: $(EMAIL_SENDER) can never be verified by SES" >&2; exit 1;; esac
	PATH=$(abspath $(VENV))/bin:$$PATH $(CDK_CLI) bootstrap
	PATH=$(abspath $(VENV))/bin:$$PATH $(CDK_CLI) deploy --app "python app.py" \
	  -c layerDir=$(LAYER_DIR) -c assetDir=$(ASSET_DIR) -c emailSender=$(EMAIL_SENDER) \
	  $(if $(ALARM_EMAIL),-c alarmEmail=$(ALARM_EMAIL)) $(if $(LOG_LEVEL),-c logLevel=$(LOG_LEVEL)) \
	  $(CDK_ARGS)

## make smoke BASE_URL=...: the buyer's path over HTTP against a running stack (make run's
## http://127.0.0.1:$(PORT) with ADMIN_TOKEN=..., or a deployed stage's ApiUrl with AWS
## credentials for SigV4): tests/smoke.py.
smoke: $(VENV)/.installed
	@test -n "$(BASE_URL)" || { echo "make smoke: BASE_URL=... is required: make run's URL, or the stage's ApiUrl output" >&2; exit 1; }
	$(PY) -m tests.smoke $(BASE_URL)

## make bench: the benchmarks. Cold imports are measured as Lambda does them: the built asset
## and a layer built like the deployed one, for this machine's architecture.
bench: $(VENV)/.installed build/asset.stamp build/bench-layer.stamp
	$(PY) -m bench --layer build/bench/layer --asset $(ASSET_DIR)

build/bench-layer.stamp: $(VENV)/.installed requirements.txt infra/constants.py infra/artifacts.py
	$(PY) -m infra.artifacts layer --platform manylinux2014_$(shell uname -m) \
	  --python-version $(PYTHON_VERSION) --requirements requirements.txt --target build/bench/layer
	@touch $@

clean:
	rm -rf $(VENV) cdk.out build node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
