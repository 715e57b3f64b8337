#!/usr/bin/env bash
# The test command (README, CI): lint, formatting and types first (seconds), then the suite.
# Arguments go to pytest (e.g. ./scripts/test.sh -m "not docker" -x). ruff and mypy are
# pinned in the [dev] extra, so a fresh install formats exactly as this checkout does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '[test] %s\n' "$*"; }
step "ruff check"
.venv/bin/ruff check . || { echo "fix: .venv/bin/ruff check --fix ." >&2; exit 1; }
step "ruff format --check"
.venv/bin/ruff format --check . || { echo "fix: .venv/bin/ruff format ." >&2; exit 1; }
step "mypy (strict, the ecoagent package)"
.venv/bin/mypy
step "pytest"
exec .venv/bin/python -m pytest "$@"
