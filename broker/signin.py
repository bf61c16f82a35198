"""Sign-in: build a provider from ``[providers.<name>]``, run it, keep the session.

The provider type comes from the table's ``type`` key and is loaded through the
``broker.providers`` entry-point group; the whole table (``type`` included) is handed to the
provider's ``from_config``, whose strict settings check every key.
A new sign-in replaces the stored session; when a different person signs in, credentials
cached from the previous one are dropped so nobody is handed someone else's session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from broker.config import BrokerConfig
from broker.config.providers import default_provider, provider_tables
from broker.config.toml_names import toml_key
from broker.errors import ConfigError, ProviderError, UsageError
from broker.store.credential_store import CredentialStore
from broker.store.index import SessionRow
from providers.base import (
    Claims,
    IdentityProvider,
    ProviderContext,
    SignInOptions,
    SignInResult,
    SignInUI,
)

__all__ = [
    "LoginInput",
    "ProviderBuilder",
    "ProviderListing",
    "ProviderPool",
    "build_provider",
    "list_providers",
    "provider_builder",
    "resolve_provider_name",
    "run_login",
    "run_logout",
    "run_whoami",
]

ProviderBuilder = Callable[[str], IdentityProvider]


def resolve_provider_name(config: BrokerConfig, name: str | None) -> str:
    """``name``, or ``[broker] default_provider``; it must be configured."""
    chosen = name or default_provider(config)
    tables = provider_tables(config)
    if chosen is None:
        raise ConfigError(
            f"no provider named and no [broker] default_provider in {config.file}; "
            f"configured: {', '.join(sorted(tables)) or 'none'}"
        )
    if chosen not in tables:
        raise ConfigError(
            f"no provider {chosen!r} in {config.file} (configured: "
            f"{', '.join(sorted(tables)) or 'none'}); add a [providers.{toml_key(chosen)}] table"
        )
    return chosen


def build_provider(config: BrokerConfig, name: str, store: CredentialStore) -> IdentityProvider:
    """The provider configured as ``[providers.<name>]``, ready to sign in.

    Raises:
        ConfigError: not configured, no ``type``, an uninstalled type (the message lists the
            installed ones), or settings the provider rejects.
    """
    from broker.store.keyring_store import KeyringSecretStore
    from broker.store.replay import SqliteReplayCache
    from providers import registry

    table = provider_tables(config)[resolve_provider_name(config, name)]
    kind = table.get("type")
    if not isinstance(kind, str):
        raise ConfigError(
            f"{config.file}: providers.{name}.type: required (installed types: "
            f"{', '.join(registry.installed()) or 'none'})"
        )
    context = ProviderContext(
        config_dir=config.directory,
        data_dir=store.data_dir,
        replay_cache=SqliteReplayCache(store.data_dir),
        secrets=KeyringSecretStore(store.keyring, name),
    )
    return registry.load(kind).from_config(name, table, context)


class ProviderPool:
    """``build_provider`` bound to a configuration and store, building each provider once.

    Long-running callers (``refresh --watch``, ``serve-credentials``) ask for the same
    provider again and again; building it once keeps one embedded issuer or HTTP client
    instead of one per refresh. ``close()`` closes what was built (providers may offer one).
    """

    def __init__(self, config: BrokerConfig, store: CredentialStore) -> None:
        self._config = config
        self._store = store
        self._built: dict[str, IdentityProvider] = {}

    def __call__(self, name: str) -> IdentityProvider:
        if name not in self._built:
            self._built[name] = build_provider(self._config, name, self._store)
        return self._built[name]

    def close(self) -> None:
        built, self._built = list(self._built.values()), {}
        for provider in built:
            close = getattr(provider, "close", None)
            if callable(close):
                close()


def provider_builder(config: BrokerConfig, store: CredentialStore) -> ProviderPool:
    """A ``ProviderPool`` for ``config`` and ``store``."""
    return ProviderPool(config, store)


@dataclass(frozen=True)
class LoginInput:
    """``broker login [PROVIDER] [--device] [--user-hint NAME] [--saml-response FILE|-]``.

    ``saml_response``: a response the person captured on its way to AWS (a bearer credential,
    kept out of ``repr``)."""

    provider: str
    device: bool = False
    user_hint: str | None = None
    interactive: bool = True
    saml_response: str | None = field(default=None, repr=False)


@runtime_checkable
class CapturedResponseSignIn(Protocol):
    """A provider that can turn a captured SAML response into a sign-in (``aws_federation``
    SAML providers, whose IdP posts to AWS rather than to us)."""

    def accept_captured(self, saml_response: str) -> SignInResult: ...


def _sign_in(provider: IdentityProvider, inputs: LoginInput, ui: SignInUI) -> SignInResult:
    if inputs.saml_response is None:
        return provider.sign_in(
            SignInOptions(
                ui=ui,
                device=inputs.device,
                user_hint=inputs.user_hint,
                interactive=inputs.interactive,
            )
        )
    if inputs.device or inputs.user_hint:
        raise UsageError("--saml-response takes no --device or --user-hint; drop them")
    if not isinstance(provider, CapturedResponseSignIn):
        raise UsageError(
            f"provider {inputs.provider!r} is not a SAML provider; --saml-response is for "
            "aws_federation SAML providers"
        )
    return provider.accept_captured(inputs.saml_response)


def run_login(
    inputs: LoginInput, *, store: CredentialStore, build: ProviderBuilder, ui: SignInUI
) -> Claims:
    """Sign in through ``inputs.provider`` and keep the session; returns the verified claims."""
    provider = build(inputs.provider)
    result = _sign_in(provider, inputs, ui)
    with store.lock("session", inputs.provider):
        previous = store.read_index().sessions.get(inputs.provider)
        if previous is not None and (
            previous.claims.subject != result.claims.subject
            or previous.claims.issuer != result.claims.issuer
        ):
            store.forget_session(inputs.provider)
        store.save_session(inputs.provider, result)
    return result.claims


def run_logout(
    provider: str, *, store: CredentialStore, build: ProviderBuilder, warn: Callable[[str], None]
) -> list[str]:
    """Sign out at the IdP (best effort), then forget the session and its cached profiles.

    Returns the profiles whose credentials were removed.
    """
    with store.lock("session", provider):
        session = store.session(provider)
        if session is not None:
            try:
                build(provider).sign_out(session)
            except (ProviderError, ConfigError) as exc:
                # Signing out locally must always work, even with the IdP down or misconfigured.
                warn(f"could not sign out at the identity provider ({exc}); forgetting locally")
        return store.forget_session(provider)


def run_whoami(store: CredentialStore, provider: str | None = None) -> list[SessionRow]:
    """The stored sessions (claims only, never tokens), optionally for one provider."""
    sessions = store.read_index().sessions
    return [row for name, row in sorted(sessions.items()) if provider in (None, name)]


@dataclass(frozen=True)
class ProviderListing:
    """One row of ``broker providers``."""

    name: str
    type: str
    installed: bool
    signed_in: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "installed": self.installed,
            "signed_in": self.signed_in,
        }


def list_providers(config: BrokerConfig, data_dir: Path) -> tuple[list[ProviderListing], list[str]]:
    """Configured providers (with whether their type is installed) and every installed type."""
    from broker.store.index import IndexFile
    from providers import registry

    installed = registry.installed()
    sessions = IndexFile(data_dir / "store").read().sessions
    rows = [
        ProviderListing(
            name=name,
            type=str(table.get("type", "?")),
            installed=table.get("type") in installed,
            signed_in=name in sessions,
        )
        for name, table in sorted(provider_tables(config).items())
    ]
    return rows, installed
