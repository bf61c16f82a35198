"""A broken configuration is shown at start: every error whole, wrapped, with its file, line and
column; ``e`` hands the terminal to the person's editor at that place (the real validator and
the real files; the editor is a small script that records how it was called)."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from broker.tui.config_check import ConfigIssue, check_config, editor_command, locate_key
from broker.tui.screens.config_errors import ConfigErrorsScreen
from broker.tui.screens.portal import PortalScreen
from tests.conftest import CONFIG
from tests.functional.screen_text import flat_text, screen_lines

pytestmark = pytest.mark.anyio

LONG_NAME = "corporate-single-sign-on-provider-with-a-long-descriptive-name"
BROKEN = f"""[broker]
default_provider = "demo"

[providers.demo]
type = "embedded"

[providers.{LONG_NAME}]
type = "oidc"
  issuer = 5
"""


@pytest.fixture
def broken_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_home: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "broker.toml").write_text(BROKEN)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    return config


def _unwrapped(app) -> str:
    """The screen's text with every space and frame glyph gone, so a line wrapped mid-word
    reads whole again."""
    return "".join("".join(screen_lines(app)).split()).translate(
        {ord(c): None for c in "│█▌▐▊▎▕▏╭╮╰╯─▀▄"}
    )


def _squeezed(text: str) -> str:
    return "".join(text.split())


async def _started(app, pilot) -> None:
    for _ in range(200):  # bounded: the check runs in a worker once the portal is painted
        await pilot.pause(0.05)
        if isinstance(app.screen, ConfigErrorsScreen):
            await pilot.pause()  # let it paint
            return
    raise AssertionError("the configuration errors were not shown")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_errors_are_shown_at_start_whole_with_line_and_column(
    make_app, broken_config, size
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await _started(app, pilot)
        text = _unwrapped(app)
        file = broken_config / "broker.toml"
        assert "Configuration: 2 errors" in flat_text(app)
        # Whole: the long key and both messages, wrapped at 80 columns rather than cut.
        for where, message in (
            (f"{file}:9:3", f"providers.{LONG_NAME}.issuer: expected str, got int"),
            (f"{file}:7:1", f"providers.{LONG_NAME}.client_id: required key is missing"),
        ):
            assert _squeezed(f"✗ {where} {message}") in text
        assert _squeezed("e opens the highlighted one in $EDITOR") in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)
        await pilot.press("exclamation_mark")  # the key that shows them again
        await pilot.pause()
        assert isinstance(app.screen, ConfigErrorsScreen)


async def test_a_file_that_is_not_toml_is_placed_where_the_parser_stopped(
    make_app, broken_config
) -> None:
    (broken_config / "broker.toml").write_text('[broker]\ndefault_provider = "demo\n')
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _started(app, pilot)
        assert "Configuration: 1 error" in flat_text(app)
        text = _unwrapped(app)
        assert f"{broken_config / 'broker.toml'}:2:" in text
        assert "notvalidTOML" in text


async def test_e_opens_the_highlighted_error_in_the_editor(
    make_app, broken_config, tmp_path, monkeypatch
) -> None:
    record = tmp_path / "editor-args"
    editor = tmp_path / "fake-editor"
    editor.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _started(app, pilot)
        await pilot.press("down", "e")  # the second error; headless: no terminal to hand over
        await pilot.pause()
        assert _squeezed(f"open {broken_config / 'broker.toml'}:7:1") in _unwrapped(app)
    # What a real terminal runs for it: the editor at that line.
    issues = check_config(broken_config)
    assert list(editor_command({"EDITOR": str(editor)}, issues[1])) == [
        str(editor),
        "+7",
        str(broken_config / "broker.toml"),
    ]


def test_the_shipped_configuration_has_no_errors(broker_home) -> None:
    assert [i for i in check_config(CONFIG) if i.severity == "error"] == []


@pytest.mark.parametrize(
    ("key", "place"),
    [
        ("broker.default_provider", (2, 1)),
        ("providers.x.issuer", (6, 3)),
        ("providers.x.client_id", (4, 1)),  # missing: its table's header is where to add it
        ("profiles.nothing", (0, 0)),
    ],
)
def test_locate_key(key: str, place: tuple[int, int]) -> None:
    text = '[broker]\ndefault_provider = "x"\n\n[providers.x]\ntype = "oidc"\n  issuer = 5\n'
    assert locate_key(text, key) == place


@pytest.mark.parametrize(
    ("editor", "command"),
    [
        ("nano", ["nano", "+3,5", "f.toml"]),
        ("code --wait", ["code", "--wait", "--goto", "f.toml:3:5"]),
        ("vim", ["vim", "+3", "f.toml"]),
    ],
)
def test_editor_command(editor: str, command: list[str]) -> None:
    issue = ConfigIssue("f.toml", 3, 5, "error", "k", "m")
    assert list(editor_command({"EDITOR": editor}, issue)) == command
