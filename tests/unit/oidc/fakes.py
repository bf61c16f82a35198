"""In-memory stand-ins for the keyring-backed stores a provider is handed, and a browser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

from providers.base import ProviderContext


class MemorySecrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get_secret(self, key: str) -> str | None:
        return self.values.get(key)

    def set_secret(self, key: str, value: str) -> None:
        self.values[key] = value


class MemoryReplayCache:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def add_once(self, namespace: str, value: str, expires_at: datetime) -> bool:
        if (namespace, value) in self.seen:
            return False
        self.seen.add((namespace, value))
        return True


def make_context(data_dir: Path, secrets: MemorySecrets | None = None) -> ProviderContext:
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return ProviderContext(
        config_dir=data_dir,
        data_dir=data_dir,
        replay_cache=MemoryReplayCache(),
        secrets=secrets or MemorySecrets(),
        http_timeout=5.0,
    )


class BrowserUI:
    """A ``SignInUI`` whose browser turns the authorize URL into a callback URL and visits it."""

    def __init__(self, approve: Callable[[str], str | None], opens: bool = True) -> None:
        self.approve = approve
        self.opens = opens
        self.opened: list[str] = []
        self.callbacks: list[str] = []
        self.answers: list[httpx.Response] = []
        self.device_codes: list[tuple[str, str]] = []
        self.messages: list[str] = []

    def open_url(self, url: str) -> bool:
        self.opened.append(url)
        if not self.opens:
            return False
        callback = self.approve(url)
        if callback is not None:
            self.callbacks.append(callback)
            self.answers.append(httpx.get(callback, timeout=5, trust_env=False))
        return True

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        self.device_codes.append((verification_uri, user_code))

    def status(self, message: str) -> None:
        self.messages.append(message)
