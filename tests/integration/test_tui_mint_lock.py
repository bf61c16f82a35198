"""The TUI mints through the CLI's own locked step (``Chain.credentials``): while it mints, the
profile's lock is held where ``credential-process`` takes it, so another process waits for it
(or, here, is told at once that it is held) and then reads what the TUI stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from broker.minters.base import Credentials, Minter, MintRequest
from broker.store.credential_store import CredentialStore
from broker.tui.app import app_services
from broker.tui.model import MintChoice
from providers.base import SignInResult
from tests.conftest import REPO

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

PROFILE = "analytics-dev.DataScientist"

# Another process asks for the profile's lock without waiting: "held" or "free".
_PROBE = """
import sys
from pathlib import Path
from broker.errors import StoreError
from broker.store.credential_store import CredentialStore
try:
    with CredentialStore(Path(sys.argv[1])).lock("profile", sys.argv[2], timeout=0):
        print("free")
except StoreError:
    print("held")
"""


def _probe(home: Path, profile: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(home), profile],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


class _Probing:
    """The real minter, with the other process's look at the lock taken mid-mint."""

    def __init__(self, real: Minter, home: Path, seen: list[str]) -> None:
        self.real, self.home, self.seen = real, home, seen

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        self.seen.append(_probe(self.home, PROFILE))
        return self.real.mint(identity, request)


def test_the_tui_mints_under_the_lock_credential_process_takes(
    secret_service: None, broker_home: Path, run_broker, monkeypatch
) -> None:
    from broker.client import wiring

    login = run_broker("login", "demo", "--user-hint", "carol")
    assert login.returncode == 0, login.stderr
    services = app_services()
    identity = CredentialStore(broker_home).session("demo")
    assert identity is not None
    [role] = [
        r
        for r in services.portal_roles(identity)
        if r.label == "DataScientist" and r.account_name == "analytics-dev"
    ]

    seen: list[str] = []
    real_load = wiring.load_minter
    monkeypatch.setattr(
        wiring,
        "load_minter",
        lambda name, config, state: _Probing(real_load(name, config, state), broker_home, seen),
    )
    outcome = services.mint(identity, role, MintChoice(seconds=3600, reason="lock check"))

    assert outcome.profile == PROFILE
    assert seen == ["held"]  # mid-mint, another process finds the profile locked
    assert _probe(broker_home, PROFILE) == "free"  # and free once the TUI is done
    # stored as the chain stores: stamped with the revocation list read before minting, so
    # the credential-process fast path may serve it without checking it again
    store = CredentialStore(broker_home)
    cached = store.cached(PROFILE)
    assert cached is not None and cached.stamp == store.revocation_stamp()
    # credential-process, a real process, then serves what the TUI stored under that lock
    served = run_broker("credential-process", "--profile", PROFILE)
    assert served.returncode == 0, served.stderr
    assert json.loads(served.stdout)["AccessKeyId"] == outcome.credentials.access_key_id
