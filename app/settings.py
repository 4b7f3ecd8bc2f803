"""Service configuration, read once from the environment (and an optional `.env` file).

Every setting is documented in `.env.example`. The database URL is the one setting everything
shares: the app, Alembic's `env.py` and the entrypoint's database wait all read it from here, so
they can never disagree about which database they talk to.
"""

from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, PositiveInt, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# Hosting platforms hand out `postgres://` (Heroku, Fly, Render) or plain `postgresql://` URLs;
# SQLAlchemy needs the driver spelled out. Anything else is a mistake worth stopping on.
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}

# The database of this service on a developer's PostgreSQL (scripts/run-local.sh creates it).
LOCAL_DATABASE = "app"
LOCAL_DATABASE_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{LOCAL_DATABASE}"


def normalise_database_url(raw: str | URL) -> URL:
    """Return `raw` as a `postgresql+asyncpg` URL, or raise ValueError saying what is wrong."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError(
            "is not a database URL; expected postgresql://user:password@host:5432/dbname"
        ) from None
    if url.drivername not in _POSTGRES_SCHEMES:
        raise ValueError(
            f"uses scheme {url.drivername!r}; this service needs PostgreSQL "
            "(postgresql://, postgres:// or postgresql+asyncpg://)"
        )
    if not url.database:
        raise ValueError("names no database; add it after the host, e.g. .../dbname")
    return url.set(drivername="postgresql+asyncpg")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `repr(settings)` (and so every log line and traceback that shows it) masks the password,
        # because sqlalchemy's URL masks it in its own repr.
        arbitrary_types_allowed=True,
    )

    # Defaulted for local development: the PostgreSQL most of us run on 127.0.0.1 with trust auth.
    # NoDecode: the environment holds a plain string, not JSON.
    database_url: Annotated[URL, NoDecode] = Field(default=make_url(LOCAL_DATABASE_URL))

    # Connection pool of each app process. Size it so that
    # processes x (pool_size + pool_max_overflow) stays below the server's max_connections.
    # Connections open as they are first needed and then stay. No overflow by default: under
    # load beyond pool_size, an overflow connection is closed when it comes back (the pool
    # is full for a moment while waiting requests have not woken yet) and the next request
    # opens a new one: about 85 new PostgreSQL connections a second under the benchmark's
    # load, and 30% fewer requests served (docs/performance.md).
    pool_size: PositiveInt = 20
    pool_max_overflow: Annotated[int, Field(ge=0)] = 0
    pool_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    # Recycle connections before load balancers or PgBouncer drop them as idle.
    pool_recycle_seconds: PositiveInt = 1800
    # Off: with asyncpg the ping is three round trips (BEGIN, a query, ROLLBACK) on every
    # checkout, as many as a whole read, and 15-27% of a request's CPU (docs/performance.md).
    # Without it, a database restart costs one 503 per pooled connection in use at the time:
    # the first error invalidates the whole pool, and later requests get fresh connections.
    # Turn it on where connections die unseen (a proxy that drops idle ones, say).
    pool_pre_ping: bool = False
    # Upper bound for any one statement the app runs, so a runaway query cannot hold a pooled
    # connection (and the locks it took) for ever.
    db_statement_timeout_ms: Annotated[int, Field(ge=0)] = 30_000
    echo_sql: bool = False
    # The revision the database must have reached for /health/ready to answer 200. Empty means
    # the head this code was shipped with. Set it to an older revision only for a release written
    # to work on that older schema (see docs/production-migrations.md).
    schema_min_revision: str = ""

    # --- Migration runs (alembic/env.py and app/migrations) -------------------------------------
    # How long any migration statement may wait for a lock before giving up. Short on purpose:
    # while a DDL statement waits for its lock, every later query on the table queues behind it.
    migration_lock_timeout_ms: PositiveInt = 5_000
    # How long one migration statement may run. Schema changes here are metadata-only and take
    # milliseconds; one that runs for long is rewriting a table under an exclusive lock.
    migration_statement_timeout_ms: PositiveInt = 60_000
    # For statements that run long but block no reads or writes (VALIDATE CONSTRAINT, CREATE
    # INDEX CONCURRENTLY): both their lock wait and their run time are bounded by this instead.
    migration_long_statement_timeout_ms: PositiveInt = 3_600_000
    # A lock timeout is retried (transactional DDL rolled the attempt back) this many times in
    # all, waiting migration_retry_backoff_seconds, then twice that, and so on, in between.
    migration_attempts: PositiveInt = 3
    migration_retry_backoff_seconds: Annotated[float, Field(ge=0)] = 2.0
    # How long a runner waits for another one (another replica starting at the same time).
    migration_runner_wait_seconds: Annotated[float, Field(gt=0)] = 600.0
    # Rows per transaction in batched backfills; each batch holds its row locks only briefly.
    migration_backfill_batch_size: PositiveInt = 5_000

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalise_database_url(cls, value: Any) -> URL:
        if not isinstance(value, str | URL):
            raise ValueError("must be a string such as postgresql://user@host:5432/dbname")
        return normalise_database_url(value)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` and pass them in instead."""
    return Settings()
