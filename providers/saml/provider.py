"""``SAMLProvider``: SAML 2.0 Web Browser SSO (SP-initiated, optionally IdP-initiated).

Flow: open a one-shot ACS on 127.0.0.1, send an AuthnRequest over HTTP-Redirect through the
person's browser, wait for the IdP's POSTed response, validate it (``response.py``), and map it
to claims. SAML has no refresh: a new session means a new sign-in.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Self
from urllib.parse import urlsplit

from cryptography import x509

from broker.errors import (
    AuthenticationError,
    ProviderUnavailableError,
    ReauthenticationRequired,
    SignInAgain,
    UsageError,
)
from broker.login_advice import capture_login_advice, plain_login_advice
from broker.tokens.saml.response import ResponsePolicy, validate_response
from providers.base import Capabilities, ProviderContext, SignInOptions, SignInResult
from providers.saml.acs import ACS_PATH, LoopbackACS, PostedResponse
from providers.saml.claims import claims_from_assertion
from providers.saml.metadata import sp_metadata
from providers.saml.redirect_binding import PendingRequests, build_authn_request, redirect_url
from providers.saml.settings import SAMLSettings, load_certificates, load_settings

__all__ = ["SAMLProvider"]


class SAMLProvider:
    """A SAML 2.0 identity provider, configured by ``[providers.<name>]`` with ``type = "saml"``."""

    def __init__(
        self,
        name: str,
        settings: SAMLSettings,
        certificates: tuple[x509.Certificate, ...],
        context: ProviderContext,
    ) -> None:
        self.name = name
        self.settings = settings
        self._certificates = certificates
        self._context = context
        self._pending = PendingRequests()

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: ProviderContext) -> Self:
        """Build from the provider's table; the certificate path is relative to the config dir.

        Raises:
            ConfigError: unknown keys, wrong types, or an unreadable IdP certificate.
        """
        parsed = load_settings(name, settings, file=str(context.config_dir / "broker.toml"))
        certificates = load_certificates(
            context.config_dir / parsed.idp_certificate, parsed.idp_entity_id
        )
        return cls(name, parsed, certificates, context)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            browser=True,
            device=False,
            refresh=False,
            idp_initiated=self.settings.allow_idp_initiated,
        )

    def metadata(self) -> str:
        """Our SP metadata. With ``acs_port = 0`` the ACS is listed without a port (loopback:
        the AuthnRequest names the exact one each time).

        Raises:
            UsageError: an ``aws_federation`` provider, whose SP is AWS (its own metadata).
        """
        if self.settings.aws_federation:
            raise UsageError(
                f"provider {self.name!r} signs in to AWS, which is the SP: give the IdP AWS's "
                "metadata (https://signin.aws.amazon.com/static/saml-metadata.xml), not ours"
            )
        port = f":{self.settings.acs_port}" if self.settings.acs_port else ""
        return sp_metadata(self.settings.sp_entity_id, f"http://127.0.0.1{port}{ACS_PATH}")

    def policy(self, acs_url: str) -> ResponsePolicy:
        """What a response posted to ``acs_url`` must satisfy."""
        if self.settings.aws_federation:
            return self.aws_policy()
        return ResponsePolicy(
            idp_entity_id=self.settings.idp_entity_id,
            certificates=self._certificates,
            sp_entity_id=self.settings.sp_entity_id,
            acs_url=acs_url,
            allow_idp_initiated=self.settings.allow_idp_initiated,
            require_signed_response=self.settings.require_signed_response,
            clock_skew=self.settings.clock_skew,
        )

    def aws_policy(self) -> ResponsePolicy:
        """What AWS STS will demand of a response (``aws_endpoint.py``): addressed to the AWS
        sign-in endpoint, AWS as audience, one SubjectConfirmation, unsolicited (AWS sends no
        AuthnRequests, so a response answering a request is not one AWS asked for)."""
        return ResponsePolicy(
            idp_entity_id=self.settings.idp_entity_id,
            certificates=self._certificates,
            sp_entity_id=self.settings.audience,
            acs_url=self.settings.signin_url,
            allow_idp_initiated=True,
            require_signed_response=self.settings.require_signed_response,
            clock_skew=self.settings.clock_skew,
            single_subject_confirmation=True,
        )

    def accept_captured(self, saml_response: str) -> SignInResult:
        """A sign-in from a response the person captured on its way to AWS.

        Raises:
            UsageError: this provider is not an ``aws_federation`` one (its responses come to
                our loopback ACS: plain ``broker login``).
            AuthenticationError: the response fails a check AWS would make, or is a replay.
        """
        if not self.settings.aws_federation:
            raise UsageError(
                f"--saml-response is for aws_federation providers; {self.name!r} signs in with "
                f"`broker login {self.name}`"
            )
        return self.accept(PostedResponse(saml_response, None), self.settings.signin_url)

    def accept(self, posted: PostedResponse, acs_url: str) -> SignInResult:
        """Validate one posted response and turn it into a sign-in.

        Raises:
            AuthenticationError: the response failed a check.
        """
        now = datetime.now(UTC)
        facts = validate_response(
            posted.saml_response,
            self.policy(acs_url),
            now=now,
            pending=self._pending,
            replay_cache=self._context.replay_cache,
            relay_state=posted.relay_state,
        )
        claims = claims_from_assertion(self.name, facts, self.settings)
        expires_at = facts.session_not_on_or_after or now + timedelta(
            seconds=self.settings.session_seconds
        )
        if self.settings.aws_federation:  # AWS refuses the response after its NotOnOrAfter
            expires_at = min(expires_at, facts.not_on_or_after)
        return SignInResult(
            claims=claims, expires_at=expires_at, saml_response=posted.saml_response
        )

    def sign_in(self, options: SignInOptions) -> SignInResult:
        """SP-initiated sign-in through the person's browser.

        Raises:
            ReauthenticationRequired: ``options.interactive`` is False (SAML always needs a person).
            UsageError: a device sign-in was asked for (SAML has none).
            ProviderUnavailableError: the IdP's SSO endpoint cannot be reached.
            AuthenticationError: the response failed a check, or none came in time.
        """
        if self.settings.aws_federation:  # a response to our loopback is useless to AWS
            captured = (
                f"provider {self.name!r} signs in to AWS, whose sign-in endpoint the IdP posts "
                f"to: {self._sign_in_again()} (see README)"
            )
            if not options.interactive:
                raise ReauthenticationRequired(captured)
            raise UsageError(captured)
        if not options.interactive:
            raise ReauthenticationRequired(
                f"SAML provider {self.name!r} needs you in a browser; "
                f"run `broker login {self.name}`"
            )
        if options.device:
            raise UsageError(f"SAML provider {self.name!r} has no device sign-in; drop --device")
        self._check_idp_reachable()
        with LoopbackACS(self.settings.acs_port, lambda p: self.accept(p, acs.url)) as acs:
            request = build_authn_request(
                sp_entity_id=self.settings.sp_entity_id,
                sso_url=self.settings.sso_url,
                acs_url=acs.url,
                now=datetime.now(UTC),
                lifetime=options.timeout,
            )
            self._pending.add(request)
            url = redirect_url(self.settings.sso_url, request)
            if not options.ui.open_url(url):
                options.ui.status(f"Open this address in a browser to sign in:\n  {url}")
            options.ui.status("Waiting for the identity provider's response…")
            try:
                result = acs.wait(options.timeout)
            finally:
                self._pending.discard(request.id)
        if result is None:
            raise AuthenticationError(
                f"no SAML response arrived within {options.timeout:.0f} s; ",
                sign_in=plain_login_advice(self.name, again=True),
            )
        return result

    def refresh(self, refresh_token: str) -> SignInResult:
        """SAML has no refresh tokens.

        Raises:
            ReauthenticationRequired: always.
        """
        raise ReauthenticationRequired(
            "SAML sessions cannot be refreshed; ", sign_in=self._sign_in_again()
        )

    def _sign_in_again(self) -> SignInAgain:
        """How to sign in again: an ``aws_federation`` provider's response is captured, never
        posted to our loopback, so plain ``broker login`` would be refused there."""
        if self.settings.aws_federation:
            return capture_login_advice(self.name)
        return plain_login_advice(self.name)

    def sign_out(self, result: SignInResult) -> None:
        """Nothing to revoke: SAML Single Logout is not supported, the IdP session lapses."""

    def _check_idp_reachable(self) -> None:
        url = urlsplit(self.settings.sso_url)
        host = url.hostname or ""
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            with socket.create_connection((host, port), timeout=self._context.http_timeout):
                pass
        except OSError:
            raise ProviderUnavailableError(
                f"SAML IdP {self.name!r} is unreachable at {url.scheme}://{url.netloc}; "
                "check the network or sso_url"
            ) from None
