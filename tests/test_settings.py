"""DATABASE_URL handling: every common spelling works with asyncpg, mistakes are named."""

import re

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import URL

from app.settings import Settings
from tests.support.paths import ROOT


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
        ("postgresql://ann:pw/app", "is not a database URL"),
        ("postgresql://ann:p@ss@localhost/app", "write it as %40"),
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


def shown(value: object) -> str:
    """A default as the README and .env.example write it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, URL):
        return value.render_as_string(hide_password=True)
    return str(value)


def readme_table() -> dict[str, tuple[str, str]]:
    """The README's table of variables: name -> (default, description)."""
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `([A-Z_]+)` \| (.*?) \| (.*?) \|$", readme, re.MULTILINE)
    return {
        name: (default.strip("`") if default != "(empty)" else "", text)
        for name, default, text in rows
    }


def env_example() -> dict[str, tuple[str, list[str]]]:
    """.env.example: name -> (value, the comment lines right above it, without '# ')."""
    found: dict[str, tuple[str, list[str]]] = {}
    comments: list[str] = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("# ---"):  # a section's title
            comments = []
        elif line.startswith("#"):
            comments.append(line.removeprefix("#").strip())
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = (value, comments)
            comments = []
        else:
            comments = []
    return found


ENTRYPOINT_VARIABLE = re.compile(r"\$\{([A-Z_]+):-([^}]*)\}")


def entrypoint_defaults() -> dict[str, str]:
    """The settings entrypoint.sh reads itself, with the defaults it gives them."""
    return dict(ENTRYPOINT_VARIABLE.findall((ROOT / "entrypoint.sh").read_text()))


def test_each_setting_says_what_it_does_where_it_is_declared() -> None:
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]

    assert undocumented == []


def test_the_readme_table_is_every_setting_with_its_default_and_description() -> None:
    table = readme_table()

    expected = {
        name.upper(): (shown(field.default), field.description)
        for name, field in Settings.model_fields.items()
    }
    assert {name: row for name, row in table.items() if name in expected} == expected
    # And entrypoint.sh's own settings, with its defaults; nothing else.
    for name, default in entrypoint_defaults().items():
        assert table[name][0] == default, name
    assert set(table) == set(expected) | set(entrypoint_defaults())


def test_env_example_gives_every_setting_its_default_under_its_description() -> None:
    example = env_example()

    for name, field in Settings.model_fields.items():
        value, comments = example[name.upper()]
        assert comments, name
        assert comments[0] == field.description, name
        if name != "database_url":  # compose's database from the host; the default is named
            assert value == shown(field.default), name
    assert (
        f"Default when unset: {shown(Settings.model_fields['database_url'].default)}"
        in (example["DATABASE_URL"][1])
    )
    for name, default in entrypoint_defaults().items():
        assert example[name][0] == default, name


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
