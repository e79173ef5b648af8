PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= output

.PHONY: run test test-fast lint bench sample sample-sdtm constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# the tested versions of every dependency (constraints.txt); pyproject.toml keeps the ranges
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cdisc-als run --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

# everything but the tests marked slow (the 3-minute calibrated regeneration of the sample study)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

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

# pin the current venv's versions after a deliberate upgrade (then run `make test` and commit)
constraints: $(STAMP)
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -iv '^cdisc.als'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) $(OUT)
