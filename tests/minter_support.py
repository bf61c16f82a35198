"""Shared pieces for the upstream-minter tests: identities, settings, an in-memory audit sink."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from broker.errors import AuditError
from broker.minters.aws_settings import AwsAccount, AwsSettings
from providers.base import Claims, SignInResult

ACCOUNT = "111122223333"
SESSION_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
    '"Resource":"*"}]}'
)


def identity(
    *,
    email: str | None = "alice@example.com",
    mfa: bool = True,
    groups: tuple[str, ...] = ("developers",),
    session_end: datetime | None = None,
    expires_in: timedelta = timedelta(hours=1),
) -> SignInResult:
    now = datetime.now(UTC)
    claims = Claims(
        provider="corp",
        issuer="https://idp.example.com",
        subject="00u-alice",
        email=email,
        name="Alice Example",
        groups=groups,
        mfa=mfa,
        auth_time=now,
        session_not_on_or_after=session_end,
    )
    return SignInResult(claims=claims, expires_at=now + expires_in)


def settings(**account: Any) -> AwsSettings:
    values: dict[str, Any] = {"roles": ("AllowedReadOnly", "Other")}
    values.update(account)
    return AwsSettings(accounts={ACCOUNT: AwsAccount(**values)})


class MemoryAudit:
    """An audit sink that keeps events in a list; ``broken`` makes every write fail."""

    def __init__(self, *, broken: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.broken = broken

    def append(self, event: Mapping[str, Any]) -> object:
        if self.broken:
            raise AuditError("the audit log cannot be written (disk full); nothing was issued")
        self.events.append(dict(event))
        return event
