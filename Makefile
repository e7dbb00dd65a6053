# Two commands on a fresh machine (python3, pip, make, node/npm):
#   make demo   run the MCP server against the embedded, seeded Sage sandbox
#   make test   install what the tests need (pinned) and run lint, types and the whole suite
#   make mutation  (slow, not part of `make test`) mutation score per core module, see bench/mutation.py

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
INSPECTOR_DIR := .tools/inspector
INSPECTOR     := $(INSPECTOR_DIR)/node_modules/.bin/mcp-inspector

.PHONY: demo test lint types pytest install inspector wheel-check clean mutation

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

$(INSPECTOR): tests/inspector/package.json tests/inspector/package-lock.json
	mkdir -p $(INSPECTOR_DIR)
	cp tests/inspector/package.json tests/inspector/package-lock.json $(INSPECTOR_DIR)/
	cd $(INSPECTOR_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

inspector: $(INSPECTOR)

demo: $(STAMP)
	$(BIN)/sage-mcp demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(INSPECTOR)
	$(BIN)/pytest -q

test: lint types pytest

MUTATION_STAMP := $(VENV)/.installed-mutation

$(MUTATION_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,mutation]'
	touch $@

# Niced, two mutants at a time: fits a shared 2-core machine. MUTATION_ARGS="money errors" picks modules.
mutation: $(MUTATION_STAMP)
	nice -n 19 $(BIN)/python bench/mutation.py --jobs 2 --survivors $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) .tools dist build .pytest_cache .mypy_cache .ruff_cache .mutation
