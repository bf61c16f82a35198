"""Attack samples against SAML straight into AWS: moto checks neither the wire format's
addressing nor signatures, so responses addressed elsewhere, for another audience, tampered,
expired, replayed or from another IdP must be refused by the broker's own checks at sign-in,
and no such response ever reaches AWS."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import AuthenticationError, UsageError
from broker.minters.aws_saml import role_pairs
from providers.base import SignInOptions
from providers.testing import SilentUI
from tests.integration.aws_saml.support import (
    ATTACKS,
    attack_sample,
    aws_spec,
    captured,
    saml_provider,
)
from tests.integration.saml_peer import RunningIdP
from tests.saml_forge import KeyPair, build_response, encode

pytestmark = pytest.mark.integration


def test_the_forged_baseline_is_accepted(
    idp: RunningIdP, idp_keys: KeyPair, tmp_path: Path
) -> None:
    """The attack samples differ from this accepted response by one thing each."""
    provider = saml_provider(idp, tmp_path)
    signed_in = provider.accept_captured(encode(build_response(aws_spec(), idp_keys)))
    assert role_pairs(signed_in.claims)


@pytest.mark.parametrize(("attack", "reason"), ATTACKS.items())
def test_attack_samples_never_become_a_sign_in(
    idp: RunningIdP, idp_keys: KeyPair, tmp_path: Path, attack: str, reason: str
) -> None:
    provider = saml_provider(idp, tmp_path)
    with pytest.raises(AuthenticationError) as refused:
        provider.accept_captured(attack_sample(attack, idp_keys))
    assert reason in str(refused.value) and "\n" not in str(refused.value)


def test_a_replayed_response_is_refused(idp: RunningIdP, tmp_path: Path) -> None:
    provider = saml_provider(idp, tmp_path)
    response = captured(idp, "dana")
    provider.accept_captured(response)
    with pytest.raises(AuthenticationError, match="replay"):
        provider.accept_captured(response)


def test_the_loopback_browser_flow_is_refused_naming_the_capture(
    idp: RunningIdP, tmp_path: Path
) -> None:
    """A response the IdP posts to our loopback is useless to AWS: no AuthnRequest is sent."""
    ui = SilentUI()
    with pytest.raises(UsageError) as refused:
        saml_provider(idp, tmp_path).sign_in(SignInOptions(ui=ui, timeout=5))
    assert "--saml-response" in str(refused.value) and "\n" not in str(refused.value)
    assert ui.opened == []
    with pytest.raises(UsageError, match="AWS's metadata"):  # AWS is the SP, not us
        saml_provider(idp, tmp_path).metadata()
