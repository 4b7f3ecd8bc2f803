"""Index users by (full_name, id), built concurrently: release 7's search by name (branch A).

Release:    7 (with 0008_add_user_bio, made in parallel, and the merge 0009).
Live:       release 6 while this runs; then releases 6 and 7.
Locks:      CREATE INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE on users, which blocks no
            SELECT, INSERT, UPDATE or DELETE, for the whole build (two table scans, and waits
            for every transaction older than the build to end). Timeouts: the long ones
            (MIGRATION_LONG_STATEMENT_TIMEOUT_MS), since the build blocks nobody.
Safe since: an index changes no query's result; release 6 simply does not use it yet.
Downgrade:  DROP INDEX CONCURRENTLY, which also waits for running queries rather than blocking
            new ones.

A plain `CREATE INDEX` takes SHARE: every INSERT, UPDATE and DELETE on users waits until the
build ends. CONCURRENTLY cannot run inside a transaction, so it runs in autocommit_block();
and when a concurrent build fails it leaves an INVALID index behind, used by no query yet
maintained on every write. create_index_concurrently() finds such a leftover (pg_index.
indisvalid) and rebuilds it, keeps a valid index, and builds a missing one: re-running this
revision after any failure is safe. (Avoid PostgreSQL 14.0 to 14.3 for concurrent builds:
they could corrupt indexes; fixed in 14.4.)

(full_name, id) rather than (full_name): `WHERE full_name = ? ORDER BY id LIMIT ?`, the page
query of the search, reads the rows in index order and stops after one page.

Revision ID: 0008_index_users_full_name_id
Revises: 0007_drop_user_name
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from app.schema.operations import create_index_concurrently, drop_index_concurrently

revision: str = "0008_index_users_full_name_id"
down_revision: str | Sequence[str] | None = "0007_drop_user_name"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_users_full_name_id"


def upgrade() -> None:
    create_index_concurrently(INDEX, "users", ["full_name", "id"])


def downgrade() -> None:
    drop_index_concurrently(INDEX, "users")
