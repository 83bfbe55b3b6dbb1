# Set-up and everyday commands. Every target installs what it needs into .venv first.
# `make test` runs the suite twice: in .venv (the newest zarr 3) and in .venv-zarr2 (zarr 2.18 with
# numcodecs 0.15, as in napari-copick / copick-shared-ui environments).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENV2 := .venv-zarr2
STAMP2 := $(VENV2)/.installed
PYTEST_ARGS ?= -n 2 -q

.PHONY: setup demo test test-zarr3 test-zarr2 lint system-packages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --upgrade -e ".[test]" "zarr>=3" "ome-zarr-models>=1.0"
	touch $(STAMP)

$(STAMP2): pyproject.toml tests/zarr2-constraints.txt
	$(PYTHON) -m venv $(VENV2)
	$(VENV2)/bin/python -m pip install --quiet --upgrade pip
	$(VENV2)/bin/python -m pip install --quiet -e ".[test]" -c tests/zarr2-constraints.txt
	touch $(STAMP2)

setup: $(STAMP) $(STAMP2)

## demo: create a small project in ./demo-project, list it, write and read picks, print a summary
demo: $(STAMP)
	$(PY) examples/demo.py demo-project

## system-packages: Debian programs the tests start (servers, a browser), from .ci/apt-packages.txt
system-packages:
	bash .ci/system-packages.sh

## test: ruff, then the whole suite under zarr 3 and again under zarr 2 (what CI runs)
test: $(STAMP) $(STAMP2) system-packages
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(MAKE) test-zarr3 test-zarr2

## test-zarr3 / test-zarr2: one pass of the suite (PYTEST_ARGS="-x -k picks" narrows it)
test-zarr3: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-zarr2: $(STAMP2)
	$(VENV2)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

.PHONY: refenv bench bench-zarr2 bench-smoke bench-portal

## refenv: build (once, cached in .cache/refenv) the copick 1.31.0 reference environment; print its python
refenv: $(STAMP)
	$(PY) bench/refenv.py

## bench: ours vs copick 1.31.0 vs the limit, median of 3 fresh processes (BENCH_ARGS="--only picks_write --repeats 5")
bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

## bench-zarr2: the same, with our side running under zarr 2.18 (.venv-zarr2)
bench-zarr2: $(STAMP) $(STAMP2)
	$(PY) bench/run.py --ours-python $(CURDIR)/$(VENV2)/bin/python $(BENCH_ARGS)

## bench-smoke: every workload at tiny sizes, once per implementation (what tests/test_bench_smoke.py runs)
bench-smoke: $(STAMP)
	$(PY) bench/run.py --smoke $(BENCH_ARGS)

## bench-portal: a 120-run portal project on loopback servers, cold and warm cache (BENCH_ARGS="--portal-delay 0.1")
bench-portal: $(STAMP)
	$(PY) bench/bench_portal.py $(BENCH_ARGS)
