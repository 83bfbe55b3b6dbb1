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
