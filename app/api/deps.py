"""Per-request dependencies: the database session and how its transaction ends."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


# `async def` although it awaits nothing: FastAPI runs a plain `def` dependency in a worker
# thread, a thread hop on every request (about 100 us of CPU each; docs/performance.md).
async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """The app's sessionmaker. Tests override this one dependency to bind their own connection."""
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
