PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= output

.PHONY: run test lint bench sample sample-sdtm clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cdisc-als run --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check cdisc_als tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/simulate.py

sample: $(STAMP)
	$(BIN)/cdisc-als simulate --calibrated --seed 20181 --out cdisc_als/data/sample_raw
	$(MAKE) sample-sdtm

sample-sdtm: $(STAMP)
	rm -rf sample_sdtm/*.xpt sample_sdtm/trace
	$(BIN)/cdisc-als sdtm --raw cdisc_als/data/sample_raw --out sample_sdtm --quiet

clean:
	rm -rf $(VENV) $(OUT)
