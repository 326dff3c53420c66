"""The documentation is tested: its examples run, and every command is documented."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from redlane.cli import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(page: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(), flags=re.S)


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p, "python")], ids=lambda p: p.name)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in _blocks(page, "python"):
        exec(compile(block, str(page), "exec"), namespace)


@pytest.mark.parametrize("page", [ROOT / "docs" / "cli.md"], ids=lambda p: p.name)
def test_console_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REDLANE_DATABASE_URL", raising=False)
    runner = CliRunner()
    for block in _blocks(page, "console"):
        for line in block.splitlines():
            args = shlex.split(line.removeprefix("$ "))
            assert args[0] == "redlane"
            result = runner.invoke(app, args[1:])
            assert result.exit_code == 0, (line, result.output)


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    names = [f"{prefix}{c.name or c.callback.__name__}" for c in group.registered_commands]  # type: ignore[union-attr]
    for sub in group.registered_groups:
        names += _commands(sub.typer_instance, f"{prefix}{sub.name} ")  # type: ignore[arg-type]
    return names


@pytest.mark.parametrize("command", _commands(app))
def test_every_command_is_documented_and_has_help(command: str) -> None:
    assert f"`redlane {command}" in (ROOT / "docs" / "cli.md").read_text()
    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_every_message_format_is_documented() -> None:
    from redlane.intake.formats import MESSAGE_FORMATS

    overview = (ROOT / "docs" / "intake.md").read_text().split("\n## ")[0]
    missing = [name for name in MESSAGE_FORMATS if f"`{name}`" not in overview]
    assert not missing, f"docs/intake.md's format table lacks {missing}"
