"""Which schema this code needs, and whether the database has it: for /health/ready.

During a rolling deploy the database runs ahead of the older release (its revisions ran first)
and, until the migration has run, behind the newer one. So a release is ready when the
revision it needs has been applied: exactly its head, a later revision it knows of, or a
revision it has never seen (written by a newer release). It is not ready while the database
still lacks its revision, which is what happens when migrations run as a separate step that
has not finished yet, or failed.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


@dataclass(frozen=True)
class SchemaRequirement:
    required: str
    # `required` and every revision this code knows that comes after it.
    satisfying: frozenset[str]
    known: frozenset[str]

    @classmethod
    @lru_cache
    def from_scripts(cls, minimum: str = "") -> "SchemaRequirement":
        """Needs `minimum` (SCHEMA_MIN_REVISION), or by default the head shipped with the code."""
        scripts = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
        try:
            required = scripts.get_revision(minimum or _single_head(scripts))
        except CommandError:
            required = None
        if required is None:
            raise ValueError(f"SCHEMA_MIN_REVISION {minimum!r} is not a known revision")
        after = scripts.iterate_revisions(tuple(scripts.get_heads()), required.revision)
        known = scripts.walk_revisions()
        return cls(
            required.revision,
            frozenset({required.revision, *(r.revision for r in after)}),
            frozenset(r.revision for r in known),
        )

    def problem(self, database_heads: set[str]) -> str | None:
        """None when the database has what this code needs, else why not, in one line."""
        if not database_heads:
            return f"the database has no migrations applied; this code needs {self.required}"
        if database_heads & self.satisfying or database_heads - self.known:
            # At or past our revision; or at a revision of a newer release, which ran ours first.
            return None
        at = ", ".join(sorted(database_heads))
        return f"the database schema is at {at}; this code needs {self.required}"


async def database_heads(connection: AsyncConnection) -> set[str]:
    exists = await connection.scalar(text("SELECT to_regclass('alembic_version')"))
    if exists is None:
        return set()
    return set((await connection.scalars(text("SELECT version_num FROM alembic_version"))).all())


def _single_head(scripts: ScriptDirectory) -> str:
    heads = scripts.get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the revisions have {len(heads)} heads; run `alembic merge heads`")
    return heads[0]
