# mediawatch: `make demo` builds an archive offline and serves it; `make test` runs every check.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint bench serve clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/mediawatch demo --dir demo --port 8001

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# Debian's chromium for the Playwright browser tests (never `playwright install`: no downloads).
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

test: lint browser
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/run.py

serve: setup
	$(BIN)/mediawatch serve --db archive.db

clean:
	rm -rf $(VENV) demo build .mypy_cache .ruff_cache .pytest_cache *.egg-info
