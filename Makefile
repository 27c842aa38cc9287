# ReviewGuard — `make run` starts everything embedded; `make test` runs the suite.
# With DATABASE_URL / CELERY_BROKER_URL / CACHE_URL set, both use those services.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
PORT   ?= 8000
# Where `make run` keeps its data and its own random keys (see reviewguard/settings.py).
VAR    := $(or $(REVIEWGUARD_VAR_DIR),var)
KEYS   := $(VAR)/secret_key $(VAR)/pii_hash_key

.PHONY: install keys run test test-pipeline lint browser demo bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Random keys for this checkout, made once and kept (a new PII key would make
# the stored hashes unmatchable); the settings read them when SECRET_KEY /
# PII_HASH_KEY (or *_FILE) are not set. With DEBUG off and no key, the service
# refuses to start.
keys: $(KEYS)

$(VAR)/%_key:
	@mkdir -p $(VAR)
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(64))' > $@

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium;
# it never downloads a browser of its own).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

run: install keys
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_demo_data
	$(PY) manage.py serve --port $(PORT)

test: install browser
	$(PY) -m pytest

# The live-worker tests alone (needs DATABASE_URL and CELERY_BROKER_URL).
test-pipeline: install
	$(PY) -m pytest -m live_worker

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf var .pytest_cache
