"""Create the database DATABASE_URL names, if it does not exist yet. For local development.

    uv run python -m scripts.create_database

Connects to the server's `postgres` maintenance database with the same credentials. Production
databases are provisioned by whoever runs the server, never by the app.
"""

import asyncio
import sys

import asyncpg
from pydantic import ValidationError

from app.settings import Settings
from app.wait_for_db import connect


async def create_if_missing(url_settings: Settings) -> str:
    url = url_settings.database_url
    connection = await connect(url, connect_timeout=5, database="postgres")
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", url.database
        )
        if exists:
            return f"database {url.database!r} exists"
        # Identifiers cannot be bind parameters; quote_ident-style escaping instead.
        quoted = '"' + str(url.database).replace('"', '""') + '"'
        await connection.execute(f"CREATE DATABASE {quoted}")
        return f"created database {url.database!r}"
    finally:
        await connection.close()


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: invalid settings: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    try:
        print(asyncio.run(create_if_missing(settings)), file=sys.stderr)
    except (OSError, asyncpg.PostgresError) as exc:
        where = f"{settings.database_url.host}:{settings.database_url.port or 5432}"
        print(f"error: cannot create the database on {where}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
