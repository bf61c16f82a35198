"""The ``aws-saml`` minter over a response captured from the pysaml2 IdP peer's AWS
application: moto's STS answers AssumeRoleWithSAML (the minter conformance suite), and what
the assertion does not allow is refused before AWS is asked."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from broker.errors import StsError
from broker.minters.aws_federation import FederatedTarget
from broker.minters.aws_saml import AwsSamlMinter, role_pairs
from broker.minters.base import MintRequest
from broker.minters.testing import MinterConformance
from providers.base import SignInResult
from tests.integration.aws_saml.support import ACCOUNT, PRINCIPAL_ARN, ROLE_ARN, refuse_calls
from tests.minter_support import MemoryAudit

pytestmark = pytest.mark.integration


def test_the_sign_in_ends_with_the_assertion_and_keeps_its_role_pairs(
    signed_in: SignInResult,
) -> None:
    now = datetime.now(UTC)
    # The peer's assertions live 5 minutes; AWS refuses them after that, so the sign-in ends.
    assert now < signed_in.expires_at <= now + timedelta(minutes=6)
    assert signed_in.saml_response
    pairs = role_pairs(signed_in.claims)
    assert [(p.role_arn, p.principal_arn) for p in pairs] == [(ROLE_ARN, PRINCIPAL_ARN)]


class TestConformance(MinterConformance):
    @pytest.fixture
    def audit(self) -> MemoryAudit:
        return MemoryAudit()

    @pytest.fixture
    def minter(self, moto_federation: str, audit: MemoryAudit) -> AwsSamlMinter:
        return AwsSamlMinter(
            audit, frozenset({"corp"}), target=FederatedTarget(endpoint_url=moto_federation)
        )

    @pytest.fixture
    def audit_events(self, audit: MemoryAudit) -> Any:
        return lambda: audit.events

    @pytest.fixture
    def broken_minter(self, moto_federation: str) -> AwsSamlMinter:
        return AwsSamlMinter(
            MemoryAudit(broken=True),
            frozenset({"corp"}),
            target=FederatedTarget(endpoint_url=moto_federation),
        )

    @pytest.fixture
    def identity(self, signed_in: SignInResult) -> SignInResult:
        return signed_in

    @pytest.fixture
    def assigned(self) -> MintRequest:
        return MintRequest(ACCOUNT, "Dev", 3600)  # the assertion's SessionDuration

    @pytest.fixture
    def unassigned(self) -> MintRequest:
        return MintRequest(ACCOUNT, "Admin", 900)

    @pytest.fixture
    def role_maximum(self) -> int:
        return 3600  # SessionDuration caps it


@pytest.mark.parametrize(
    ("target", "code"),
    [
        (FederatedTarget(role_arn=f"arn:aws:iam::{ACCOUNT}:role/Admin"), "AccessDenied"),
        (
            FederatedTarget(
                role_arn=ROLE_ARN, principal_arn=f"arn:aws:iam::{ACCOUNT}:saml-provider/Other"
            ),
            "AccessDenied",
        ),
    ],
)
def test_a_role_the_assertion_does_not_list_is_refused_before_aws(
    signed_in: SignInResult, target: FederatedTarget, code: str
) -> None:
    audit = MemoryAudit()
    minter = AwsSamlMinter(audit, frozenset({"corp"}), target=target, client_factory=refuse_calls)
    role = (target.role_arn or ROLE_ARN).rsplit("/", 1)[1]
    with pytest.raises(StsError) as refused:
        minter.mint(signed_in, MintRequest(ACCOUNT, role, 900))
    assert refused.value.code == code and "\n" not in str(refused.value)
    assert "lists: " + ROLE_ARN in str(refused.value)


def test_a_sign_in_without_a_saml_response_is_refused_before_aws(
    signed_in: SignInResult,
) -> None:
    minter = AwsSamlMinter(MemoryAudit(), frozenset({"corp"}), client_factory=refuse_calls)
    oidc_like = dataclasses.replace(signed_in, saml_response=None, id_token="a.b.c")
    with pytest.raises(StsError) as refused:
        minter.mint(oidc_like, MintRequest(ACCOUNT, "Dev", 900))
    assert refused.value.code == "InvalidIdentityToken"
    assert "aws-web-identity" in str(refused.value)


def test_an_expired_assertion_is_refused_before_aws(signed_in: SignInResult) -> None:
    minter = AwsSamlMinter(MemoryAudit(), frozenset({"corp"}), client_factory=refuse_calls)
    expired = dataclasses.replace(signed_in, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(StsError) as refused:
        minter.mint(expired, MintRequest(ACCOUNT, "Dev", 900))
    assert refused.value.code == "ExpiredToken"
    assert "`broker login corp --saml-response -`" in str(refused.value)
