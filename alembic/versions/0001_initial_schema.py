"""Initial schema: the users table of release 1.

Release:    1, the first deploy. The service has no traffic yet.
Live:       nothing; this revision runs before the first app process starts.
Locks:      CREATE TABLE locks only the new table; no other session can see it yet.
Safe since: there is nothing to break. Every later revision must do better, because from here on
            a release is serving while its successor's revisions run.
Downgrade:  drops the table and every row in it. Only sensible on a development database.

The table carries the conventions of every later revision: constraint names come from the
naming convention on Base.metadata (pk_users, uq_users_email), so later revisions can refer to
them by name; `created_at` gets its value from the database (server_default), so rows written
by any client, not just by this ORM, are stamped; `id` is an identity column (the SQL-standard
successor of serial) that refuses explicit ids (ALWAYS), so nothing can collide with the sequence.

Strings are `text`, not `varchar(n)`: PostgreSQL stores both the same way, and changing a
varchar's limit later is an ALTER COLUMN TYPE under ACCESS EXCLUSIVE. Lengths are a rule of the
API (app/schemas.py), where a too-long value gets a 422 that names the field.

Revision ID: 0001_initial_schema
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial_schema"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Migration lint (app/schema/lint.py): what squawk flags here, and why it is accepted.
SQUAWK_EXEMPTIONS = {
    "prefer-text-field": "only Alembic's own alembic_version.version_num is a varchar(32)",
}


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )


def downgrade() -> None:
    op.drop_table("users")
