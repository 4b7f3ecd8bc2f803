#!/usr/bin/env bash
# Container entrypoint: wait for the database, migrate it to head, then become the web server.
#
# Every step is visible to the tests (tests/test_entrypoint.py): a database that never answers
# ends here with one line and a non-zero exit; a failed migration means uvicorn never starts.
#
# Environment (all optional; see .env.example):
#   HOST (0.0.0.0), PORT (8000), WEB_CONCURRENCY (1 worker process),
#   DB_WAIT_ATTEMPTS (30), DB_WAIT_INTERVAL_SECONDS (2), FORWARDED_ALLOW_IPS (127.0.0.1),
#   MIGRATE_ON_START (true; set false where migrations run as a separate deploy step).
set -euo pipefail

# Wait for the database, then `alembic upgrade head` in the same interpreter, through Alembic's
# own command-line entry point (app/schema/startup.py): one Python start-up instead of two.
case "${MIGRATE_ON_START:-true}" in
    true | True | TRUE | 1) python -m app.schema.startup --migrate ;;
    false | False | FALSE | 0) python -m app.schema.startup ;;
    *)
        echo "error: MIGRATE_ON_START must be true or false, not '${MIGRATE_ON_START}'" >&2
        exit 2
        ;;
esac

# exec: uvicorn replaces this shell as the container's PID 1, so `docker stop`'s SIGTERM reaches
# it directly and in-flight requests finish before it exits.
exec uvicorn app.main:create_app --factory \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-1}" \
    --proxy-headers \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
    --no-server-header
