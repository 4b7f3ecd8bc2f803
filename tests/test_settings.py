"""DATABASE_URL handling: every common spelling works with asyncpg, mistakes are named."""

import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.support.alembic import ROOT


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://ann:s3cret@db.internal:6543/orders",
        "postgresql://ann:s3cret@db.internal:6543/orders",
        "postgresql+asyncpg://ann:s3cret@db.internal:6543/orders",
    ],
)
def test_every_postgres_spelling_becomes_asyncpg(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)

    url = Settings(_env_file=None).database_url

    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "ann",
        "s3cret",
        "db.internal",
        6543,
        "orders",
    )


def test_the_password_is_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://ann:s3cret@db/orders")

    settings = Settings(_env_file=None)

    for shown in (repr(settings), str(settings), repr(settings.database_url)):
        assert "s3cret" not in shown
        assert "ann:***@db" in shown


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("mysql://root@localhost/app", "uses scheme 'mysql'"),
        ("postgresql://postgres@localhost", "names no database"),
        ("not a url", "is not a database URL"),
    ],
)
def test_a_wrong_url_is_refused_with_the_reason(
    raw: str, complaint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)

    with pytest.raises(ValidationError, match=complaint):
        Settings(_env_file=None)


def test_pool_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POOL_SIZE", "3")
    monkeypatch.setenv("POOL_MAX_OVERFLOW", "0")

    settings = Settings(_env_file=None)

    assert (settings.pool_size, settings.pool_max_overflow) == (3, 0)


def test_a_nonsense_pool_size_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POOL_SIZE", "0")

    with pytest.raises(ValidationError, match="pool_size"):
        Settings(_env_file=None)


def test_env_example_documents_every_setting() -> None:
    documented = {
        line.split("=", 1)[0].lower()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }

    assert set(Settings.model_fields) <= documented


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MIGRATION_LOCK_TIMEOUT_MS", "0"),
        ("MIGRATION_STATEMENT_TIMEOUT_MS", "-1"),
        ("MIGRATION_ATTEMPTS", "0"),
        ("MIGRATION_RETRY_BACKOFF_SECONDS", "-2"),
        ("MIGRATION_BACKFILL_BATCH_SIZE", "many"),
    ],
)
def test_a_nonsense_migration_setting_is_refused(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0 would mean "no timeout" to PostgreSQL: the opposite of what a migration needs.
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=name.lower()):
        Settings(_env_file=None)
