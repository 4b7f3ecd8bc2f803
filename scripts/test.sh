#!/usr/bin/env bash
# The whole check, as CI runs it: lint, format, types, then the test suite on a real PostgreSQL.
#
#   ./scripts/test.sh               # everything
#   ./scripts/test.sh -k entrypoint # extra arguments go to pytest
#
# Needs a PostgreSQL server (default postgresql://postgres@127.0.0.1:5432; set TEST_POSTGRES_URL
# for another one). Installs what a fresh machine lacks: uv (with pip), the Debian packages the
# suite runs (with apt-get, as root), then the locked dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    echo "uv not found; installing it with pip" >&2
    python3 -m pip install --quiet uv
fi

# Debian packages the suite runs: HAProxy for the release rehearsal (tests/release/)
# examples-only
# and wrk, which drives the API benchmark the suite smoke-runs
# /examples-only
needed=(haproxy)
# examples-only
needed+=(wrk)
# /examples-only
missing=()
for tool in "${needed[@]}"; do
    command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
done
if [[ -n "${missing[*]}" ]]; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "${missing[*]} not found; installing with apt-get" >&2
        apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
            || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
    else
        echo "error: ${missing[*]} not found; install first (apt-get install ${missing[*]}, or brew install ${missing[*]})" >&2
        exit 1
    fi
fi

uv sync --frozen
uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen mypy
uv run --frozen pytest "$@"
