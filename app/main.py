"""The application factory. Run it with `uvicorn --factory app.main:create_app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import errors
from app.api import health, users
from app.db import (
    create_engine,
    create_probe_engine,
    create_read_sessionmaker,
    create_sessionmaker,
)
from app.schema_version import SchemaRequirement
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The engine lives exactly as long as the app: created when the server starts serving,
        # disposed (every pooled connection closed) when it shuts down.
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.probe_engine = create_probe_engine(settings)
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.read_sessionmaker = create_read_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()
            await app.state.probe_engine.dispose()

    app = FastAPI(
        title="FastAPI + PostgreSQL + Alembic service template",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema_requirement = SchemaRequirement.from_scripts(settings.schema_min_revision)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(users.router)
    return app
