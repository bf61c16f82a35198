"""The provider seam: one ``Protocol`` every identity provider implements.

A provider turns a sign-in into verified ``Claims`` and nothing else: it never decides access,
never stores secrets, never touches the directory. Errors are the ``broker.errors`` provider
branch: ``ProviderUnavailableError`` (IdP unreachable, transient), ``AuthenticationError``
(anything failed verification), ``ReauthenticationRequired`` (refresh token refused),
``ConfigError`` (the provider's settings are wrong).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from broker.tokens.replay import ReplayCache

if TYPE_CHECKING:
    from broker.tokens.oidc.jwks import JWKSCache

__all__ = [
    "Capabilities",
    "Claims",
    "IdentityProvider",
    "ProviderContext",
    "PublishesLocalKeys",
    "ReplayCache",
    "SecretStore",
    "SignInOptions",
    "SignInResult",
    "SignInUI",
]


@dataclass(frozen=True)
class Claims:
    """Who signed in, as verified by the provider. No secrets.

    ``attributes`` keeps every other verified claim or SAML attribute by name (multi-valued),
    including AWS's own SAML attributes (``https://aws.amazon.com/SAML/Attributes/Role`` ...),
    so the directory's identity mapping can use any of them.
    """

    provider: str
    issuer: str
    subject: str
    email: str | None = None
    name: str | None = None
    groups: tuple[str, ...] = ()
    amr: tuple[str, ...] = ()
    acr: str | None = None
    mfa: bool = False
    auth_time: datetime | None = None
    session_not_on_or_after: datetime | None = None
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``broker whoami --json``, the store's index, audit events)."""
        return {
            "provider": self.provider,
            "issuer": self.issuer,
            "subject": self.subject,
            "email": self.email,
            "name": self.name,
            "groups": list(self.groups),
            "amr": list(self.amr),
            "acr": self.acr,
            "mfa": self.mfa,
            "auth_time": self.auth_time.isoformat() if self.auth_time else None,
            "session_not_on_or_after": (
                self.session_not_on_or_after.isoformat() if self.session_not_on_or_after else None
            ),
            "attributes": {k: list(v) for k, v in self.attributes.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Claims:
        """Inverse of ``to_json``."""

        def when(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            provider=data["provider"],
            issuer=data["issuer"],
            subject=data["subject"],
            email=data.get("email"),
            name=data.get("name"),
            groups=tuple(data.get("groups", ())),
            amr=tuple(data.get("amr", ())),
            acr=data.get("acr"),
            mfa=bool(data.get("mfa", False)),
            auth_time=when(data.get("auth_time")),
            session_not_on_or_after=when(data.get("session_not_on_or_after")),
            attributes={k: tuple(v) for k, v in data.get("attributes", {}).items()},
        )


@dataclass(frozen=True)
class SignInResult:
    """A verified sign-in. The raw token/assertion fields are secrets: never log, never print.

    ``id_token`` (OIDC) and ``saml_response`` (base64, SAML) are kept so the broker can pass
    them on to AssumeRoleWithWebIdentity / AssumeRoleWithSAML. ``refresh_token`` goes to the
    keyring only.
    """

    claims: Claims
    expires_at: datetime
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    saml_response: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do, so front ends offer only what works."""

    browser: bool
    device: bool
    refresh: bool
    idp_initiated: bool = False
    development_only: bool = False


class SignInUI(Protocol):
    """How a provider talks to the person during sign-in; the CLI and the TUI implement it."""

    def open_url(self, url: str) -> bool:
        """Open ``url`` in a browser where possible; True if one opened.

        On False the provider says what happens next (prints the URL, or switches to the device
        sign-in), so that no URL is shown that is about to stop working.
        """
        ...

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        """Show the RFC 8628 verification URI, the user code (and a QR code of the full URI)."""
        ...

    def status(self, message: str) -> None:
        """One line of progress (``Waiting for approval…``)."""
        ...


@dataclass(frozen=True)
class SignInOptions:
    """How to sign in.

    Args:
        ui: where to show URLs, codes and progress.
        device: use the device authorization grant even if a browser could open.
        user_hint: a login hint (email or user name); the embedded IdP signs in as that user.
        interactive: False in headless callers (refresher, credential-process without a
            terminal): a provider that would need the person raises ``ReauthenticationRequired``.
        timeout: seconds to wait for the person before giving up.
    """

    ui: SignInUI
    device: bool = False
    user_hint: str | None = None
    interactive: bool = True
    timeout: float = 300.0


class SecretStore(Protocol):
    """Where a provider may keep a secret of its own (the embedded IdP's signing key).

    The broker backs it with the OS keyring; there is no file fallback.
    """

    def get_secret(self, key: str) -> str | None:
        """The secret stored under ``key``, or None."""
        ...

    def set_secret(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing any previous one."""
        ...


@dataclass(frozen=True)
class ProviderContext:
    """What the broker hands every provider it builds.

    Args:
        config_dir: the configuration directory (providers resolve relative paths against it).
        data_dir: the per-user data directory.
        replay_cache: one-time values shared across processes (SAML assertion ids).
        secrets: the OS-keyring-backed secret store.
        http_timeout: seconds for each request to the IdP.
    """

    config_dir: Path
    data_dir: Path
    replay_cache: ReplayCache
    secrets: SecretStore
    http_timeout: float = 10.0


@runtime_checkable
class IdentityProvider(Protocol):
    """An identity provider: OIDC, SAML 2.0, or the embedded development IdP."""

    name: str

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: ProviderContext) -> Self:
        """Build the provider named ``name`` from its ``[providers.<name>]`` table.

        Raises:
            ConfigError: unknown or invalid settings, each problem with its key.
        """
        ...

    def capabilities(self) -> Capabilities:
        """Which flows this provider offers."""
        ...

    def sign_in(self, options: SignInOptions) -> SignInResult:
        """Sign the person in and return verified claims.

        Raises:
            ProviderUnavailableError: the IdP cannot be reached.
            AuthenticationError: the response failed any check (signature, issuer, nonce ...).
            ReauthenticationRequired: ``options.interactive`` is False and a person is needed.
        """
        ...

    def refresh(self, refresh_token: str) -> SignInResult:
        """Exchange a refresh token for a new session (rotating the refresh token).

        Raises:
            ReauthenticationRequired: the IdP answered ``invalid_grant``.
            ProviderUnavailableError: transient failure; the caller keeps the old session.
            AuthenticationError: the new tokens failed verification.
        """
        ...

    def sign_out(self, result: SignInResult) -> None:
        """End the session at the IdP where it supports that (revoke the refresh token)."""
        ...


@runtime_checkable
class PublishesLocalKeys(Protocol):
    """A provider type whose IdP runs on this machine and publishes its public keys to a file,
    since no JWKS URL of it can be fetched (the embedded development IdP).

    Optional: ``providers.registry.local_key_sets`` asks every installed type that has it, and
    the front ends hand the result to the STS's web-identity verifier, which uses a set for its
    exact issuer only, and only when the directory's entry for that issuer names no
    ``jwks_uri``.
    """

    @classmethod
    def local_key_sets(cls, data_dir: Path) -> Mapping[str, JWKSCache]:
        """The key sets this provider type publishes under ``data_dir``, by issuer."""
        ...
