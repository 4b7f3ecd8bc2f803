"""What each app process holds while it serves: made by the lifespan, read by the dependencies.

Starlette hands the mapping the lifespan yields to every request (`request.scope["state"]`).
Declaring it here gives each entry one type and one reader, instead of untyped attributes on
`app.state` that anything may set.
"""

from typing import TypedDict, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from app.schema.readiness import SchemaRequirement


class State(TypedDict):
    # Sessions for requests that write (one transaction each) and for those that only read.
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]
    # /health/ready's own connection, and the revision the database must have for it.
    probe_engine: AsyncEngine
    schema_requirement: SchemaRequirement


def state_of(connection: HTTPConnection) -> State:
    return cast(State, connection.scope["state"])
