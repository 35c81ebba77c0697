# Two commands: `make run` serves the portal for development, `make test` runs every check CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
DEV_ENV := DEBUG=true SECURE_SSL_REDIRECT=false SECURE_COOKIES=false

.PHONY: run dev-env test lint typecheck pytest install install-dev chromium softhsm hawk-client benchmarks clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    rm -rf $(VENV); apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	  else echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"; exit 1; fi; }
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The development settings also in .env (git-ignored), so manage.py commands typed in this checkout use them too.
# A .env that exists already is the user's and is left as it is.
dev-env:
	@if [ -e .env ]; then echo "Kept the existing .env."; \
	else set -C; printf '%s\n' '# Development settings written by make run. Never deploy them.' $(DEV_ENV) > .env \
	  && echo "Wrote .env with the development settings: $(DEV_ENV)"; fi

run: install dev-env
	$(DEV_ENV) $(BIN)/python manage.py init_master_key
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py create_demo
	@echo "Serving on http://$(HOST):$(PORT)/, with a worker for background jobs beside it"
	@# The worker runs in the background and is stopped when the server stops (Ctrl+C included).
	@$(DEV_ENV) $(BIN)/python manage.py run_worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Debian's Chromium for the browser tests; installed only when missing and only as root.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need /usr/bin/chromium: run 'apt-get install chromium' as root."; exit 1; fi; fi

# Debian's SoftHSM2, the PKCS#11 token the master-key tests use (each test makes its own token in a temporary
# directory); installed only when missing and only as root.
softhsm:
	@if [ ! -f /usr/lib/softhsm/libsofthsm2.so ] || ! command -v softhsm2-util >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2; \
	  else echo "The PKCS#11 master-key tests need SoftHSM2: run 'apt-get install softhsm2' as root."; fi; fi

# The reference Hawk client (Node's @hapi/hawk, pinned in its package-lock.json) for the interoperability tests.
HAWK_CLIENT := tests/lkm/hawk_node
hawk-client:
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	  else echo "The Hawk interoperability tests need Node.js and npm: run 'apt-get install nodejs npm' as root."; exit 1; fi; fi
	@[ -d $(HAWK_CLIENT)/node_modules/@hapi/hawk ] || npm ci --prefix $(HAWK_CLIENT) --no-audit --no-fund --loglevel=error

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install-dev
	$(BIN)/mypy .

pytest: install-dev chromium softhsm hawk-client
	$(BIN)/pytest

test: lint typecheck pytest

benchmarks: install-dev
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache staticfiles
