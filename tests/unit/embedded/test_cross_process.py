"""A refresh token from one process refreshes in another (the headless refresher's case).

The two processes share only what the real broker shares: the secret store (here a file
standing in for the keyring) and the data directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from broker.errors import ReauthenticationRequired
from providers.base import ProviderContext, SignInOptions
from providers.embedded.provider import EmbeddedProvider
from providers.embedded.users import subject_for
from providers.testing import SilentUI
from tests.conftest import CONFIG, REPO
from tests.unit.oidc.fakes import MemoryReplayCache

REFRESHER = """
import json, sys
from pathlib import Path
from providers.base import ProviderContext
from providers.embedded.provider import EmbeddedProvider
from tests.unit.embedded.test_cross_process import FileSecrets, memory_cache

secrets_file, data_dir, config_dir = sys.argv[1:4]
secrets = FileSecrets(secrets_file)
context = ProviderContext(Path(config_dir), Path(data_dir), memory_cache(), secrets)
provider = EmbeddedProvider.from_config("demo", {"type": "embedded"}, context)
result = provider.refresh(sys.stdin.read())
print(json.dumps({"subject": result.claims.subject, "refresh_token": result.refresh_token}))
"""


class FileSecrets:
    """A ``SecretStore`` in a 0600 JSON file: test-only stand-in for the OS keyring."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _all(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_secret(self, key: str) -> str | None:
        return self._all().get(key)

    def set_secret(self, key: str, value: str) -> None:
        values = self._all() | {key: value}
        self.path.touch(mode=0o600)
        self.path.write_text(json.dumps(values))


def memory_cache() -> MemoryReplayCache:
    return MemoryReplayCache()


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    return tmp_path / "secrets.json", data


def test_another_process_refreshes_and_rotates(shared) -> None:
    secrets_file, data = shared
    context = ProviderContext(CONFIG, data, MemoryReplayCache(), FileSecrets(secrets_file))
    provider = EmbeddedProvider.from_config("demo", {"type": "embedded"}, context)
    try:
        first = provider.sign_in(SignInOptions(ui=SilentUI(), user_hint="heidi"))
        env = dict(os.environ, PYTHONPATH=str(REPO))
        done = subprocess.run(
            [sys.executable, "-c", REFRESHER, str(secrets_file), str(data), str(CONFIG)],
            input=first.refresh_token,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        answer = json.loads(done.stdout)
        assert answer["subject"] == subject_for("heidi")
        with pytest.raises(ReauthenticationRequired):
            provider.refresh(first.refresh_token)  # rotated out by the other process
        renewed = provider.refresh(answer["refresh_token"])
        assert renewed.claims.subject == subject_for("heidi")
    finally:
        provider.close()


def test_refreshing_alone_opens_no_listening_port(shared) -> None:
    secrets_file, data = shared
    context = ProviderContext(CONFIG, data, MemoryReplayCache(), FileSecrets(secrets_file))
    signer = EmbeddedProvider.from_config("demo", {"type": "embedded"}, context)
    refresher = EmbeddedProvider.from_config("demo", {"type": "embedded"}, context)
    try:
        token = signer.sign_in(SignInOptions(ui=SilentUI(), user_hint="ivan")).refresh_token
        refresher.refresh(token)
        issuer, _ = refresher._client()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{issuer.base_url}/jwks", trust_env=False, timeout=2)
    finally:
        signer.close()
        refresher.close()
