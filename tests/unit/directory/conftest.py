"""Fixtures for the directory's tests: a private copy of the demo config, and claims."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from broker.directory import Directory
from broker.sts.directory_state import open_directory as open_over_state
from providers.base import Claims
from tests.conftest import CONFIG


class ConfigCopy:
    """A writable copy of the shipped config directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / "directory" / name

    def append(self, name: str, text: str) -> None:
        with self.path(name).open("a", encoding="utf-8") as handle:
            handle.write("\n" + text + "\n")

    def replace(self, name: str, old: str, new: str) -> None:
        text = self.path(name).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        self.path(name).write_text(text.replace(old, new, 1), encoding="utf-8")

    def policy(self, name: str, text: str) -> None:
        (self.root / "policies" / f"{name}.json").write_text(text, encoding="utf-8")


@pytest.fixture
def config(tmp_path: Path) -> ConfigCopy:
    root = tmp_path / "config"
    shutil.copytree(CONFIG, root)
    return ConfigCopy(root)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def open_directory(config: ConfigCopy, data_dir: Path) -> Iterator[Callable[[], Directory]]:
    opened: list[Directory] = []

    def open_() -> Directory:
        directory = open_over_state(config.root, data_dir, None)
        opened.append(directory)
        return directory

    yield open_
    for directory in opened:
        directory.close()


def demo_claims(
    name: str, groups: tuple[str, ...] = (), *, mfa: bool = False, subject: str = "", **extra
) -> Claims:
    """Claims as the embedded IdP `demo` issues them for ``name``."""
    return Claims(
        provider="demo",
        issuer="http://127.0.0.1/demo",
        subject=subject or f"sub-{name}",
        email=f"{name}@example.com",
        name=name.title(),
        groups=groups,
        amr=("pwd", "mfa") if mfa else ("pwd",),
        mfa=mfa,
        **extra,
    )


def own_findings(findings):
    """Findings of the directory's own rules, without the policy engine's remarks on policy
    contents (which depend on the engine's version)."""
    return [f for f in findings if not f.message.startswith("policies/")]
