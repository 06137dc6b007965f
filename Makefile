# mediawatch: `make demo` builds an archive offline and serves it; `make test` runs every check.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test test-fast lint bench serve clean browser redis docs docs-cli schema \
	profile

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# Bytecode for the project's own modules, refreshed on every run: with PYTHONDONTWRITEBYTECODE
# set (as on the machines this project is tested on), every `mediawatch` process of a test or
# a bench would otherwise compile them from source again (0.2 s of a crawl's start-up).
setup: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 crawler extract schema demoweb tests bench/*.py

demo: setup
	$(BIN)/mediawatch demo --dir demo --port 8001

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# System programs some tests drive: found on PATH (or through the env var), installed with
# apt-get only where that exists and we are root; otherwise a message says how.
# $(1): program, $(2): Debian package, $(3): env var naming another binary, $(4): who needs it.
define need
	@if command -v $(1) >/dev/null 2>&1 || [ -x "$${$(3):-}" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -q && apt-get install -y -q $(2); \
	else echo "$(1) is missing: install it (Debian/Ubuntu: sudo apt-get install $(2)) or set" \
	  "$(3)=/path/to/$(1); $(4) fail without it."; fi
endef

# Debian's chromium for the Playwright browser tests (never `playwright install`: no downloads).
browser:
	$(call need,chromium,chromium,MEDIAWATCH_CHROMIUM,the browser tests)

# Debian's redis-server for the distributed-crawl tests (each test starts its own on loopback).
redis:
	$(call need,redis-server,redis-server,MEDIAWATCH_REDIS_SERVER,the distributed tests)

# Test files run on TEST_JOBS processes (pytest-xdist, a file's tests together, so module
# fixtures are built once): most e2e tests wait on subprocesses and the network, so two
# processes take the suite on 2 cores from about 16 to 10 minutes. TEST_JOBS=0 runs it in one.
TEST_JOBS ?= 2

test: lint browser redis
	$(BIN)/pytest $(if $(filter-out 0,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile)

# The unit tier: no servers, browsers or subprocess crawls; seconds.
test-fast: lint
	$(BIN)/pytest -m unit -q

# The documentation site, built offline into build/site.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-cli: setup
	$(BIN)/python -m crawler.cli.reference > docs/cli.md

schema: setup
	$(BIN)/python -m mediawatch_schema.snapshot > schema/schema.sql

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
	$(BIN)/python bench/profiling.py $(if $(LABEL),--label $(LABEL))

serve: setup
	$(BIN)/mediawatch serve --db archive.db

clean:
	rm -rf $(VENV) demo build .mypy_cache .ruff_cache .pytest_cache *.egg-info
