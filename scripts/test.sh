#!/usr/bin/env bash
# The whole check, as CI runs it: lint, format, types, then the test suite on a real PostgreSQL.
#
#   ./scripts/test.sh               # everything
#   ./scripts/test.sh -k entrypoint # extra arguments go to pytest
#
# Needs a PostgreSQL server (default postgresql://postgres@127.0.0.1:5432; set TEST_POSTGRES_URL
# for another one). Installs what a fresh machine lacks: uv (with pip), then the locked
# dependencies, and wrk for the benchmarks (with apt-get, as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    echo "uv not found; installing it with pip" >&2
    python3 -m pip install --quiet uv
fi

# examples-only
# wrk drives the API benchmark, which the suite smoke-runs (a Debian package).
if ! command -v wrk >/dev/null 2>&1; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "wrk not found; installing it with apt-get" >&2
        apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 \
            || { apt-get update >/dev/null && apt-get install -y --no-install-recommends wrk >/dev/null; }
    else
        echo "error: wrk not found; install it first (apt-get install wrk, or brew install wrk)" >&2
        exit 1
    fi
fi
# /examples-only

uv sync --frozen
uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen mypy
uv run --frozen pytest "$@"
