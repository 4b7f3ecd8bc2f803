"""`copier update`: a change made to the template after a project was generated reaches the
project, and the project's own edits stay."""

from pathlib import Path

from tests.template.generate import Answers, copier, generate, git

ANSWERS: Answers = {"project_name": "Ledger Keeper", "postgres_port": 5544}


def test_an_update_brings_a_later_template_change_and_keeps_local_edits(
    template: Path, tmp_path: Path
) -> None:
    # A clone to change: the template's next release.
    upstream = tmp_path / "upstream"
    git(tmp_path, "clone", "--quiet", str(template), str(upstream))
    project = generate(upstream, tmp_path / "ledger-keeper", ANSWERS)
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message=generated")
    # The project tunes its pool: a line the template will not touch.
    edit(project / ".env.example", "POOL_SIZE=20\n", "POOL_SIZE=32\n")
    git(project, "commit", "--quiet", "--all", "--message=a bigger pool")

    # The template's next release: a file copied as it is, a file derived from a .jinja sibling
    # (the project has its own names in it), and a new file.
    edit(upstream / ".env.example", "ECHO_SQL=false\n", "# Log every statement.\nECHO_SQL=false\n")
    edit(upstream / "docker-compose.yml", "stop_grace_period: 20s", "stop_grace_period: 30s")
    (upstream / "CHANGELOG.md").write_text("# Changelog\n")
    git(upstream, "commit", "--quiet", "--all", "--message=next release")
    git(upstream, "add", "CHANGELOG.md")
    git(upstream, "commit", "--quiet", "--message=a new page")
    git(upstream, "tag", "v1.1.0")

    result = copier("update", "--defaults", cwd=project)

    assert result.returncode == 0, result.stderr
    env_example = (project / ".env.example").read_text()
    assert "# Log every statement.\nECHO_SQL=false\n" in env_example
    assert "POOL_SIZE=32\n" in env_example  # the project's edit survived
    compose = (project / "docker-compose.yml").read_text()
    assert "stop_grace_period: 30s" in compose
    assert "name: ledger-keeper\n" in compose  # still the project's names
    assert "POSTGRES_HOST_PORT:-5544" in compose
    assert (project / "CHANGELOG.md").read_text() == "# Changelog\n"
    assert "_commit: v1.1.0\n" in (project / ".copier-answers.yml").read_text()
    # Copier leaves the result for review, uncommitted and without conflicts.
    status = git(project, "status", "--porcelain").splitlines()
    assert sorted(line[3:] for line in status) == [
        ".copier-answers.yml",
        ".env.example",
        "CHANGELOG.md",
        "docker-compose.yml",
    ]
    assert "<<<<<<<" not in env_example + compose


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} has no {old!r}"
    path.write_text(text.replace(old, new))
