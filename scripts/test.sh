#!/usr/bin/env bash
# The whole suite: lint, type check, then unit, integration and browser tests on real services.
set -euo pipefail
cd "$(dirname "$0")/.."
V=.venv/bin
echo "== ruff"
PKGS="workstation billing_adapter telephony classifier knowledge_base anonymizer tests benchmarks scripts"
$V/ruff check $PKGS
echo "== ruff format"
$V/ruff format --check $PKGS
echo "== mypy"
$V/mypy workstation billing_adapter telephony classifier knowledge_base anonymizer
echo "== pytest"
exec $V/pytest -q -p no:cacheprovider "$@"
