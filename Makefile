# The two set-up commands: `make run` (service on embedded SQLite with the bundled policy)
# and `make test` (the whole suite, PostgreSQL included). Each creates .venv and installs what it needs.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed

.PHONY: run test openapi clean bench

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(RUN_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(TEST_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $(RUN_STAMP) $@

run: $(RUN_STAMP)
	@scripts/run-local

test: $(TEST_STAMP)
	@scripts/run-tests

openapi: $(RUN_STAMP)
	$(PY) scripts/export_openapi.py

clean:
	rm -rf $(VENV) var .pytest_cache

bench: $(TEST_STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null || sudo -n apt-get install -y -q wrk >/dev/null; }
	$(PY) bench/run_all.py
