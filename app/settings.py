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

LOCAL_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/app"


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
