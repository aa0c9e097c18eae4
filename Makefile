# Two entry points: `make run` (set up, run the default workflow, write the
# report) and `make test` (set up, lint the workflow, run the tests).
# `make test-slurm` (root, Debian): the micro run on a real one-node SLURM
# cluster logging to a tracking server; `make tracking-server`: an MLflow
# server on PostgreSQL for jobs on a cluster (scripts/tracking_server.sh).
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

.PHONY: setup run report report-check test test-slurm lint ui tracking-server tracking-server-stop clean

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

# Snakemake's linter, snakefmt's style of the rule files, ruff (pyflakes and syntax) on the Python
lint: setup
	$(SNAKEMAKE) --lint
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/ruff check src scripts tests benchmarks

test: lint
	$(BIN)/python -m pytest

# opt-in outside CI; .ci/run sets REPROFLOW_CI=1 so that it fails, never skips
test-slurm: setup
	REPROFLOW_SLURM_TEST=1 $(BIN)/python -m pytest -m slurm -v tests/test_slurm.py

ui: setup
	mkdir -p $(dir $(MLFLOW_DB))
	$(BIN)/mlflow ui --host 127.0.0.1 --port 5000 \
	  --backend-store-uri sqlite:///$(MLFLOW_DB) \
	  --default-artifact-root $(CURDIR)/results/mlflow/artifacts

# Jobs log to it with MLFLOW_TRACKING_URI=$$(scripts/tracking_server.sh uri)
tracking-server: setup
	MLFLOW=$(CURDIR)/$(BIN)/mlflow scripts/tracking_server.sh start

tracking-server-stop:
	scripts/tracking_server.sh stop

clean:
	rm -rf results .snakemake/log
