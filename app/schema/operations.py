"""The safe forms of the schema changes that lock a live table, for revisions to call.

Each helper is written once so that every revision applies it the same way:

- `backfill_in_batches`: an UPDATE of every row, as many short transactions instead of one long
  one that would hold its row locks (and bloat the table) until the end.
- `set_not_null`: NOT NULL on a filled column without the table scan under ACCESS EXCLUSIVE.
- `create_index_concurrently` / `drop_index_concurrently`: indexes built and dropped without
  blocking writes, recovering from an INVALID index that a failed attempt left behind.

Each runs in an `autocommit_block()` (its statements commit one by one), so each is written to
be re-run after a failure: a retry, or a second `alembic upgrade`, picks up where it stopped.
All of them also work in offline mode (`alembic upgrade --sql`), emitting SQL a DBA can apply
with psql.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import op
from sqlalchemy import text

from app.schema.environment import run_settings
from app.settings import Settings

log = logging.getLogger(__name__)


def _settings() -> Settings:
    """The settings of this run (timeouts, batch size), as alembic/env.py resolved them."""
    config = op.get_context().config
    assert config is not None, "revisions run through alembic/env.py"
    return run_settings(config)


def _quote(name: str) -> str:
    quoted: str = op.get_context().dialect.identifier_preparer.quote(name)
    return quoted


def _offline() -> bool:
    return op.get_context().as_sql


def _lint_note(rules: str, why: str) -> None:
    """In --sql output only: say why the next statement is safe, and tell squawk to skip it.

    Written straight to the output: squawk reads an ignore comment only on the line right
    above the statement, and Alembic's static_output() would add a blank line.
    """
    if _offline():
        output = op.get_context().impl.output_buffer
        assert output is not None
        output.write(f"-- {why}\n-- squawk-ignore {rules}\n")


@contextmanager
def long_running_statements(*, long_lock_waits: bool = True) -> Iterator[None]:
    """Allow the enclosed statements to wait and run long: for those that block no traffic.

    VALIDATE CONSTRAINT and CREATE INDEX CONCURRENTLY take SHARE UPDATE EXCLUSIVE, which
    conflicts with no SELECT, INSERT, UPDATE or DELETE, so waiting for it queues nobody behind
    it. The usual short timeouts would only make them fail for no gain. Statements that take
    row locks (a backfill) keep the short lock timeout: `long_lock_waits=False`.
    """
    settings = _settings()
    if long_lock_waits:
        op.execute(f"SET lock_timeout = {settings.migration_long_statement_timeout_ms}")
    op.execute(f"SET statement_timeout = {settings.migration_long_statement_timeout_ms}")
    try:
        yield
    finally:
        if long_lock_waits:
            op.execute(f"SET lock_timeout = {settings.migration_lock_timeout_ms}")
        op.execute(f"SET statement_timeout = {settings.migration_statement_timeout_ms}")


def backfill_in_batches(table: str, assignments: str, where: str, *, key: str = "id") -> None:
    """`UPDATE table SET assignments WHERE where`, one batch of rows per transaction.

    Each batch chooses the next rows still to do, walking `key` (a positive integer, e.g. an
    identity primary key) upwards, and updates them; the walk continues after the last key
    chosen, whether or not each chosen row still needed the update. So the run ends even while
    live releases insert rows, and a batch whose rows a live release fixed meanwhile does not
    end it early. `where` is checked again on the row version the UPDATE locks: a row fixed
    meanwhile is left as it is, and `assignments` reads the row as it is now, never a stale
    copy. A re-run after a failure resumes: committed batches are done, and `where` skips them.

    Call it outside any `autocommit_block()`; it opens its own.
    """
    settings = _settings()
    size = settings.migration_backfill_batch_size
    t, k = _quote(table), _quote(key)
    chosen_and_updated = (
        f"WITH chosen AS (SELECT {k} FROM {t} WHERE {k} > :after AND ({where}) "
        f"ORDER BY {k} LIMIT {size}), "
        f"updated AS (UPDATE {t} SET {assignments} "
        f"WHERE {k} IN (SELECT {k} FROM chosen) AND ({where}) RETURNING 1)"
    )
    with op.get_context().autocommit_block():
        if _offline():
            # psql runs a DO block outside a transaction, so it may COMMIT after each batch.
            # The block is one statement, hence the long statement timeout; each batch is
            # still short, and still gives up on a row lock after lock_timeout.
            batch = chosen_and_updated.replace(":after", "after_key")
            with long_running_statements(long_lock_waits=False):
                op.execute(
                    f"DO $$\nDECLARE\n    after_key bigint := 0;\n    last_key bigint;\n"
                    f"BEGIN\n    LOOP\n        {batch}\n"
                    f"        SELECT max({k}) INTO last_key FROM chosen;\n"
                    f"        EXIT WHEN last_key IS NULL;\n        after_key := last_key;\n"
                    f"        COMMIT;\n    END LOOP;\nEND $$"
                )
            return
        batch_sql = text(
            chosen_and_updated
            + f" SELECT (SELECT max({k}) FROM chosen), (SELECT count(*) FROM updated)"
        )
        bind = op.get_bind()
        after, done = 0, 0
        while True:
            last, updated = bind.execute(batch_sql, {"after": after}).one()
            if last is None:
                break
            done, after = done + updated, last
            log.info("backfill %s: %d rows updated so far (up to %s %d)", table, done, key, after)
        log.info("backfill %s: done, %d rows updated", table, done)


def set_not_null(table: str, column: str) -> None:
    """`ALTER COLUMN column SET NOT NULL` without scanning the table under ACCESS EXCLUSIVE.

    1. ADD CONSTRAINT ... CHECK (column IS NOT NULL) NOT VALID: ACCESS EXCLUSIVE, no scan:
       milliseconds. Committed at once, so the lock is released before step 2.
    2. VALIDATE CONSTRAINT: scans the table under SHARE UPDATE EXCLUSIVE, which lets reads and
       writes go on. Fails, changing nothing, if a NULL is left.
    3. SET NOT NULL: ACCESS EXCLUSIVE again, but PostgreSQL >= 12 sees the valid check and
       skips the scan: milliseconds.
    4. DROP the check, now redundant.

    If step 2 fails (a NULL is left), the NOT VALID check stays behind until the re-run
    replaces it, and meanwhile refuses new NULLs: which no live release writes anyway.

    Call it outside any `autocommit_block()`; it opens its own.
    """
    t, c = _quote(table), _quote(column)
    check = _quote(f"ck_{table}_{column}_not_null")
    with op.get_context().autocommit_block():
        _lint_note(
            "ban-drop-constraint", "Replaces a NOT VALID check left by a failed earlier run."
        )
        op.execute(
            f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check}, "
            f"ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID"
        )
        with long_running_statements():
            op.execute(f"ALTER TABLE {t} VALIDATE CONSTRAINT {check}")
        _lint_note(
            "prefer-robust-stmts", "SET NOT NULL on a NOT NULL column is a no-op: re-runnable."
        )
        op.execute(f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL")
        _lint_note("ban-drop-constraint", "The check is redundant once the column is NOT NULL.")
        op.execute(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {check}")


def create_index_concurrently(name: str, table: str, columns: Sequence[str]) -> None:
    """CREATE INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE, so writes continue during the build.

    A failed concurrent build (a timeout, a deadlock, a cancelled deploy) leaves an INVALID
    index behind: never used by queries, yet maintained on every write. IF NOT EXISTS would
    keep that broken index, so it is dropped and rebuilt; a valid one is kept.

    Call it outside any `autocommit_block()`; it opens its own (CONCURRENTLY cannot run in a
    transaction).
    """
    with op.get_context().autocommit_block(), long_running_statements():
        if _offline():
            op.get_context().impl.static_output(
                f"-- Replaces an INVALID {name} left by a failed build (online: only then)."
            )
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        else:
            valid = op.get_bind().scalar(
                text(
                    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace"
                ),
                {"name": name},
            )
            if valid:
                log.info("index %s exists and is valid; nothing to build", name)
                return
            if valid is False:
                log.warning("index %s is INVALID (a failed earlier build); rebuilding it", name)
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
        op.create_index(
            name, table, list(columns), postgresql_concurrently=True, if_not_exists=True
        )


def drop_index_concurrently(name: str, table: str) -> None:
    """DROP INDEX CONCURRENTLY: waits for running queries instead of blocking new ones."""
    with op.get_context().autocommit_block(), long_running_statements():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
