"""Settings for the app and the migrations under test, never read from a developer's .env."""

from typing import Any

from sqlalchemy.engine import URL

from app.settings import Settings

# Short waits keep fault tests fast; they are still real timeouts enforced by PostgreSQL.
FAST_MIGRATIONS: dict[str, Any] = {
    "migration_retry_backoff_seconds": 0.1,
    "migration_runner_wait_seconds": 60.0,
}


def settings_for(url: URL, **overrides: Any) -> Settings:
    return Settings(_env_file=None, database_url=url, **{**FAST_MIGRATIONS, **overrides})
