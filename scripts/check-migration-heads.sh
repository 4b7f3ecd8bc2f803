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
    # The merge revision's id follows the NNNN_slug scheme of the others (see alembic/env.py).
    next="$(grep -o '^[0-9]\+' <<<"${heads}" | sort -n | tail -1 | sed 's/^0*//')"
    merge_id="$(printf '%04d_merge_heads' "$((${next:-0} + 1))")"
    echo "error: ${count} migration heads ($(tr '\n' ' ' <<<"${heads}" | sed 's/ *$//')); join them with: alembic merge --rev-id ${merge_id} -m \"merge heads\" heads" >&2
    exit 1
fi
echo "one migration head: ${heads}"
