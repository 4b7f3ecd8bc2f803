"""Liveness and readiness, for orchestrators and load balancers.

`live` says the process answers; it never touches the database, so a database outage does not
make an orchestrator restart every healthy app process. `ready` says this process can serve
requests now: a pooled connection works, and the database has the schema this code needs
(app.schema.readiness), so a replica never takes traffic before its migrations have run.
"""

import asyncio
import logging

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.schema.readiness import database_heads
from app.state import state_of

router = APIRouter(prefix="/health", tags=["health"])
log = logging.getLogger(__name__)

READY_CHECK_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: str
    reason: str | None = None


class Readiness(Health):
    database_revision: str | None = None
    required_revision: str | None = None


@router.get("/live", response_model=Health)
async def live() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness}},
)
async def ready(request: Request) -> Readiness | JSONResponse:
    state = state_of(request)
    engine, requirement = state["probe_engine"], state["schema_requirement"]
    try:
        # Bounded: a probe that hangs is worse than one that fails.
        async with asyncio.timeout(READY_CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
            heads = await database_heads(connection)
    except Exception as exc:  # any failure means "not ready"
        # The driver's message names hosts, ports and roles: for the log, not for a public body.
        log.warning("readiness check failed: database unreachable: %s", _describe(exc))
        return _unavailable(Readiness(status="unavailable", reason="database unreachable"))
    readiness = Readiness(
        status="ok",
        database_revision=", ".join(sorted(heads)) or None,
        required_revision=requirement.required,
    )
    if (problem := requirement.problem(heads)) is not None:
        readiness.status, readiness.reason = "unavailable", f"{problem}: run alembic upgrade head"
        log.warning("readiness check failed: %s", readiness.reason)
        return _unavailable(readiness)
    return readiness


def _unavailable(readiness: Readiness) -> JSONResponse:
    return JSONResponse(readiness.model_dump(), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {READY_CHECK_TIMEOUT_SECONDS:g}s"
    # SQLAlchemy wraps driver errors; the driver's message is the one that names the cause.
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {cause}".strip()
