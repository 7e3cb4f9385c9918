PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench samples clean

$(BIN)/activate: requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $(BIN)/activate

$(VENV)/.dev: $(BIN)/activate requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(VENV)/.dev

ADDRESS ?= 127.0.0.1
PORT ?= 8501

run: $(BIN)/activate
	$(BIN)/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT)

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(VENV)/.dev
	$(BIN)/python bench/bench_load.py

samples: $(BIN)/activate
	$(BIN)/python -m audit_lib.demo.sampledata samples

clean:
	rm -rf $(VENV) bench/corpus bench/out
