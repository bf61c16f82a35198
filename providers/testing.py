"""Conformance suite for identity providers: subclass ``ProviderConformance`` in your tests.

Every provider, built-in or third-party, must pass the same checks (as keyring backends share
``keyring.testing.backend``). A subclass supplies three fixtures:

* ``provider``: a configured provider pointed at a live IdP;
* ``person``: a ``SignInUI`` that plays the person and the browser: it is handed the URL the
  provider opens (or the device code) and completes the sign-in at the IdP;
* ``unreachable_provider``: the same provider type configured against an address nothing
  listens on; ``None`` only for a development-only provider that runs in-process and so has
  no peer to lose (the suite then checks it really is marked development-only).

Optionally ``expected_subject`` (the subject the ``person`` signs in as).
"""

from __future__ import annotations

import pytest

from broker.errors import ProviderUnavailableError, ReauthenticationRequired
from providers.base import (
    Capabilities,
    IdentityProvider,
    SignInOptions,
    SignInResult,
    SignInUI,
)

__all__ = ["ProviderConformance", "SilentUI"]


class SilentUI:
    """A ``SignInUI`` with no person behind it: opens nothing, shows nothing."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.messages: list[str] = []

    def open_url(self, url: str) -> bool:
        self.opened.append(url)
        return False

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        self.messages.append(f"device code {user_code}")

    def status(self, message: str) -> None:
        self.messages.append(message)


class ProviderConformance:
    """Behaviour every identity provider shares."""

    @pytest.fixture
    def expected_subject(self) -> str | None:
        return None

    def test_is_an_identity_provider(self, provider: IdentityProvider) -> None:
        assert isinstance(provider, IdentityProvider)
        assert isinstance(provider.capabilities(), Capabilities)

    def test_sign_in_returns_verified_claims(
        self, provider: IdentityProvider, person: SignInUI, expected_subject: str | None
    ) -> None:
        result = provider.sign_in(SignInOptions(ui=person, timeout=60))
        assert isinstance(result, SignInResult)
        assert result.claims.provider == provider.name
        assert result.claims.subject
        assert result.claims.issuer
        if expected_subject is not None:
            assert result.claims.subject == expected_subject
        assert result.expires_at.tzinfo is not None

    def test_secrets_never_in_repr(self, provider: IdentityProvider, person: SignInUI) -> None:
        result = provider.sign_in(SignInOptions(ui=person, timeout=60))
        text = repr(result)
        for secret in (
            result.refresh_token,
            result.id_token,
            result.access_token,
            result.saml_response,
        ):
            if secret:
                assert secret not in text

    def test_refresh_matches_capability(self, provider: IdentityProvider, person: SignInUI) -> None:
        result = provider.sign_in(SignInOptions(ui=person, timeout=60))
        if provider.capabilities().refresh:
            assert result.refresh_token, "a provider that can refresh must return a refresh token"
            renewed = provider.refresh(result.refresh_token)
            assert renewed.claims.subject == result.claims.subject
        else:
            assert result.refresh_token is None
            with pytest.raises(ReauthenticationRequired):
                provider.refresh("not-a-token")

    def test_headless_sign_in_never_waits_for_a_person(self, provider: IdentityProvider) -> None:
        ui = SilentUI()
        with pytest.raises(ReauthenticationRequired):
            provider.sign_in(SignInOptions(ui=ui, interactive=False, timeout=5))
        assert ui.opened == []

    def test_unreachable_idp_is_a_clear_transient_error(
        self,
        provider: IdentityProvider,
        unreachable_provider: IdentityProvider | None,
        person: SignInUI,
    ) -> None:
        if unreachable_provider is None:
            assert provider.capabilities().development_only
            return
        with pytest.raises(ProviderUnavailableError) as caught:
            unreachable_provider.sign_in(SignInOptions(ui=person, timeout=10))
        assert "\n" not in str(caught.value)
