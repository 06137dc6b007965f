# mediawatch: `make demo` builds an archive offline and serves it; `make test` runs every check.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint bench serve clean browser redis profile

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

# Debian's redis-server for the distributed-crawl tests (each test starts its own on loopback).
redis:
	command -v redis-server >/dev/null || (apt-get update && apt-get install -y redis-server)

test: lint browser redis
	$(BIN)/pytest

# news-please, for the crawl comparison in bench/throughput.py: its own venv, never the project's.
NEWSPLEASE_VENV := bench/.venv-newsplease
NEWSPLEASE_PIN := news-please==1.6.16

bench: setup
	test -f $(NEWSPLEASE_VENV)/.installed-$(NEWSPLEASE_PIN) || { rm -rf $(NEWSPLEASE_VENV) \
	  && $(PY) -m venv $(NEWSPLEASE_VENV) \
	  && $(NEWSPLEASE_VENV)/bin/python -m pip install -q --disable-pip-version-check '$(NEWSPLEASE_PIN)' \
	  && touch $(NEWSPLEASE_VENV)/.installed-$(NEWSPLEASE_PIN); } \
	  || echo "news-please could not be installed; the bench prints why it skips it"
	$(BIN)/python bench/run.py

# Sampling profile of the bench crawl (main process + one extraction worker): bench/profiles/.
profile: setup
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python bench/profile.py $(if $(LABEL),--label $(LABEL))

serve: setup
	$(BIN)/mediawatch serve --db archive.db

clean:
	rm -rf $(VENV) demo build .mypy_cache .ruff_cache .pytest_cache *.egg-info
