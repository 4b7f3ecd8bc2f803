"""The paths, links and modules a project's files name, and which of them do not exist.

A generated service must carry no pointer to something it does not have: a comment citing a
page that stayed in the template, a README line about a folder that was left out. This reads
every text file of a project the way a reader follows it:

- relative paths into the project's folders (`app/schema/runtime.py`, `tests/api/`, `docs/`),
  and the files at its root (`alembic.ini`, `entrypoint.sh`, ...);
- Markdown links to relative targets (`[the story](docs/expand-contract.md#releases)`);
- dotted module names (`app.schema.operations`, `python -m bench.api`, `tests.story.releases`);
- tests by name (`tests/test_health.py::test_readiness_follows_the_database_away_and_back`),
  which must be defined in the file named or linked (or, named without its folder, in a file
  of that name somewhere in tests/).

Paths the project's .gitignore names (created at run time) count as present.
"""

import io
import re
import tokenize
from pathlib import Path

from tests.template.generate import files

# Folders and root files a project has; a path that starts with one of them is a reference.
FOLDERS = ("app", "alembic", "tests", "scripts", "bench", "docs", "deploy", ".ci", ".github")
ROOT_FILES = (
    "alembic.ini",
    "entrypoint.sh",
    "docker-compose.yml",
    "pyproject.toml",
    "uv.lock",
    "Dockerfile",
    ".env.example",
    ".dockerignore",
    ".gitignore",
)
PACKAGES = ("app", "tests", "bench")
TEXT_SUFFIXES = (".py", ".md", ".sh", ".toml", ".yml", ".yaml", ".ini", ".mako", ".lua", ".example")
TEXT_NAMES = ("Dockerfile", "run", ".gitignore", ".dockerignore")

_NOT_PATH = r"(?<![\w./~:@-])"
_PATH = re.compile(
    _NOT_PATH + r"((?:" + "|".join(re.escape(f) for f in FOLDERS) + r")/[\w./-]*|"
    r"(?:" + "|".join(re.escape(f) for f in ROOT_FILES) + r")(?![\w.-]))"
)
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_MODULE = re.compile(_NOT_PATH + r"((?:" + "|".join(PACKAGES) + r")(?:\.[a-z_][a-z0-9_]*)+)\b")
# A test named by its file and function, in a command line or a link's text, and the file linked.
_TEST = re.compile(r"((?:[\w.-]+/)*(test_\w+\.py))::(\w+)(?:[^\n]*?\]\(([^)#\s]+\.py)\))?")


def text_files(project: Path) -> list[str]:
    return sorted(
        name
        for name in files(project)
        if name.endswith(TEXT_SUFFIXES) or Path(name).name in TEXT_NAMES
    )


def ignored(project: Path) -> list[str]:
    gitignore = project / ".gitignore"
    lines = gitignore.read_text().splitlines() if gitignore.exists() else []
    return [line.rstrip("/") for line in lines if line and not line.startswith(("#", "*"))]


def _exists(project: Path, path: str) -> bool:
    path = path.rstrip("/.")
    if any(path == name or path.startswith(f"{name}/") for name in ignored(project)):
        return True
    return (project / path).exists()


def _module_exists(project: Path, dotted: str) -> bool:
    """`app.schema.operations` (a module), `app.schema` (a package), or a name inside the
    longest existing prefix (`app.schema.operations.set_not_null`): the first two parts must
    be a module or package of the project."""
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        base = project.joinpath(*parts[:end])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return True
    return False


def prose(name: str, text: str) -> str:
    """What a reader reads of a file: all of it, but in Python only comments and strings (in
    code, an attribute of a variable that happens to be called `app` is not a module)."""
    if not name.endswith(".py"):
        return text
    # Python 3.12 and later split f-strings into parts; 3.11 keeps them one STRING token.
    kept = {tokenize.COMMENT, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return "\n".join(token.string for token in tokens if token.type in kept)


def _defines(source: Path, test: str) -> bool:
    if not source.is_file():
        return False
    return re.search(rf"^(?:async )?def {test}\(", source.read_text(), re.MULTILINE) is not None


def dangling(project: Path) -> dict[str, list[str]]:
    """For each text file of `project`, the references in it that lead nowhere."""
    found: dict[str, list[str]] = {}
    for name in text_files(project):
        text = prose(name, (project / name).read_text(errors="replace"))
        missing = {p for p in _PATH.findall(text) if not _exists(project, p)}
        here = (project / name).parent
        for target in _LINK.findall(text):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (here / target).exists() and not _exists(project, target):
                missing.add(target)
        missing |= {m for m in _MODULE.findall(text) if not _module_exists(project, m)}
        for path, file_name, test, link in _TEST.findall(text):
            if link:
                sources = [here / link]
            elif "/" in path:
                sources = [project / path]
            else:
                sources = list((project / "tests").rglob(file_name))
            if not any(_defines(source, test) for source in sources):
                missing.add(f"{file_name}::{test}")
        if missing:
            found[name] = sorted(missing)
    return found
