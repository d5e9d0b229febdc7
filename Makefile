# Beacon: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv and install the pinned requirements first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run api worker test test-slow lint format bench install system-deps clean

$(STAMP): requirements.txt requirements-dev.txt requirements-oracles.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-oracles.txt
	touch $(STAMP)

install: $(STAMP)

# The machine API (devices, automation, webhooks) runs beside the app; API=0 leaves it out.
API ?= 1
# The workflow worker (schedules and runs workflows) runs beside the app too; NO_WORKER=1 leaves it out.
NO_WORKER ?= 0

run: $(STAMP)
	$(BIN)/python -m core sample load --if-empty
	@pids=""; \
	if [ "$(API)" != "0" ]; then $(BIN)/python -m core api & pids="$$pids $$!"; fi; \
	if [ "$(NO_WORKER)" != "1" ]; then $(BIN)/python -m core worker & pids="$$pids $$!"; fi; \
	trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	$(BIN)/streamlit run app.py --server.port $(PORT)

api: $(STAMP)
	$(BIN)/python -m core api

worker: $(STAMP)
	$(BIN)/python -m core worker

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
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
