"""Migrations under load: the example series runs to head while the live release serves traffic.

    uv run python -m bench.migrations           # 1,000,000 users: about 2 minutes

One database is migrated to 0001_initial_schema (release 1) and seeded with --rows users, then
copied twice (CREATE DATABASE ... TEMPLATE): each series of revisions migrates its own
identical copy, one series after the other.

- safe:  the example revisions of alembic/versions/, through the `alembic` command line.
- naive: their naive forms, naive_versions/ here (one big UPDATE, SET NOT NULL with its table
         scan, a plain CREATE INDEX), through the same command line, alembic.ini, env.py and
         settings (naive.py). The same releases, the same schema after each one.

On each copy, load.py sends --rate requests a second (get, update, insert, by id) as the live
release issues them, on a pool made by the app's own engine factory. The story proceeds as
rolling deploys do (series.py): release N-1 is live while `alembic upgrade <N's last revision>`
runs, as N's entrypoint runs it, with the production settings of the environment
(MIGRATION_LOCK_TIMEOUT_MS and the rest); then N is live, for --pause seconds before the next
release's revisions start. Release 8 ships no revision: only the live release changes.

Reported for each series (summary.py): failed requests, the longest request, requests over 1 s,
p50 and p99 before the first revision (the baseline: same run, same load), while a revision
runs, and after the last one; each revision's run time (upgrade.py) and the longest request due
meanwhile. Both copies must end with the same schema, holding every user seeded or inserted.
Written beside --output: the JSON result, a text summary, every request as CSV, and a plot of
request latency over time with the revisions marked (plot.py).
"""
