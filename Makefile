# research: make help lists the targets. Every target sets up .venv first when it is missing or stale.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help setup report test unit notebooks lab bench demo lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the toolkit with its test tools

report: $(STAMP)  ## run every notebook on the demo study; HTML in reports/demo/index.html
	$(BIN)/research run

test: $(STAMP)  ## the layer contract, unit tests, then every notebook executed on the demo with nbval
	$(BIN)/lint-imports
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:randomly notebooks

unit: $(STAMP)  ## unit tests only (fast)
	$(BIN)/python -m pytest -m "not slow"

lab: $(STAMP)  ## start JupyterLab on the project's environment
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

soak: $(STAMP)  ## many more generated random studies (SOAK_SEEDS=500 by default); not part of make test
	SOAK_SEEDS=$${SOAK_SEEDS:-500} $(BIN)/python -m pytest tests/test_generated_studies.py -k soak -q

bench: $(STAMP)  ## time each stage at 1x, 10x, 100x the demo; writes benchmarks/results.md
	$(BIN)/python benchmarks/run.py

demo: $(STAMP)  ## rewrite the bundled demo study from its generator (fixed seed)
	rm -rf data/raw/demo && $(BIN)/python -m research.run.demo --out data/raw/demo

lint: $(STAMP)  ## ruff and the layer contract (import-linter)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

clean:  ## remove reports, processed data and the virtual environment
	rm -rf reports data/processed/*/ $(VENV)
