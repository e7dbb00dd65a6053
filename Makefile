# Two commands on a fresh machine (python3, pip, make, node/npm):
#   make demo   run the MCP server against the embedded, seeded Sage sandbox
#               (make demo PORT=8100 ARGS="--toolsets all" picks the port and passes flags)
#   make test   install what the tests need (pinned) and run lint, types and the whole suite
#   make mutation  (slow, not part of `make test`) mutation score per core module, see bench/mutation.py

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
INSPECTOR_DIR := .tools/inspector
INSPECTOR     := $(INSPECTOR_DIR)/node_modules/.bin/mcp-inspector
MCPB_DIR      := .tools/mcpb
MCPB          := $(MCPB_DIR)/node_modules/.bin/mcpb
# Wheels of the runtime dependencies (and the build backend), so the wheel and bundle tests install offline
WHEELHOUSE    := .tools/wheelhouse
PORT ?= 8000
ARGS ?=

.PHONY: demo test lint types pytest install inspector mcpb wheelhouse bundle wheel-check clean mutation

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

$(MCPB): mcpb/package.json mcpb/package-lock.json
	mkdir -p $(MCPB_DIR)
	cp mcpb/package.json mcpb/package-lock.json $(MCPB_DIR)/
	cd $(MCPB_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

mcpb: $(MCPB)

$(WHEELHOUSE)/.done: pyproject.toml constraints.txt $(STAMP)
	rm -rf $(WHEELHOUSE)
	$(BIN)/python -m pip download --quiet --no-build-isolation -c constraints.txt -d $(WHEELHOUSE) . hatchling
	touch $@

wheelhouse: $(WHEELHOUSE)/.done

# The Claude Desktop bundle (MCPB, uv runtime): dist/sage-accounting-mcp.mcpb
bundle: $(MCPB)
	rm -rf build/mcpb && mkdir -p build/mcpb dist
	cp mcpb/manifest.json pyproject.toml README.md LICENSE build/mcpb/
	cp -r sage_mcp tool_schemas build/mcpb/
	find build/mcpb -name __pycache__ -prune -exec rm -rf {} +
	$(MCPB) pack build/mcpb dist/sage-accounting-mcp.mcpb

demo: $(STAMP)
	$(BIN)/sage-mcp demo --port $(PORT) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(INSPECTOR) $(MCPB) $(WHEELHOUSE)/.done
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
	rm -rf $(VENV) .tools dist build .pytest_cache .mypy_cache .ruff_cache
