"""Every database object the app makes: the declarative base, the engines, the sessions.

The engines and sessionmakers are created by the app's lifespan (`app.main`) and handed to the
requests as its typed state (`app.state`); nothing here is a module-level global, so tests and
tools can build as many independent apps as they need. The per-request session lives in
`app.api.deps`; this module does not import FastAPI, so Alembic (which imports the models)
starts faster.
"""

from typing import Any, Protocol, TypeVar, TypeVarTuple

import asyncpg
from sqlalchemy import MetaData, Result, ScalarResult, Select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app.settings import Settings

# Stable, predictable constraint and index names. Without them PostgreSQL invents names that
# differ between databases, and a later revision cannot drop or alter a constraint by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


class ReadSession(Protocol):
    """What a request that only reads may do with its session: run SELECTs, load by key.

    The session behind it is an ordinary `AsyncSession` in autocommit mode; this narrower type
    makes `add`, `delete`, `flush` and `commit` through it a type error, so a write can never
    slip into a GET handler, where nothing would commit it.
    """

    async def get(self, entity: type[_T], ident: Any) -> _T | None: ...

    async def scalar(self, statement: Select[_T]) -> _T | None: ...

    async def scalars(self, statement: Select[_T]) -> ScalarResult[_T]: ...

    async def execute(self, statement: Select[*_Ts]) -> Result[*_Ts]: ...


def create_engine(settings: Settings) -> AsyncEngine:
    """The engine requests use: its pool is the app's connections to the database."""
    return _engine(
        settings,
        application_name="app",
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout_seconds,
        pool_pre_ping=settings.pool_pre_ping,
    )


def create_probe_engine(settings: Settings) -> AsyncEngine:
    """One connection of its own for /health/ready.

    Sharing the requests' pool would make a replica whose pool is busy look unready, and take it
    out of the load balancer exactly when it is busiest. The ping is cheap at probe rates and
    spares a false 503 after the database restarts.
    """
    return _engine(
        settings,
        application_name="app-readiness",
        pool_size=1,
        max_overflow=0,
        pool_timeout=settings.pool_timeout_seconds,
        pool_pre_ping=True,
    )


def _engine(settings: Settings, *, application_name: str, **pool: Any) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_recycle=settings.pool_recycle_seconds,
        echo=settings.echo_sql,
        # Parameters are what clients sent (emails, names): kept out of the SQL log and out of
        # every error's text, and so out of the tracebacks and warnings a failed request logs.
        hide_parameters=True,
        connect_args={
            "server_settings": {
                "application_name": application_name,
                "statement_timeout": str(settings.db_statement_timeout_ms),
            }
        },
        **pool,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: the response is built from objects after the commit; expiring
    # them would make each attribute access a new query (and, in async code, an error).
    return async_sessionmaker(engine, expire_on_commit=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read, with one statement: no BEGIN, no COMMIT.

    A single statement is atomic and sees one snapshot on its own; wrapping it in a transaction
    costs two more round trips to the server for every GET. A read that needs several statements
    to agree with each other belongs in a transaction: use the ordinary sessionmaker for it.
    """
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def connect(
    url: URL, *, connect_timeout: float, database: str | None = None, **options: Any
) -> asyncpg.Connection:
    """A plain asyncpg connection to `url` (or to another `database` on the same server).

    For the programs around the app that need one connection and no pool: the start-up wait,
    creating a database, tests and benchmarks.
    """
    return await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=database or url.database,
        timeout=connect_timeout,
        **options,
    )


def quote_identifier(name: str) -> str:
    """`name` as a PostgreSQL identifier (identifiers cannot be bind parameters)."""
    return '"' + name.replace('"', '""') + '"'
