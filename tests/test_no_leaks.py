"""No password and no client's data in what the service prints, logs or answers.

- A DATABASE_URL that is refused ends each program in one line without the password: the
  start-up, Alembic, and uvicorn's factory call.
- A request that fails inside the database is logged without the values it sent.
(The 409 body and /health/ready's body: tests/api/test_users.py and tests/test_health.py.)
"""

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.engine import URL

from app.settings import Settings, describe
from tests.support import postgres
from tests.support.paths import VENV_BIN
from tests.support.processes import entrypoint, run_command

HIDDEN = "s3cr3t-Pw"  # the password in each URL below

BAD_URLS = [
    f"mysql://ann:{HIDDEN}@127.0.0.1/app",  # not PostgreSQL
    f"postgresql://ann:{HIDDEN}/app",  # the host forgotten: the password reads as a port
    f"postgresql://ann:{HIDDEN}@@127.0.0.1/app",  # an '@' in the password, not %40
    f"postgresql://ann:{HIDDEN}@127.0.0.1:5432",  # no database
    f"postgresql://ann:{HIDDEN}@127.0.0.1:port/app",
]
PROGRAMS: dict[str, tuple[list[str | Path], str]] = {
    "startup": (["python", "-m", "app.schema.startup"], "error: "),
    "alembic": ([VENV_BIN / "alembic", "upgrade", "head"], "FAILED: "),
    "uvicorn": (
        [VENV_BIN / "uvicorn", "--factory", "app.main:create_app", "--port", "1"],
        "error: ",
    ),
}


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_refused_database_url_is_described_without_the_password(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, database_url=url)

    for shown in (describe(refused.value), str(refused.value), repr(refused.value)):
        assert HIDDEN not in shown
        assert "DATABASE_URL" in describe(refused.value)


@pytest.mark.parametrize("program", PROGRAMS)
def test_each_program_ends_in_one_line_without_the_password(program: str) -> None:
    command, prefix = PROGRAMS[program]

    result = run_command(command, env={"DATABASE_URL": BAD_URLS[1]}, timeout=60)

    assert result.returncode != 0
    assert (result.stdout + result.stderr).strip().splitlines() == [
        f"{prefix}invalid settings: DATABASE_URL Value error, is not a database URL; expected "
        "postgresql://user:password@host:5432/dbname"
    ]


REFUSE_AT_INSERT = (
    """
    CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'refused by a trigger';
    END $$
    """,
    """
    CREATE TRIGGER refuse_insert BEFORE INSERT ON users FOR EACH ROW
        WHEN (NEW.email LIKE '%@refused.example') EXECUTE FUNCTION refuse_insert()
    """,
)


async def test_a_request_that_fails_in_the_database_is_logged_without_its_values(
    committed_database: URL,
) -> None:
    await postgres.execute(committed_database, *REFUSE_AT_INSERT)
    email, name = "private.person@refused.example", "Private Person"

    with entrypoint(committed_database) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await server.wait_until_ready(client)
            response = await client.post("/users", json={"email": email, "full_name": name})
        server.stop()
        logged = server.output

    assert response.status_code == 500  # an error nobody mapped: a bug, logged with its trace
    assert "refused by a trigger" in logged  # the failure itself is there to debug
    assert "INSERT INTO users" in logged
    assert email not in logged
    assert name not in logged
