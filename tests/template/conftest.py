from pathlib import Path

import pytest

from tests.template.generate import template_repository


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as a git repository, release v1.0.0 tagged; tests must not change it."""
    return template_repository(tmp_path_factory.mktemp("template") / "template")
