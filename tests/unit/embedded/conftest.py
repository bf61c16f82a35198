from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest

from providers.base import ProviderContext
from providers.embedded.provider import EmbeddedProvider
from tests.conftest import CONFIG
from tests.unit.oidc.fakes import MemorySecrets, make_context


def page_form(html: str) -> dict[str, str]:
    """The hidden fields of the login page's form."""
    fields = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)
    return {unescape(k): unescape(v) for k, v in fields}


class LoginPagePerson:
    """Plays a person at a browser: loads the login page, clicks a user, follows the redirect."""

    def __init__(self, username: str = "carol") -> None:
        self.username = username
        self.pages: list[str] = []
        self.messages: list[str] = []

    def open_url(self, url: str) -> bool:
        with httpx.Client(trust_env=False, timeout=10) as browser:
            page = browser.get(url)
            self.pages.append(page.text)
            form = page_form(page.text) | {"user": self.username}
            action = url.split("?")[0]
            answer = browser.post(action, data=form)
            assert answer.status_code == 302, answer.text
            browser.get(answer.headers["location"])
        return True

    def show_device_code(self, verification_uri, user_code, complete_uri, expires_in) -> None:
        with httpx.Client(trust_env=False, timeout=10) as browser:
            browser.post(verification_uri, data={"user_code": user_code, "user": self.username})

    def status(self, message: str) -> None:
        self.messages.append(message)


@pytest.fixture
def secrets() -> MemorySecrets:
    return MemorySecrets()


@pytest.fixture
def context(tmp_path: Path, secrets: MemorySecrets) -> ProviderContext:
    return dataclasses.replace(make_context(tmp_path / "data", secrets), config_dir=CONFIG)


@pytest.fixture
def embedded(context: ProviderContext) -> Iterator[EmbeddedProvider]:
    provider = EmbeddedProvider.from_config("demo", {"type": "embedded"}, context)
    yield provider
    provider.close()
