"""The ORM models. They must equal the schema at Alembic's head: `alembic check` proves it."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

EMAIL_MAX_LENGTH = 320  # RFC 5321: 64 (local part) + 1 + 255 (domain)
NAME_MAX_LENGTH = 200


class User(Base):
    __tablename__ = "users"
    # Read server-generated values (id, created_at) back with RETURNING in the INSERT itself,
    # instead of a second SELECT when the response is built.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 - SQLAlchemy reads it as a dict

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    # server_default, not a Python default: every writer (a psql session, a backfill, another
    # service) gets the database's clock, not just writes made through this ORM.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
