# Set-up and everyday commands. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,s3]"
	touch $(STAMP)

setup: $(STAMP)

## demo: create a small project in ./demo-project, list it, write and read picks, print a summary
demo: $(STAMP)
	$(PY) examples/demo.py demo-project

## test: the whole test suite (what CI runs)
test: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

.PHONY: refenv bench bench-smoke

## refenv: build (once, cached in .cache/refenv) the copick 1.31.0 reference environment; print its python
refenv: $(STAMP)
	$(PY) bench/refenv.py

## bench: ours vs copick 1.31.0 vs the limit, median of 3 fresh processes (BENCH_ARGS="--only picks_write --repeats 5")
bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

## bench-smoke: every workload at tiny sizes, once per implementation (what tests/test_bench_smoke.py runs)
bench-smoke: $(STAMP)
	$(PY) bench/run.py --smoke $(BENCH_ARGS)
