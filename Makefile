# The only commands anyone needs. Each target sets up what it uses, so a fresh clone works.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8080
CDK_CLI := npx --yes aws-cdk@2.1148.1
LAYER_DIR := build/layer
LAYER_PLATFORM ?= manylinux2014_x86_64
CHROMIUM := /usr/bin/chromium

.PHONY: run test fuzz lint typecheck unit synth deploy layer bench browser clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

## make run: the whole API on http://127.0.0.1:$(PORT) with an embedded AWS mock.
run: $(VENV)/.installed
	PORT=$(PORT) $(PY) -m local.server

## make test: lint, types and the whole suite (unit, integration, infra, end to end).
test: $(VENV)/.installed browser lint typecheck
	$(PY) -m pytest -n 2 --dist loadfile -q tests

## make fuzz: the fuzz suite alone, 40 times longer than in make test, random examples;
## failing examples are kept in .hypothesis/ and replayed first next time.
fuzz: $(VENV)/.installed
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -n 2 -q tests/fuzz --hypothesis-show-statistics

## make browser: Chromium for the browser tests (Playwright cannot download its own here).
## Nothing to do when installed; else apt-get, as root (CI is root on Debian), or fail.
browser:
	@test -x $(CHROMIUM) || { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	  && test -x $(CHROMIUM); } \
	  || { echo "make browser: could not install Chromium at $(CHROMIUM) (apt-get needs root): the browser tests need it" >&2; exit 1; }

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

## make synth: the CloudFormation template in cdk.out/, offline, no AWS account needed.
synth: $(VENV)/.installed
	$(PY) app.py

## make layer: the Lambda dependency layer, built without Docker for the Lambda platform.
layer: requirements.txt
	rm -rf $(LAYER_DIR) && mkdir -p $(LAYER_DIR)/python
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --platform $(LAYER_PLATFORM) \
	  --implementation cp --python-version 3.12 --only-binary=:all: \
	  --target $(LAYER_DIR)/python -r requirements.txt

## make deploy: build the layer, then cdk deploy with the CDK CLI from npm.
deploy: $(VENV)/.installed layer
	PATH=$(abspath $(VENV))/bin:$$PATH $(CDK_CLI) deploy --app "python app.py" -c layerDir=$(LAYER_DIR)

bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) cdk.out build .pytest_cache .mypy_cache .ruff_cache .hypothesis
