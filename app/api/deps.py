"""Per-request dependencies: the database session and how its transaction ends.

Writes (and reads that must agree with each other) use `SessionDep`: one transaction per
request. A request that reads with one statement uses `ReadSessionDep`: no transaction.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


# `async def` although it awaits nothing: FastAPI runs a plain `def` dependency in a worker
# thread, a thread hop on every request (about 100 us of CPU each; docs/performance.md).
async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """The app's sessionmaker. Tests override it (and the next) to bind their own connection."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


async def get_session(
    sessionmaker: Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)],
) -> AsyncIterator[AsyncSession]:
    """One session per request: commit if the handler succeeded, roll back if it raised.

    Used through `SessionDep`, whose `scope="function"` makes FastAPI run the code after `yield`
    when the handler returns, *before* the response is sent. With the default scope ("request")
    FastAPI sends the response first, so a commit that fails (a unique clash found at commit, a
    lost connection) would reach the client as a 2xx for a write that never happened.
    """
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
    return sessionmaker


async def get_read_session(
    sessionmaker: Annotated[async_sessionmaker[AsyncSession], Depends(get_read_sessionmaker)],
) -> AsyncIterator[AsyncSession]:
    """A session in autocommit mode (app.db.create_read_sessionmaker): nothing to commit."""
    async with sessionmaker() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
