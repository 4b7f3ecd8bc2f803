"""The schema lifecycle: everything that changes a live database schema safely.

- `operations`: the safe forms of the changes that lock a live table, for revisions to call
  (batched backfills, NOT NULL without a scan, concurrent indexes).
- `runtime`: how an online `alembic upgrade` behaves on a busy database: timeouts on every
  session, one runner at a time, bounded retries, and the one-line failure.
- `environment`: what `alembic/env.py` does beyond Alembic's own async template: the settings
  of the run, revision ids, which commands need a database, a database a newer release migrated.
- `readiness`: which revision this code needs, and whether the database has it.
- `startup`: the entrypoint's bounded wait for the database, then `alembic upgrade head`
  (`python -m app.schema.startup`).
- `lint`: squawk on each revision's SQL (`python -m app.schema.lint`).
"""
