# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEB_STAMP := $(VENV)/.debs
DEBS := unixodbc unixodbc-dev odbc-postgresql odbc-mariadb libsqliteodbc chromium \
        postgresql redis-server mariadb-server

.PHONY: demo test venv debs services lint typecheck bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

$(DEB_STAMP):
	@mkdir -p $(VENV)
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
	@touch $(DEB_STAMP)

debs: $(DEB_STAMP)

services: debs
	@bash scripts/services.sh

demo: venv
	$(VENV)/bin/workstation demo

test: debs venv services
	bash scripts/test.sh

lint: venv
	$(VENV)/bin/ruff check workstation billing_adapter telephony classifier knowledge_base anonymizer tests benchmarks

typecheck: venv
	$(VENV)/bin/mypy workstation billing_adapter telephony classifier knowledge_base anonymizer

bench: venv services
	$(PIP) install -q -e '.[bench]'
	$(PY) benchmarks/screen_pop.py --quick
	$(PY) benchmarks/billing.py --quick
	$(PY) benchmarks/classifier.py
	$(PY) benchmarks/kb_routing.py --quick
	$(PIP) install -q --no-deps anjana beartype  # the baseline of segments.py; its exact pins contradict pydantic's
	$(PY) benchmarks/segments.py --quick

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
