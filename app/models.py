"""The ORM models. They must equal the schema at Alembic's head: `alembic check` proves it."""

from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, DateTime, Identity, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

EMAIL_MAX_LENGTH = 254  # RFC 5321's longest path (256) less its angle brackets; email-validator's
NAME_MAX_LENGTH = 200
Role = Literal["member", "admin"]
DEFAULT_ROLE: Role = "member"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # The search by name (GET /users?full_name=): one name's users, in id order. Declared
        # here so that `alembic check` knows it. On a live table, build an index with
        # app.schema.operations.create_index_concurrently: autogenerate writes a plain CREATE
        # INDEX, which blocks writes while it builds.
        Index("ix_users_full_name_id", "full_name", "id"),
    )
    # Read server-generated values (id, role, created_at) back with RETURNING in the INSERT
    # itself, instead of a second SELECT when the response is built.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy reads it as a dict

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # text, not varchar(n): lengths are a rule of the API (app/schemas.py), and changing a
    # varchar's limit later takes an ACCESS EXCLUSIVE lock.
    email: Mapped[str] = mapped_column(Text, unique=True)
    full_name: Mapped[str] = mapped_column(Text)
    # server_default, not a Python default: every writer (a psql session, a backfill, a release
    # whose model predates the column) gets it, not just writes made through this model.
    role: Mapped[str] = mapped_column(Text, server_default=DEFAULT_ROLE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
