# Two commands for a new user: `make run` and `make test`.
# Both create .venv (with the dev extras) on first use and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ganframe-installed
EPOCHS ?= 5

.PHONY: run test lint bench bench-check clean

# The example third-party plugin is installed beside ganframe, as a user would install one.
EXAMPLE_PLUGIN := plugins/ganframe-dcgan

$(STAMP): pyproject.toml $(EXAMPLE_PLUGIN)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e $(EXAMPLE_PLUGIN)
	touch $(STAMP)

## Train the default model (mlp, bce, MNIST) for a few epochs; prints where the pictures are.
run: $(STAMP)
	$(BIN)/ganframe run --epochs $(EPOCHS)

## Run the test suite (ganframe's and the example plugin's).
test: $(STAMP)
	$(BIN)/python -m pytest tests $(EXAMPLE_PLUGIN)/tests

## Lint, format check and type check (what CI runs before the tests).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Time training steps (pytest-benchmark); see README "Performance".
bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks

## Execute every benchmark once as a plain test (no timing), as CI does.
bench-check: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-disable -q

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .benchmarks
