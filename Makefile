# The two commands a newcomer needs: `make run` and `make test`. Both install what is
# missing first, and a rerun only redoes what changed.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := node_modules/.package-lock.json

.PHONY: run test install chromium

run: install
	$(BIN)/sds-market db upgrade
	$(BIN)/sds-market demo
	$(BIN)/sds-market serve --host 127.0.0.1 --port 8000 --with-worker

# Lint, formatting and types first (seconds), then one pytest worker a core; a worker
# that draws browser tests starts its own live server for them.
test: install chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadgroup --durations=25

install: $(INSTALLED) $(ASSETS)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(INSTALLED)

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund

# Browser tests drive Debian's chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }
