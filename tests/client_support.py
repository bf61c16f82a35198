"""In-test identity provider and minter for the client's tests (the real ones land elsewhere).

They behave like the real seams: the provider issues fresh random tokens and rotates refresh
tokens; the minter issues random credentials and records each mint in an append-only file,
so tests across processes can count mints.
"""

from __future__ import annotations

import os
import secrets
import string
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from broker.errors import ProviderUnavailableError, ReauthenticationRequired
from broker.minters.base import Credentials, MintRequest
from providers.base import (
    Capabilities,
    Claims,
    ProviderContext,
    SignInOptions,
    SignInResult,
)

__all__ = [
    "EXPIRED_KEY_ID",
    "CountingMinter",
    "TestIdP",
    "seed_expired",
    "write_config",
    "write_counting_minter_site",
]

# Put in place of ``broker.minters.local`` at interpreter start (a ``sitecustomize``), so whole
# ``broker`` processes mint through a ``CountingMinter`` logging to ``$TEST_MINT_LOG``.
_COUNTING_MINTER_SITE = """
import os, sys, types
from pathlib import Path
from tests.client_support import CountingMinter

module = types.ModuleType("broker.minters.local")
module.build_minter = lambda config, state: CountingMinter(
    Path(os.environ["TEST_MINT_LOG"]), delay=float(os.environ.get("TEST_MINT_DELAY", "0"))
)
sys.modules["broker.minters.local"] = module
"""
EXPIRED_KEY_ID = "BKIAEXPIRED000000000"


class TestIdP:
    """A provider that signs ``subject`` in at once and refreshes with rotation; its sessions
    start at ``clock()`` (the real time unless a test gives its own clock)."""

    __test__ = False

    def __init__(
        self,
        name: str = "corp",
        subject: str = "alice",
        lifetime: int = 3600,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.subject = subject
        self.lifetime = lifetime
        self.clock = clock
        self.revoked = False
        self.down = False
        self.refreshes = 0
        self.signed_out: list[str] = []
        self.issued_refresh_tokens: list[str] = []

    @classmethod
    def from_config(
        cls, name: str, settings: Mapping[str, Any], context: ProviderContext
    ) -> TestIdP:
        return cls(name)

    def capabilities(self) -> Capabilities:
        return Capabilities(browser=False, device=False, refresh=True)

    def _result(self) -> SignInResult:
        token = "rt-" + secrets.token_urlsafe(24)
        self.issued_refresh_tokens.append(token)
        now = self.clock()
        return SignInResult(
            claims=Claims(
                provider=self.name,
                issuer="https://idp.example.com",
                subject=self.subject,
                email=f"{self.subject}@example.com",
                groups=("engineers",),
                amr=("pwd", "otp"),
                mfa=True,
                auth_time=now,
            ),
            expires_at=now + timedelta(seconds=self.lifetime),
            refresh_token=token,
            id_token="idt-" + secrets.token_urlsafe(32),
            access_token="at-" + secrets.token_urlsafe(24),
        )

    def sign_in(self, options: SignInOptions) -> SignInResult:
        options.ui.status(f"signing in as {options.user_hint or self.subject}")
        return self._result()

    def refresh(self, refresh_token: str) -> SignInResult:
        if self.down:
            raise ProviderUnavailableError("idp.example.com is unreachable")
        if self.revoked or refresh_token not in self.issued_refresh_tokens[-1:]:
            raise ReauthenticationRequired("refresh token refused", code="invalid_grant")
        self.refreshes += 1
        return self._result()

    def sign_out(self, result: SignInResult) -> None:
        self.signed_out.append(result.claims.subject)


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


class CountingMinter:
    """Mints random credentials, valid from ``clock()`` (the real time unless a test gives
    its own); appends one line per mint to ``log`` (safe across processes)."""

    name = "test"

    def __init__(
        self,
        log: Path,
        lifetime: int = 3600,
        delay: float = 0.0,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.log = log
        self.lifetime = lifetime
        self.delay = delay
        self.clock = clock

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, f"{os.getpid()} {request.role_name}\n".encode())
        finally:
            os.close(fd)
        if self.delay:
            time.sleep(self.delay)
        return Credentials(
            access_key_id="BKIA" + _random(string.ascii_uppercase + string.digits, 16),
            secret_access_key=_random(string.ascii_letters + string.digits + "+/", 40),
            session_token="tok-" + secrets.token_urlsafe(48),
            expiration=self.clock().replace(microsecond=0) + timedelta(seconds=self.lifetime),
        )

    def count(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


def write_config(directory: Path, extra: str = "") -> Path:
    """A config directory with provider ``corp`` and profiles ``dev`` and ``ops``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "broker.toml").write_text(
        '[broker]\ndefault_provider = "corp"\n\n'
        '[providers.corp]\ntype = "oidc"\nissuer = "https://idp.example.com"\n'
        'client_id = "broker"\n\n'
        '[profiles.dev]\naccount = "111122223333"\nrole = "Developer"\nregion = "eu-west-1"\n\n'
        '[profiles.ops]\naccount = "444455556666"\nrole = "Operator"\nduration = 900\n' + extra
    )
    return directory


def write_counting_minter_site(directory: Path) -> Path:
    """A ``sitecustomize.py`` in ``directory`` (put it first on PYTHONPATH) that makes the
    local minter a ``CountingMinter`` logging to ``$TEST_MINT_LOG``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(_COUNTING_MINTER_SITE)
    return directory


def seed_expired(store: Any, profile: str = "dev") -> None:
    """Cache credentials for ``profile`` (corp, Developer) that expired a minute ago."""
    store.save_credentials(
        profile,
        provider="corp",
        account="111122223333",
        role="Developer",
        credentials=Credentials(
            access_key_id=EXPIRED_KEY_ID,
            secret_access_key="x" * 40,
            session_token="old",
            expiration=datetime.now(UTC) - timedelta(minutes=1),
        ),
    )
