"""The README's commands, the CI script and the migration helper stay in step:
a newcomer and CI run the same test command."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/flask --app app run"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt && .venv/bin/python -m pytest"


def shell_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_readme_opens_with_exactly_the_two_newcomer_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert shell_blocks(readme)[:2] == [RUN_COMMAND, TEST_COMMAND]
    assert "http://127.0.0.1:5000/" in readme
    assert "docs/screenshots/home-desktop.png" in readme


def test_ci_runs_the_readme_test_command_on_both_databases():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"TEST_COMMAND='{TEST_COMMAND}'" in script
    assert script.count('bash -c "$TEST_COMMAND"') == 2
    assert 'GONGSHI_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$database"' in script
    assert "trap cleanup EXIT" in script and "DROP DATABASE" in script


def test_scripts_are_executable_bash():
    for path in (ROOT / ".ci" / "run",):
        assert os.access(path, os.X_OK), path
        subprocess.run(["bash", "-n", str(path)], check=True)
