#!/usr/bin/env bash
# Run the service without Docker, against a PostgreSQL server you already have:
#
#   ./scripts/run-local.sh
#
# DATABASE_URL defaults to postgresql://postgres@127.0.0.1:5432/app; the database is created if
# it does not exist, migrated to head, and served on http://127.0.0.1:8000 (PORT to change).
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/app}"
export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8000}"

if ! command -v uv >/dev/null 2>&1; then
    echo "uv not found; installing it with pip" >&2
    python3 -m pip install --quiet uv
fi

uv run --frozen python -m app.schema.startup --create-database
exec uv run --frozen ./entrypoint.sh
