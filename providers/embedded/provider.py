"""``EmbeddedProvider``: the development IdP, signed in through the real ``OIDCProvider``.

The issuer starts in this process on first use. With ``SignInOptions.user_hint`` the provider
plays the browser for the named demo user (no page is shown); without it the person picks a
user on the issuer's login page. Everything it shows is marked development-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit

import httpx

from broker.config.schema import ConfigIssue, ConfigIssues, from_table
from broker.errors import AuthenticationError, ReauthenticationRequired
from providers.base import (
    Capabilities,
    ProviderContext,
    SignInOptions,
    SignInResult,
    SignInUI,
)
from providers.embedded.issuer import EmbeddedIssuer, check_bind_address
from providers.embedded.models import CLIENT_ID, SCOPES
from providers.embedded.users import ISSUER, DemoUser, load_users
from providers.oidc.provider import OIDCProvider
from providers.oidc.settings import OIDCSettings

if TYPE_CHECKING:
    from broker.tokens.oidc.jwks import FileJWKS

__all__ = ["EmbeddedProvider", "EmbeddedSettings"]


@dataclass(frozen=True)
class EmbeddedSettings:
    """``[providers.<name>]`` with ``type = "embedded"``.

    Args:
        type: always ``"embedded"``.
        host: where the login pages listen; only ``127.0.0.1`` is accepted.
        port: 0 (the default) lets the kernel pick a free port.
    """

    type: Literal["embedded"]
    host: str = "127.0.0.1"
    port: int = 0


class _DemoPerson:
    """A ``SignInUI`` that signs in as one demo user by submitting the login page itself."""

    def __init__(self, issuer: EmbeddedIssuer, user: DemoUser, ui: SignInUI) -> None:
        self._issuer = issuer
        self._user = user
        self._ui = ui

    def open_url(self, url: str) -> bool:
        form = dict(parse_qsl(urlsplit(url).query))
        form["user"] = self._user.username
        with httpx.Client(transport=self._issuer.transport()) as client:
            answer = client.post(f"{self._issuer.base_url}/authorize", data=form)
        location = answer.headers.get("location")
        if answer.status_code != 302 or location is None:
            raise AuthenticationError(
                "the embedded IdP refused the sign-in request; see `broker providers`"
            )
        # The redirect goes to our own loopback listener, over the real loopback interface.
        with httpx.Client(trust_env=False, timeout=10) as browser:
            browser.get(location)
        return True

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        self._issuer.server.approve_device(user_code, self._user)

    def status(self, message: str) -> None:
        self._ui.status(message)


class EmbeddedProvider:
    """The embedded development IdP (``type = "embedded"``). Development only."""

    def __init__(self, name: str, settings: EmbeddedSettings, context: ProviderContext) -> None:
        check_bind_address(settings.host)
        self.name = name
        self.settings = settings
        self._context = context
        self._issuer: EmbeddedIssuer | None = None
        self._oidc: OIDCProvider | None = None

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: ProviderContext) -> Self:
        if "aws_federation" in settings:  # AWS cannot reach a loopback, development-only IdP
            raise ConfigIssues(
                [
                    ConfigIssue(
                        "broker.toml",
                        f"providers.{name}.aws_federation",
                        "the embedded IdP cannot sign in to AWS (only oidc and saml "
                        "providers can); remove it",
                    )
                ]
            )
        loaded, issues = from_table(
            EmbeddedSettings, settings, file="broker.toml", prefix=f"providers.{name}"
        )
        if loaded is None:
            raise ConfigIssues(issues)
        return cls(name, loaded, context)

    @classmethod
    def local_key_sets(cls, data_dir: Path) -> dict[str, FileJWKS]:
        """The issuer's public keys as published in ``data_dir`` (``PublishesLocalKeys``): its
        back channel is in-process, so ``broker serve`` and the local minter read them there."""
        from providers.embedded.public_jwks import published_key_sets

        return published_key_sets(data_dir)

    def capabilities(self) -> Capabilities:
        return Capabilities(browser=True, device=True, refresh=True, development_only=True)

    def users(self) -> dict[str, DemoUser]:
        """The demo users (for pickers in the TUI and `--user-hint` help)."""
        return load_users(self._context.config_dir)

    def _client(self) -> tuple[EmbeddedIssuer, OIDCProvider]:
        if self._issuer is None or self._oidc is None:
            issuer = EmbeddedIssuer(self._context, host=self.settings.host, port=self.settings.port)
            settings = OIDCSettings(
                type="embedded",
                issuer=ISSUER,
                client_id=CLIENT_ID,
                scopes=SCOPES,
                algorithms=("ES256",),
            )
            self._issuer = issuer
            self._oidc = OIDCProvider(
                self.name, settings, self._context, transport=issuer.transport()
            )
        return self._issuer, self._oidc

    def sign_in(self, options: SignInOptions) -> SignInResult:
        if not options.interactive:
            raise ReauthenticationRequired(
                f"provider {self.name!r} needs you to sign in; run `broker login {self.name}`"
            )
        issuer, oidc = self._client()
        issuer.start()  # the browser (or the device page) needs the pages
        if options.user_hint:
            user = self._demo_user(options.user_hint)
            options = replace(options, ui=_DemoPerson(issuer, user, options.ui))
        return oidc.sign_in(options)

    def _demo_user(self, hint: str) -> DemoUser:
        users = self.users()
        for user in users.values():
            if hint in (user.username, user.email):
                return user
        names = ", ".join(sorted(users))
        raise AuthenticationError(f"no demo user {hint!r}; pick one of: {names}")

    def refresh(self, refresh_token: str) -> SignInResult:
        return self._client()[1].refresh(refresh_token)

    def sign_out(self, result: SignInResult) -> None:
        self._client()[1].sign_out(result)

    def close(self) -> None:
        """Stop the issuer (it also stops with the process: its thread is a daemon)."""
        if self._oidc is not None:
            self._oidc.close()
        if self._issuer is not None:
            self._issuer.close()
        self._issuer = self._oidc = None
