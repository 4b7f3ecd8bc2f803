"""Per-request dependencies: the database session and how its transaction ends.

Writes (and reads that must agree with each other) use `SessionDep`: one transaction per
request. A request that reads with one statement uses `ReadSessionDep`: no transaction, and a
session type (`app.db.ReadSession`) through which a write does not type-check.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import ReadSession
from app.state import state_of


# Both are `async def` although they await nothing before `yield`: FastAPI runs a plain `def`
# dependency in a worker thread, a thread hop on every request (tests/test_request_path.py).
async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit if the handler succeeded, roll back if it raised.

    Used through `SessionDep`, whose `scope="function"` makes FastAPI run the code after `yield`
    when the handler returns, *before* the response is sent. With the default scope ("request")
    FastAPI sends the response first, so a commit that fails (a unique clash found at commit, a
    lost connection) would reach the client as a 2xx for a write that never happened.
    """
    async with state_of(request)["sessionmaker"]() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_session(request: Request) -> AsyncIterator[ReadSession]:
    """A session in autocommit mode (app.db.create_read_sessionmaker): nothing to commit."""
    async with state_of(request)["read_sessionmaker"]() as session:
        yield session


ReadSessionDep = Annotated[ReadSession, Depends(get_read_session, scope="function")]
