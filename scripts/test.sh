#!/usr/bin/env bash
# The whole check, as CI runs it: lint, format, types, then the test suite on a real PostgreSQL.
#
#   ./scripts/test.sh               # everything
#   ./scripts/test.sh -k entrypoint # extra arguments go to pytest
#
# Needs a PostgreSQL server (default postgresql://postgres@127.0.0.1:5432; set TEST_POSTGRES_URL
# for another one). Installs uv with pip if it is missing, then the locked dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    echo "uv not found; installing it with pip" >&2
    python3 -m pip install --quiet uv
fi

uv sync --frozen
uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen mypy
uv run --frozen pytest "$@"
