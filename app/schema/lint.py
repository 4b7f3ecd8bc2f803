"""Lint every revision's SQL with squawk, the way a reviewer would read it.

    uv run python -m app.schema.lint            # every revision
    uv run python -m app.schema.lint 0001_initial_schema
    uv run python -m app.schema.lint -c path/to/alembic.ini

For each revision, Alembic writes the SQL of that one step in offline mode (what
`alembic upgrade <parent>:<revision> --sql` prints, timeouts included), and squawk checks it
for the operations that lock or break a live table. Exemptions are explicit and local:
- a revision may declare `SQUAWK_EXEMPTIONS = {"rule": "why it is safe here"}`;
- the helpers in app.schema.operations mark the one statement they know to be safe
  with a `-- squawk-ignore rule` comment, after a comment saying why.
Exit status: 0 when every revision passes, 1 when squawk reports something, 2 on bad usage.
"""

import argparse
import io
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import make_url

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SQUAWK = Path(sys.executable).parent / "squawk"
PG_VERSION = "12"  # the oldest PostgreSQL the recipes support (SET NOT NULL skips its scan from 12)


@dataclass(frozen=True)
class Finding:
    revision: str
    report: str


def alembic_config(ini: Path, output: io.StringIO | None = None) -> Config:
    config = Config(str(ini), output_buffer=output)
    config.attributes["configure_logger"] = False
    # Offline mode connects nowhere; any syntactically valid URL will do.
    url = make_url("postgresql+asyncpg://offline@localhost/offline")
    config.attributes["settings"] = Settings(_env_file=None, database_url=url)
    return config


def revision_sql(ini: Path, script: Script) -> str:
    output = io.StringIO()
    parents = script._all_down_revisions
    # Offline mode starts from one revision: a merge's SQL is read from its first parent and
    # so also holds the other branch's revisions, which are linted on their own as well.
    start = parents[0] if parents else "base"
    command.upgrade(alembic_config(ini, output), f"{start}:{script.revision}", sql=True)
    return output.getvalue()


def exemptions(script: Script) -> dict[str, str]:
    declared: dict[str, str] = getattr(script.module, "SQUAWK_EXEMPTIONS", {})
    return declared


def lint(ini: Path, script: Script, workdir: Path) -> Finding | None:
    sql_file = workdir / f"{script.revision}.sql"
    sql_file.write_text(revision_sql(ini, script))
    excluded = exemptions(script)
    result = subprocess.run(  # noqa: S603 - our own squawk binary, our own file
        [
            str(SQUAWK),
            f"--pg-version={PG_VERSION}",
            "--reporter=gcc",
            *([f"--exclude={','.join(sorted(excluded))}"] if excluded else []),
            str(sql_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return None
    return Finding(script.revision, (result.stdout + result.stderr).strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lint each Alembic revision's SQL with squawk.")
    parser.add_argument("revisions", nargs="*", help="revision ids (default: all)")
    parser.add_argument("-c", "--config", type=Path, default=ROOT / "alembic.ini")
    args = parser.parse_args(argv)
    if not args.config.is_file():
        print(f"error: no Alembic configuration at {args.config}", file=sys.stderr)
        return 2
    scripts = ScriptDirectory.from_config(alembic_config(args.config))
    every = list(reversed(list(scripts.walk_revisions())))
    unknown = set(args.revisions) - {script.revision for script in every}
    if unknown:
        print(f"error: no such revision: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    chosen = [s for s in every if not args.revisions or s.revision in args.revisions]
    with tempfile.TemporaryDirectory() as workdir:
        findings = [f for s in chosen if (f := lint(args.config, s, Path(workdir))) is not None]
    for finding in findings:
        print(f"{finding.revision}:\n{finding.report}\n")
    print(f"squawk: {len(chosen) - len(findings)} of {len(chosen)} revisions clean")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
