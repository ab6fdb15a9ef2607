# The two commands: `make run` (the app with demo data) and `make test` (lint + the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint format lock lock-upgrade assets install install-dev check-python check-libs clean bench

run: install assets
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py sync_periodic_tasks
	@echo
	@echo "  Mentorship is starting at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (password for all: demo-password):"
	@echo "    coordinator  coordinator@demo.mentorship.test"
	@echo "    mentor       mentor@demo.mentorship.test"
	@echo "    mentee       mentee@demo.mentorship.test"
	@echo "    admin        admin@demo.mentorship.test   (also /admin/)"
	@echo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install-dev assets lint
	@# pytest exits 5 when it collected no tests: that is a failure here, not a pass.
	@$(VENV)/bin/pytest $(PYTEST_ARGS); code=$$?; \
	  if [ $$code -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$code

# Lint, format, types, the one-way import graph and the stylesheets: all must be clean before a
# test runs.
lint: install-dev assets
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) scripts/check_imports.py
	npx --no-install stylelint "static/css/**/*.css"

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Mentorship needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version)."; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "Installing python3-venv (Debian/Ubuntu ship venv separately)..."; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv; }

# WeasyPrint (the close-out report's PDF) loads Pango at run time; Debian/Ubuntu ship it apart.
check-libs:
	@{ PATH="$$PATH:/sbin:/usr/sbin" ldconfig -p; } 2>/dev/null | grep -q 'libpangoft2-1.0.so' || { \
	  echo "Installing Pango (for PDF reports)..."; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0; }

$(PY): | check-python
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Every install comes from a hashed lock file (pip --require-hashes); re-install only when the
# lock changes. `make lock` rewrites the locks from pyproject.toml's ranges.
$(VENV)/.installed: requirements.lock | $(PY) check-libs
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock | $(PY) check-libs
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	@touch $@ $(VENV)/.installed

UV_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal \
	--python-version 3.11 --quiet --custom-compile-command "make lock"

# `make lock` after editing pyproject.toml (keeps every other pin); `make lock-upgrade` takes the
# newest versions within the ranges; `make lock UV_FLAGS="--upgrade-package django"` moves one.
lock: install-dev
	$(UV_COMPILE) $(UV_FLAGS) -o requirements.lock
	$(UV_COMPILE) $(UV_FLAGS) --extra dev -o requirements-dev.lock

lock-upgrade: UV_FLAGS = --upgrade
lock-upgrade: lock

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Third-party browser assets come from the npm registry, pinned by package-lock.json: `npm ci`
# installs exactly the lock, then the files the pages load are copied into static/vendor (with
# their source maps, which the production static storage follows).
VENDOR_FILES := node_modules/htmx.org/dist/htmx.min.js \
	node_modules/tom-select/dist/js/tom-select.base.min.js \
	node_modules/tom-select/dist/js/tom-select.base.min.js.map \
	node_modules/tom-select/dist/css/tom-select.min.css \
	node_modules/tom-select/dist/css/tom-select.min.css.map

assets: static/vendor/.installed

static/vendor/.installed: package-lock.json
	@command -v npm >/dev/null || { \
	  echo "Installing Node.js and npm (for pinned front-end packages)..."; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp $(VENDOR_FILES) static/vendor/
	@touch $@


# Performance figures (not tests): printed, and quoted in the README.
bench: install-dev
	$(PY) bench/matching.py
	$(PY) bench/matching.py --peer
	$(PY) bench/participant_import.py --rows 5000
	$(PY) bench/bulk_actions.py --pairs 1000 --people 1000
	$(PY) bench/reminders.py --relationships 10000
	$(PY) bench/reminders.py
	@# The whole site served as in production (gunicorn, Celery worker and beat; needs Redis):
	@# about 7 minutes. `python bench/load.py --quick` for a 2-minute check.
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles test-artifacts
