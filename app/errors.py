"""Database errors that are not bugs, turned into answers a client can act on.

A 500 is always a bug. A clash with existing data (409) and a database outage (503) are not:
they get a clear body here. Anything else propagates to Starlette's 500 handler, which logs the
traceback.
"""

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import Index
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.schema import ColumnCollectionConstraint

from app.db import Base

log = logging.getLogger(__name__)

# PostgreSQL SQLSTATE codes, https://www.postgresql.org/docs/current/errcodes-appendix.html
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
_CONFLICTS = {UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION}

RETRY_AFTER_SECONDS = "5"


async def integrity_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IntegrityError)
    if _sqlstate(exc) not in _CONFLICTS:
        # NOT NULL or CHECK violations mean the API let invalid data through: a bug, so a 500.
        raise exc
    return JSONResponse({"detail": conflict_detail(exc)}, status_code=status.HTTP_409_CONFLICT)


def conflict_detail(exc: IntegrityError) -> str:
    """Which columns clash, never with what: PostgreSQL's own DETAIL quotes the values, e.g.
    "Key (email)=(ann@example.com) already exists.", and for some constraints other rows'."""
    driver_error = exc.orig.__cause__ if exc.orig is not None else None
    columns = constraint_columns(getattr(driver_error, "constraint_name", None))
    if not columns:
        return "Conflict: the change clashes with existing data."
    if _sqlstate(exc) == UNIQUE_VIOLATION:
        taken = " and ".join(columns)
        return f"Conflict: the {taken} {'is' if len(columns) == 1 else 'are'} already taken."
    return f"Conflict: the change would break a reference between rows ({', '.join(columns)})."


def constraint_columns(name: str | None) -> list[str]:
    """The columns of the constraint or index called `name` among the models' tables."""
    for table in Base.metadata.tables.values():
        named: list[ColumnCollectionConstraint | Index] = [
            *(c for c in table.constraints if isinstance(c, ColumnCollectionConstraint)),
            *table.indexes,
        ]
        for item in named:
            if name is not None and item.name == name:
                return [column.name for column in item.columns]
    return []


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DBAPIError) and not exc.connection_invalidated and _sqlstate(exc):
        raise exc  # the server answered with an error: not an outage
    log.warning("database unavailable while serving %s: %s", request.url.path, exc)
    return JSONResponse(
        {"detail": "The database is unavailable; try again shortly."},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def install(app: FastAPI) -> None:
    app.add_exception_handler(IntegrityError, integrity_error)
    # Connection refused or dropped, or no pooled connection free within pool_timeout.
    app.add_exception_handler(DBAPIError, database_unavailable)
    app.add_exception_handler(PoolTimeoutError, database_unavailable)
    app.add_exception_handler(OSError, database_unavailable)
