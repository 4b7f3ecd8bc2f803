#!/usr/bin/env bash
# Fail when the revisions have more than one head: two branches were merged into the code
# without an `alembic merge`, and `alembic upgrade head` would refuse to run in production.
#
#   ./scripts/check-migration-heads.sh          # run from anywhere; needs no database
#
# ALEMBIC_CONFIG may name another alembic.ini (Alembic reads it too).
set -euo pipefail
cd "$(dirname "$0")/.."

heads="$(uv run --frozen alembic heads)"
count="$(grep -c . <<<"${heads}" || true)"

if [[ "${count}" -ne 1 ]]; then
    echo "error: ${count} migration heads ($(tr '\n' ' ' <<<"${heads}" | sed 's/ *$//')); join them with: alembic merge -m \"merge ...\" heads" >&2
    exit 1
fi
echo "one migration head: ${heads}"
