"""Alembic's async environment (`alembic init -t async`), with this project's runtime around it.

What differs from the template, and why:
- the URL and every migration setting come from app.settings (DATABASE_URL, MIGRATION_*), where
  the app reads them too; alembic.ini holds no URL and no credential;
- `target_metadata` is the models', compared with types and server defaults, so `alembic check`
  catches every drift between models and revisions;
- one transaction per revision, so a revision's `autocommit_block()` (CREATE INDEX
  CONCURRENTLY, batched backfills) commits only its own work, and a failure rolls back only the
  revision that failed;
- online runs go through app.schema.runtime (timeouts on every session, one runner at a time,
  bounded retries, a one-line failure); offline output starts with the same timeouts;
- app.schema.environment names new revisions NNNN_slug, lets the commands that only read the
  revision files run without a database, and turns an upgrade on a database a newer release
  migrated into nothing to do.
"""

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

import app.models  # noqa: F401 - registers every table on Base.metadata
from app.db import Base
from app.schema import environment, runtime

config = context.config

# Programs that configure logging themselves (the test suite) set this attribute to False.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata
OPTIONS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "compare_type": True,
    "compare_server_default": True,
    "transaction_per_migration": True,
    "process_revision_directives": environment.process_revision_directives,
}


def run_migrations_offline() -> None:
    """Write the SQL to stdout for a DBA to review and apply with psql. No database needed."""
    context.configure(dialect_name="postgresql", literal_binds=True, **OPTIONS)
    # Before the first BEGIN, so psql's session (and a linter) sees the same limits.
    for name, value in runtime.session_timeouts(environment.run_settings(config)).items():
        context.execute(f"SET {name} = {value}")

    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    if environment.database_is_ahead(config):
        return

    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    settings = environment.run_settings(config)
    connectable = async_engine_from_config(
        {"sqlalchemy.url": settings.database_url},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
        connect_args=runtime.connect_args(settings),
    )

    try:
        await runtime.run(connectable, settings, context.script, do_run_migrations)
    finally:
        await connectable.dispose()


def run_migrations_online() -> None:
    """Run migrations in 'online' mode."""

    asyncio.run(run_async_migrations())


if not environment.needs_database(config):
    environment.run_without_database()
elif context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
