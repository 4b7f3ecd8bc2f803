"""The application factory. Run it with `uvicorn --factory app.main:create_app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import errors
from app.api import health, problems, users
from app.body_limit import BodySizeLimit
from app.db import (
    create_engine,
    create_probe_engine,
    create_read_sessionmaker,
    create_sessionmaker,
)
from app.schema.readiness import SchemaRequirement
from app.settings import Settings, get_settings
from app.state import State


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Resolved now, so an unknown SCHEMA_MIN_REVISION stops the process before it serves.
    requirement = SchemaRequirement.from_scripts(settings.schema_min_revision)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        # The engines live exactly as long as the app: created when the server starts serving,
        # disposed (every pooled connection closed) when it shuts down.
        engine, probe_engine = create_engine(settings), create_probe_engine(settings)
        try:
            yield State(
                sessionmaker=create_sessionmaker(engine),
                read_sessionmaker=create_read_sessionmaker(engine),
                probe_engine=probe_engine,
                schema_requirement=requirement,
            )
        finally:
            await engine.dispose()
            await probe_engine.dispose()

    app = FastAPI(
        title="FastAPI + PostgreSQL + Alembic service template",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_body_bytes)
    errors.install(app)
    problems.install(app)
    app.include_router(health.router)
    app.include_router(users.router)
    return app
