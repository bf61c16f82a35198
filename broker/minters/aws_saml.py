"""The ``aws-saml`` minter: the stored SAML response to AWS AssumeRoleWithSAML.

The IdP lists what the person may assume in ``https://aws.amazon.com/SAML/Attributes/Role``:
values of ``role ARN,SAML provider ARN`` (either order). The profile's ``role_arn`` picks one
pair, and ``principal_arn`` picks the provider when the role is paired with several; a role the
assertion does not list is refused before AWS is asked. Without a profile (a role picked from the
portal) the pair is found by account and role name.

The response is the one the broker verified at ``broker login`` and kept in the keyring. AWS
refuses it after its ``NotOnOrAfter``, which is when the provider ends the sign-in for an
``aws_federation`` provider, so the credential chain asks for ``broker login`` (never prompting
when headless) instead of sending a dead assertion. ``SessionDuration`` from the assertion caps
the session as AWS does; asking for more is refused with the cap named, never cut short.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from broker.config import BrokerConfig
from broker.errors import SignInAgain, StsError
from broker.login_advice import capture_login_advice
from broker.minters.aws_federation import (
    ROLE_ARN,
    SAML_PROVIDER_ARN,
    FederationCall,
    FederationMinter,
    federated_providers,
    load_federation_settings,
)
from broker.minters.base import MintRequest
from broker.sts.state_handle import StateHandle
from providers.base import Claims, SignInResult

__all__ = [
    "ROLE_ATTRIBUTE",
    "SESSION_DURATION_ATTRIBUTE",
    "AwsSamlMinter",
    "RolePair",
    "build_minter",
    "role_pairs",
]

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"


@dataclass(frozen=True)
class RolePair:
    """One value of the Role attribute: a role and the IAM SAML provider trusted for it."""

    role_arn: str
    principal_arn: str

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[1]


def role_pairs(claims: Claims) -> list[RolePair]:
    """The well-formed Role pairs of an assertion, in its order (malformed values are skipped:
    AWS would refuse them too)."""
    pairs: list[RolePair] = []
    for value in claims.attributes.get(ROLE_ATTRIBUTE, ()):
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != 2:
            continue
        roles = [p for p in parts if ROLE_ARN.match(p)]
        principals = [p for p in parts if SAML_PROVIDER_ARN.match(p)]
        if len(roles) == 1 and len(principals) == 1:
            pair = RolePair(roles[0], principals[0])
            if pair not in pairs:
                pairs.append(pair)
    return pairs


def _session_duration(claims: Claims) -> int | None:
    values = claims.attributes.get(SESSION_DURATION_ATTRIBUTE, ())
    if not values:
        return None
    try:
        seconds = int(values[0])
    except ValueError:
        raise StsError(
            f"the assertion's SessionDuration {values[0][:20]!r} is not a number of seconds; "
            "fix the attribute at the IdP",
            code="InvalidIdentityToken",
        ) from None
    return seconds


def _listing(pairs: Iterable[RolePair]) -> str:
    return ", ".join(p.role_arn for p in pairs) or "none"


class AwsSamlMinter(FederationMinter):
    """AssumeRoleWithSAML with the stored response; no AWS credentials of our own."""

    name = "aws-saml"
    operation = "AssumeRoleWithSAML"

    def _pair(self, claims: Claims, request: MintRequest) -> RolePair:
        pairs = role_pairs(claims)
        if self.target.role_arn is not None:
            found = [p for p in pairs if p.role_arn == self.target.role_arn]
        else:
            found = [
                p
                for p in pairs
                if (p.account_id, p.role_name) == (request.account_id, request.role_name)
            ]
        if self.target.principal_arn is not None:
            found = [p for p in found if p.principal_arn == self.target.principal_arn]
        if not found:
            wanted = self.target.role_arn or f"{request.role_name} in {request.account_id}"
            by = f" through {self.target.principal_arn}" if self.target.principal_arn else ""
            raise StsError(
                f"the sign-in to {claims.provider} does not grant {wanted}{by} (its assertion "
                f"lists: {_listing(pairs)}); pick one of those or ask the IdP's administrator",
                code="AccessDenied",
            )
        if len(found) > 1:
            raise StsError(
                f"the assertion pairs {found[0].role_arn} with several SAML providers; set "
                "principal_arn in the profile to pick one",
                code="ValidationError",
            )
        return found[0]

    def login_advice(self, provider: str) -> SignInAgain:
        """A response for AWS is captured, never posted to us: the command must say so."""
        return capture_login_advice(provider)

    def _extra_checks(self, identity: SignInResult, request: MintRequest) -> None:
        if not identity.saml_response:
            provider = identity.claims.provider
            raise StsError(
                f"the sign-in to {provider} holds no SAML response (aws-saml needs a SAML "
                "provider); use the aws-web-identity minter for an OIDC provider",
                code="InvalidIdentityToken",
            )
        cap = _session_duration(identity.claims)
        if cap is not None and request.duration_seconds > cap:
            raise StsError(
                f"a {request.duration_seconds} s session is longer than the IdP allows "
                f"(SessionDuration {cap} s); set duration to at most {cap} in the profile",
                code="ValidationError",
            )
        self._pair(identity.claims, request)

    def _build_call(self, identity: SignInResult, request: MintRequest) -> FederationCall:
        assert identity.saml_response is not None  # _extra_checks refused a sign-in without
        pair = self._pair(identity.claims, request)
        params: dict[str, object] = {
            "RoleArn": pair.role_arn,
            "PrincipalArn": pair.principal_arn,
            "SAMLAssertion": identity.saml_response,
            "DurationSeconds": request.duration_seconds,
        }
        if request.session_policy:
            params["Policy"] = request.session_policy
        return FederationCall(self.operation, dict(params), "SAMLAssertion")


def build_minter(config: BrokerConfig, state: StateHandle) -> AwsSamlMinter:
    """The minter, auditing to the broker's audit log, for the providers that opted in."""
    from broker.minters.upstream_audit import open_audit_chain

    return AwsSamlMinter(
        open_audit_chain(state),
        federated_providers(config),
        target=load_federation_settings(config, AwsSamlMinter.name),
    )
