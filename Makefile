# Beacon: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv and install the pinned requirements first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test test-slow lint format bench install system-deps clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m core sample load --if-empty
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Chromium (browser tests) and PostgreSQL (store tests) come from Debian's packages.
system-deps:
	bash scripts/system-deps.sh

test: $(STAMP) system-deps
	bash scripts/with-postgres.sh $(BIN)/python -m pytest -m "not slow" -q

test-slow: $(STAMP) system-deps
	bash scripts/with-postgres.sh $(BIN)/python -m pytest -m slow -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
