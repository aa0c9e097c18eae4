# Two entry points: `make run` (set up, run the default workflow, write the
# report) and `make test` (set up, lint the workflow, run the tests).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
CONFIG ?= config/config.yaml
PROFILE ?= workflow/profiles/default
SNAKEMAKE := $(BIN)/snakemake --profile $(PROFILE) --configfile $(CONFIG)
MLFLOW_DB := results/mlflow/mlflow.db
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup run report report-check test lint ui clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# the terminal: Snakemake's progress and one line per finished job (logs/ has the rest)
run: setup
	set -o pipefail; $(SNAKEMAKE) --cores $(CORES) 2>&1 | $(BIN)/python -m reproflow.progress
	$(MAKE) report

report: setup
	$(SNAKEMAKE) --report results/report.html

# the report opened in headless Chromium (Debian: apt-get install chromium); screenshots in results/report-check/
report-check: setup
	$(BIN)/python tests/report_check.py results/report.html

lint: setup
	$(SNAKEMAKE) --lint

test: lint
	$(BIN)/python -m pytest

ui: setup
	mkdir -p $(dir $(MLFLOW_DB))
	$(BIN)/mlflow ui --host 127.0.0.1 --port 5000 \
	  --backend-store-uri sqlite:///$(MLFLOW_DB) \
	  --default-artifact-root $(CURDIR)/results/mlflow/artifacts

clean:
	rm -rf results .snakemake/log
