"""Shared pieces for the SAML unit tests: keys, a pending request, and a policy to check with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from broker.tokens.saml.assertion import AssertionFacts
from broker.tokens.saml.response import ResponsePolicy, validate_response
from providers.saml.redirect_binding import AuthnRequest, PendingRequests, build_authn_request
from tests.saml_forge import KeyPair, MemoryReplayCache, Spec, make_keypair

ACS = "http://127.0.0.1:8123/saml/acs"
SP = "urn:example:broker"
IDP = "https://idp.example.com/metadata"

Check = Callable[..., AssertionFacts]


@pytest.fixture(scope="session")
def keys() -> KeyPair:
    return make_keypair()


@pytest.fixture(scope="session")
def other_keys() -> KeyPair:
    return make_keypair("attacker.example.com")


@pytest.fixture
def pending() -> PendingRequests:
    return PendingRequests()


@pytest.fixture
def request_(pending: PendingRequests) -> AuthnRequest:
    request = build_authn_request(
        sp_entity_id=SP,
        sso_url="https://idp.example.com/sso",
        acs_url=ACS,
        now=datetime.now(UTC),
        lifetime=300,
    )
    pending.add(request)
    return request


@pytest.fixture
def spec(request_: AuthnRequest) -> Spec:
    return Spec(idp=IDP, sp=SP, acs=ACS, in_response_to=request_.id)


@pytest.fixture
def replay_cache() -> MemoryReplayCache:
    return MemoryReplayCache()


@pytest.fixture
def policy(keys: KeyPair) -> ResponsePolicy:
    return ResponsePolicy(
        idp_entity_id=IDP, certificates=(keys.cert,), sp_entity_id=SP, acs_url=ACS, clock_skew=180
    )


@pytest.fixture
def check(
    policy: ResponsePolicy,
    pending: PendingRequests,
    replay_cache: MemoryReplayCache,
    request_: AuthnRequest,
) -> Check:
    """Validate as the ACS does, with the RelayState the IdP returns beside our request."""

    def run(encoded: str, *, now: datetime | None = None, **changes: object) -> AssertionFacts:
        from dataclasses import replace

        return validate_response(
            encoded,
            replace(policy, **changes),  # type: ignore[arg-type]
            now=now or datetime.now(UTC),
            pending=pending,
            replay_cache=replay_cache,
            relay_state=request_.relay_state,
        )

    return run
