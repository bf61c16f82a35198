"""``OIDCProvider``: sign-in with any OpenID Connect IdP through the modules beside this one.

Browser flow (authorization code + PKCE + loopback redirect) unless the caller asks for the
device flow, or no browser opens and the IdP offers the device flow. Every ID token goes
through ``id_token.validate_id_token``; nothing is trusted before that.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Self

import httpx
from authlib.common.urls import add_params_to_uri

from broker.errors import (
    AuthenticationError,
    ConfigError,
    ProviderError,
    ProviderUnavailableError,
    ReauthenticationRequired,
)
from broker.login_advice import plain_login_advice
from broker.tokens.oidc.discovery import ProviderMetadata, discover
from broker.tokens.oidc.http import OAuthErrorResponse, make_client, read_json, send
from broker.tokens.oidc.id_token import IdTokenRules, validate_id_token
from broker.tokens.oidc.jwks import JWKSCache
from providers.base import Capabilities, ProviderContext, SignInOptions, SignInResult
from providers.oidc.claims import build_claims
from providers.oidc.device_authorization import poll_for_token, start_device_authorization
from providers.oidc.loopback_redirect import LoopbackRedirect
from providers.oidc.pkce import Pkce
from providers.oidc.settings import OIDCSettings, load_settings, secret_key
from providers.oidc.token_endpoint import ClientAuth, TokenResponse, post_form

__all__ = ["OIDCProvider"]

_TRANSIENT = frozenset({"temporarily_unavailable", "server_error", "slow_down"})


class OIDCProvider:
    """An OpenID Connect identity provider (``type = "oidc"``).

    Args:
        name: the provider's configured name.
        settings: its checked settings.
        context: what the broker hands every provider.
        transport: an httpx transport (tests fake the IdP here; the embedded IdP routes here).
        sleep: how device polling waits (tests pass a fake clock).
        now: the wall clock for token times.
        clock: the monotonic clock for device polling deadlines.
    """

    def __init__(
        self,
        name: str,
        settings: OIDCSettings,
        context: ProviderContext,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.settings = settings
        self._http = make_client(context.http_timeout, transport)
        self._sleep = sleep
        self._now = now
        self._clock = clock
        self._meta: ProviderMetadata | None = None
        self._jwks: JWKSCache | None = None
        secret = None
        if settings.client_auth != "none":
            secret = context.secrets.get_secret(secret_key(name))
            if not secret:
                raise ConfigError(
                    f"provider {name!r} uses {settings.client_auth} but no client secret is in "
                    f"the keyring under {secret_key(name)!r}; store it there"
                )
        self._auth = ClientAuth(settings.client_id, settings.client_auth, secret)
        self._rules = IdTokenRules(
            issuer=settings.issuer,
            client_id=settings.client_id,
            algorithms=settings.algorithms,
            leeway=settings.leeway,
            trusted_audiences=settings.trusted_audiences,
        )

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: ProviderContext) -> Self:
        """Build from ``[providers.<name>]`` (see ``settings.OIDCSettings`` for the keys)."""
        return cls(name, load_settings(name, settings), context)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            browser=True,
            device=self.settings.device,
            refresh="offline_access" in self.settings.scopes,
        )

    # -- discovery -------------------------------------------------------------------------

    def metadata(self) -> ProviderMetadata:
        """The issuer's discovery document, fetched once per provider object."""
        if self._meta is None:
            self._meta = discover(self._http, self.settings.issuer)
            self._jwks = JWKSCache(self._http, self._meta.jwks_uri)
        return self._meta

    def _key_lookup(self) -> JWKSCache:
        self.metadata()
        assert self._jwks is not None
        return self._jwks

    # -- sign in ---------------------------------------------------------------------------

    def sign_in(self, options: SignInOptions) -> SignInResult:
        if not options.interactive:
            raise ReauthenticationRequired(
                f"provider {self.name!r} needs you to sign in; run `broker login {self.name}`"
            )
        meta = self.metadata()
        device_ok = self.settings.device and meta.device_authorization_endpoint is not None
        if options.device:
            if not device_ok:
                raise ProviderError(
                    f"provider {self.name!r} does not offer the device sign-in; "
                    "sign in without --device"
                )
            return self._finish(self._device_flow(options, meta), nonce=None)
        return self._browser_flow(options, meta, device_ok)

    def _browser_flow(
        self, options: SignInOptions, meta: ProviderMetadata, device_ok: bool
    ) -> SignInResult:
        """Authorization code + PKCE through the loopback listener (device flow if no browser)."""
        state, nonce, pkce = secrets.token_urlsafe(32), secrets.token_urlsafe(32), Pkce.create()
        with LoopbackRedirect(
            state,
            meta.issuer,
            self.settings.redirect_path,
            require_iss=meta.iss_in_authorization_response,
        ) as listener:
            params = {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": listener.redirect_uri,
                "scope": " ".join(self.settings.scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": pkce.challenge,
                "code_challenge_method": pkce.method,
            }
            if "offline_access" in self.settings.scopes:
                params["prompt"] = "consent"  # OIDC Core §11: offline access needs consent
            if options.user_hint:
                params["login_hint"] = options.user_hint
            url = add_params_to_uri(meta.authorization_endpoint, list(params.items()))
            options.ui.status(f"Opening the sign-in page of {self.name}…")
            if not options.ui.open_url(url):
                if device_ok:
                    listener.close()
                    options.ui.status("No browser here: switching to the device sign-in")
                    return self._finish(self._device_flow(options, meta), nonce=None)
                options.ui.status(f"Open this address in a browser to sign in:\n  {url}")
            options.ui.status("Waiting for the sign-in to finish in the browser…")
            callback = listener.wait(options.timeout)
        form = {
            "grant_type": "authorization_code",
            "code": callback.code,
            "redirect_uri": listener.redirect_uri,
            "code_verifier": pkce.verifier,
        }
        try:
            data = post_form(self._http, meta.token_endpoint, form, self._auth, "code exchange")
        except OAuthErrorResponse as exc:
            raise AuthenticationError(
                f"the identity provider refused the authorization code ({exc.error}); "
                "sign in again",
                code=exc.error,
            ) from None
        return self._finish(TokenResponse.from_json(data), nonce=nonce)

    def _device_flow(self, options: SignInOptions, meta: ProviderMetadata) -> TokenResponse:
        assert meta.device_authorization_endpoint is not None
        device = start_device_authorization(
            self._http,
            meta.device_authorization_endpoint,
            self._auth,
            " ".join(self.settings.scopes),
        )
        options.ui.show_device_code(
            device.verification_uri,
            device.user_code,
            device.verification_uri_complete,
            device.expires_in,
        )
        options.ui.status("Waiting for approval…")
        return poll_for_token(
            self._http,
            meta.token_endpoint,
            self._auth,
            device,
            timeout=options.timeout,
            idp=f"the identity provider {self.name!r}",
            sleep=self._sleep,
            clock=self._clock,
        )

    def _finish(
        self, tokens: TokenResponse, *, nonce: str | None, previous_refresh: str | None = None
    ) -> SignInResult:
        if tokens.id_token is None:
            raise AuthenticationError(
                "the identity provider returned no ID token; check the 'openid' scope"
            )
        verified = validate_id_token(
            tokens.id_token, self._key_lookup().key_for, self._rules, nonce=nonce, now=self._now
        )
        merged = {**self._userinfo(tokens, verified), **verified}
        now = datetime.fromtimestamp(self._now(), UTC)
        claims = build_claims(self.name, self.settings, merged, now, tokens.refresh_expires_in)
        return SignInResult(
            claims=claims,
            expires_at=datetime.fromtimestamp(float(verified["exp"]), UTC),
            refresh_token=tokens.refresh_token or previous_refresh,
            id_token=tokens.id_token,
            access_token=tokens.access_token,
        )

    def _userinfo(self, tokens: TokenResponse, verified: Mapping[str, Any]) -> dict[str, Any]:
        """Userinfo claims (§5.3) when the ID token lacks the ones we map; same ``sub`` only."""
        endpoint = self.metadata().userinfo_endpoint
        wanted = ("email", "name", self.settings.groups_claim)
        if endpoint is None or all(k in verified for k in wanted):
            return {}
        if tokens.token_type.lower() != "bearer":
            return {}
        request = self._http.build_request(
            "GET", endpoint, headers={"Authorization": f"Bearer {tokens.access_token}"}
        )
        try:
            info = read_json(send(self._http, request, "userinfo"), "userinfo")
        except OAuthErrorResponse as exc:
            raise AuthenticationError(
                f"the identity provider refused the userinfo request ({exc.error})", code=exc.error
            ) from None
        if info.get("sub") != verified["sub"]:
            raise AuthenticationError(
                "userinfo names another subject than the ID token; sign in again",
                code="invalid_userinfo",
            )
        return info

    # -- refresh and sign out --------------------------------------------------------------

    def refresh(self, refresh_token: str) -> SignInResult:
        meta = self.metadata()
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        try:
            data = post_form(self._http, meta.token_endpoint, form, self._auth, "token refresh")
        except OAuthErrorResponse as exc:
            if exc.error == "invalid_grant":
                raise ReauthenticationRequired(
                    f"the session at {self.name!r} has ended; ",
                    code=exc.error,
                    sign_in=plain_login_advice(self.name),
                ) from None
            if exc.error in _TRANSIENT or exc.status == 429:
                raise ProviderUnavailableError(
                    f"{self.name!r} cannot refresh right now ({exc.error}); retry later",
                    code=exc.error,
                ) from None
            raise AuthenticationError(
                f"{self.name!r} refused the refresh ({exc.error}); ",
                code=exc.error,
                sign_in=plain_login_advice(self.name),
            ) from None
        return self._finish(
            TokenResponse.from_json(data), nonce=None, previous_refresh=refresh_token
        )

    def sign_out(self, result: SignInResult) -> None:
        """Revoke the refresh token (RFC 7009) where the IdP has a revocation endpoint."""
        endpoint = self.metadata().revocation_endpoint
        if endpoint is None or result.refresh_token is None:
            return
        form = {"token": result.refresh_token, "token_type_hint": "refresh_token"}
        headers = self._auth.apply(form)
        request = self._http.build_request("POST", endpoint, data=form, headers=headers)
        # RFC 7009 §2.2: 200 whether or not the token was still valid; other 4xx answers
        # (unsupported_token_type) leave nothing for us to do either.
        send(self._http, request, "token revocation")

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()
