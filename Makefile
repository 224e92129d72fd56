# AtlasEngine Phase 1: build the Lambda zips, apply the Terraform module, test everything.
#   make run    build the zips and apply examples/local against moto server, then check a second plan is empty
#   make test   ruff, the test-collection check, pytest, terraform fmt/validate/test, checkov and the README check
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell scripts/find-python)
VENV := .venv
VPY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
TERRAFORM ?= terraform
export TF_PLUGIN_DIR ?= $(shell scripts/tf-plugin-dir)
TF_INIT_FLAGS := -input=false -backend=false $(if $(TF_PLUGIN_DIR),-plugin-dir=$(TF_PLUGIN_DIR))
export TF_IN_AUTOMATION := 1
export CHECKPOINT_DISABLE := 1

# Condenses `pip install` output to a line per package being fetched, then one for the install step.
PIP_PROGRESS := /^(Collecting|Processing) /{print "    " $$0; fflush()} /^Installing collected packages/{print "    installing " NF-3 " packages"; fflush()}

TF_MODULE_DIRS := . $(wildcard modules/*)
TF_EXAMPLE_DIRS := $(wildcard examples/*)

.PHONY: help venv build run test lint pytest check-collection tf-fmt tf-validate tf-test checkov bench clean

help:
	@echo "make run    build the zips, apply examples/local against moto, check that a second plan shows no changes"
	@echo "make test   every check: ruff, every test file collected, pytest, terraform fmt/validate/test, checkov, README coverage"
	@echo "make bench  the benchmarks whose figures the README reports (PACKAGE_PY=.../terraform-aws-lambda/package.py adds the side-by-side)"

$(VENV)/.installed: requirements-dev.txt requirements-build.txt
	@test -n "$(PYTHON)" || { echo "No Python 3.12 found (see scripts/find-python)"; exit 1; }
	@echo "==> creating $(VENV) and installing requirements-dev.txt (a minute or two on a fresh clone)"
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --progress-bar off -r requirements-dev.txt | awk '$(PIP_PROGRESS)'
	touch $@

venv: $(VENV)/.installed

build: venv
	$(VPY) build.py

run: build
	$(VPY) scripts/local_run.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

pytest: venv
	$(VPY) -m pytest

# Fails when a test_*.py under tests/ is not collected (e.g. in a folder named build or dist, which pytest skips).
check-collection: venv
	$(VPY) scripts/check_collection.py

tf-fmt:
	$(TERRAFORM) fmt -check -recursive -diff

tf-validate:
	@for d in $(TF_MODULE_DIRS) $(TF_EXAMPLE_DIRS); do \
	  echo "== terraform validate $$d"; \
	  $(TERRAFORM) -chdir=$$d init $(TF_INIT_FLAGS) >/dev/null; \
	  $(TERRAFORM) -chdir=$$d validate -no-color; \
	done

tf-test:
	@for d in $(TF_MODULE_DIRS); do \
	  echo "== terraform test $$d"; \
	  $(TERRAFORM) -chdir=$$d init $(TF_INIT_FLAGS) >/dev/null; \
	  if [ "$$d" = "." ]; then $(TERRAFORM) test -no-color -test-directory=tests/terraform; \
	  else $(TERRAFORM) -chdir=$$d test -no-color; fi; \
	done

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml

test: lint check-collection pytest tf-fmt tf-validate tf-test checkov

bench: build
	mkdir -p bench/results
	$(VPY) bench/build.py --output bench/results/build.json $(if $(PACKAGE_PY),--package-py $(PACKAGE_PY))
	$(VPY) bench/bytecode.py --output bench/results/bytecode.json
	$(VPY) bench/handlers.py > bench/results/handlers.json
	$(VPY) bench/emf_import.py --output bench/results/emf_import.json
	cat bench/results/handlers.json
	$(VPY) bench/simulation.py --out-dir bench/results

clean:
	rm -rf dist .cache .pytest_cache $(VENV) $(CHECKOV_VENV)
	find . -name .terraform -type d -prune -exec rm -rf {} +
