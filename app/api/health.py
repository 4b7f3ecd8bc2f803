"""Liveness and readiness, for orchestrators and load balancers.

`live` says the process answers; it never touches the database, so a database outage does not
make an orchestrator restart every healthy app process. `ready` says this process can serve
requests now: it takes a pooled connection and runs a query.
"""

import asyncio
import logging

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

router = APIRouter(prefix="/health", tags=["health"])
log = logging.getLogger(__name__)

READY_CHECK_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: str
    reason: str | None = None


@router.get("/live", response_model=Health)
async def live() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Health,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Health}},
)
async def ready(request: Request) -> Health | JSONResponse:
    engine: AsyncEngine = request.app.state.engine
    try:
        # Bounded: a probe that hangs is worse than one that fails.
        async with asyncio.timeout(READY_CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the reason says which
        reason = f"database unreachable: {_describe(exc)}"
        log.warning("readiness check failed: %s", reason)
        return JSONResponse(
            Health(status="unavailable", reason=reason).model_dump(),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Health(status="ok")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {READY_CHECK_TIMEOUT_SECONDS:g}s"
    # SQLAlchemy wraps driver errors; the driver's message is the one that names the cause.
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {cause}".strip()
