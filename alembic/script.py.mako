"""${message}

Release:    <which app release ships this revision, e.g. "release 3">
Live:       <which releases serve traffic while it runs: in a rolling deploy, N-1 and N>
Locks:      <each statement's lock, on which table, and for how long it is held>
Safe since: <why the live releases keep working, and what a naive version would break>
Downgrade:  <what the downgrade restores, and what it cannot>

Revision ID: ${up_revision}
% if down_revision:
Revises: ${down_revision | comma,n}
% endif
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
