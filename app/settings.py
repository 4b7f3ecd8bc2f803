"""Service configuration, read once from the environment (and an optional `.env` file).

Each setting is described where it is declared (`description=`); the README's table and
`.env.example` are checked against these declarations by tests/test_settings.py. The database
URL is the one setting everything shares: the app, Alembic's `env.py` and the start-up wait all
read it from here, so they can never disagree about which database they talk to.
"""

import sys
from functools import lru_cache
from typing import Annotated, Any, NoReturn

from pydantic import Field, PositiveInt, ValidationError, field_validator
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
    except (ArgumentError, ValueError):
        # Never the parser's own message: it may quote a part of the URL, which can be the
        # password (`postgresql://user:secret/db`, the host forgotten, reads "secret" as a port).
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
    if "@" in (url.host or ""):
        # The first "@" ended the password, and the rest of the password became the host,
        # which every "cannot connect" message would then print.
        raise ValueError("has an '@' in its password or user name: write it as %40")
    return url.set(drivername="postgresql+asyncpg")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `repr(settings)` (and so every log line and traceback that shows it) masks the password,
        # because sqlalchemy's URL masks it in its own repr.
        arbitrary_types_allowed=True,
        # A rejected value is not repeated in the error: a DATABASE_URL holds a password.
        hide_input_in_errors=True,
    )

    # NoDecode: the environment holds a plain string, not JSON.
    database_url: Annotated[URL, NoDecode] = Field(
        default=make_url(LOCAL_DATABASE_URL),
        description="the database; postgres://, postgresql:// or postgresql+asyncpg://",
    )

    # --- the app's connections ---------------------------------------------------------------
    pool_size: PositiveInt = Field(
        default=20,
        description="connections each process keeps open; keep processes x (size + overflow) "
        "below the server's max_connections",
    )
    # Under load beyond pool_size, an overflow connection is closed as it comes back and the
    # next request opens a new one: connection churn that costs throughput.
    pool_max_overflow: Annotated[int, Field(ge=0)] = Field(
        default=0, description="extra connections under load, closed again as they come back"
    )
    pool_timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        default=10.0, description="wait for a free connection, then answer 503"
    )
    pool_recycle_seconds: PositiveInt = Field(
        default=1800,
        description="replace connections older than this, before a proxy drops them as idle",
    )
    # Off: with asyncpg the ping is three round trips (BEGIN, a query, ROLLBACK) on every
    # checkout, as many as a whole read. Without it a database restart costs one 503 per pooled
    # connection in use (tests/test_pool.py), then the pool renews itself.
    pool_pre_ping: bool = Field(
        default=False,
        description="test a pooled connection before each use (for proxies that drop idle ones)",
    )
    db_statement_timeout_ms: Annotated[int, Field(ge=0)] = Field(
        default=30_000,
        description="server-side limit for any one statement the app runs (0: none)",
    )
    echo_sql: bool = Field(
        default=False, description="log every SQL statement (without its parameters)"
    )
    schema_min_revision: str = Field(
        default="",
        description="/health/ready is 503 until the database has this revision (empty: the "
        "code's head); an older one only for a release written to work on that older schema",
    )

    # --- requests ----------------------------------------------------------------------------
    # A user is well under 2 kB of JSON; the limit bounds the memory and CPU one request takes.
    max_request_body_bytes: PositiveInt = Field(
        default=1_048_576,
        description="largest request body accepted, in bytes; a larger one gets 413 unread",
    )

    # --- start-up (entrypoint.sh, app.schema.startup) ------------------------------------------
    db_wait_attempts: PositiveInt = Field(
        default=30, description="tries before the entrypoint gives up on the database"
    )
    db_wait_interval_seconds: Annotated[float, Field(ge=0)] = Field(
        default=2.0, description="pause between those tries"
    )

    # --- migration runs (alembic/env.py, app.schema) -------------------------------------------
    # Short on purpose: while a DDL statement waits for its lock, every later query on the
    # table queues behind it.
    migration_lock_timeout_ms: PositiveInt = Field(
        default=5_000,
        description="longest wait for a lock before a migration statement gives up",
    )
    # Safe schema changes are metadata-only and take milliseconds; one that runs for long is
    # rewriting a table under an exclusive lock.
    migration_statement_timeout_ms: PositiveInt = Field(
        default=60_000, description="longest run of one migration statement"
    )
    migration_long_statement_timeout_ms: PositiveInt = Field(
        default=3_600_000,
        description="the same two limits for VALIDATE and CREATE INDEX CONCURRENTLY, which "
        "block no reads or writes; the run time of the offline backfill",
    )
    migration_attempts: PositiveInt = Field(
        default=3,
        description="tries in all, for the whole run, when lock timeouts or deadlocks stop a "
        "revision",
    )
    migration_retry_backoff_seconds: Annotated[float, Field(ge=0)] = Field(
        default=2.0, description="first pause between tries, doubled each time"
    )
    migration_runner_wait_seconds: Annotated[float, Field(gt=0)] = Field(
        default=600.0, description="how long a replica waits while another one migrates"
    )
    migration_backfill_batch_size: PositiveInt = Field(
        default=5_000, description="rows per transaction in batched backfills"
    )

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalise_database_url(cls, value: Any) -> URL:
        if not isinstance(value, str | URL):
            raise ValueError("must be a string such as postgresql://user@host:5432/dbname")
        return normalise_database_url(value)


def describe(error: ValidationError) -> str:
    """One line naming each bad setting and what is wrong with it.

    Only pydantic's message, never the input: a rejected DATABASE_URL still holds a password.
    """
    return "invalid settings: " + "; ".join(
        f"{'.'.join(map(str, problem['loc'])).upper()} {problem['msg']}"
        for problem in error.errors()
    )


def load_or_exit() -> Settings:
    """`Settings()` for command-line programs: a mistake ends in one line and exit status 2."""
    try:
        return Settings()
    except ValidationError as exc:
        exit_with(describe(exc))


def exit_with(message: str, status: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (uvicorn's factory call ends in one line on a mistake, as the
    other programs do); tests build their own `Settings` and pass them in instead."""
    return load_or_exit()
