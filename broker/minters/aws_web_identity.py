"""The ``aws-web-identity`` minter: the person's OIDC ID token to AWS AssumeRoleWithWebIdentity.

The profile names the role (``role_arn``); the ID token comes from the stored sign-in, which the
credential chain refreshes headlessly with the refresh token when it has expired (and stores
back in the keyring), so this minter only ever sees a live token. AWS itself checks the token
against the account's IAM OIDC identity provider and the role's trust policy.

What the call may carry (STS API reference): ``RoleSessionName`` (derived from the person,
made to fit AWS's rules), ``DurationSeconds`` and an optional session ``Policy``. The call takes no
``SourceIdentity`` or ``Tags`` parameters: AWS reads those from the token's own
``https://aws.amazon.com/source_identity`` and ``https://aws.amazon.com/tags`` claims, which the
IdP sets. So the broker sends neither and cannot widen them.
"""

from __future__ import annotations

from broker.config import BrokerConfig
from broker.errors import StsError
from broker.minters.aws_federation import (
    FederationCall,
    FederationMinter,
    federated_providers,
    load_federation_settings,
    partition_of,
)
from broker.minters.aws_names import derived_name
from broker.minters.base import MintRequest
from broker.sts.state_handle import StateHandle
from providers.base import SignInResult

__all__ = ["AwsWebIdentityMinter", "build_minter"]


class AwsWebIdentityMinter(FederationMinter):
    """AssumeRoleWithWebIdentity with the stored ID token; no AWS credentials of our own."""

    name = "aws-web-identity"
    operation = "AssumeRoleWithWebIdentity"

    def _build_call(self, identity: SignInResult, request: MintRequest) -> FederationCall:
        provider = identity.claims.provider
        if not identity.id_token:
            raise StsError(
                f"the sign-in to {provider} holds no OIDC ID token (aws-web-identity needs an "
                "OIDC provider); use the aws-saml minter for a SAML provider",
                code="InvalidIdentityToken",
            )
        role_arn = self.target.role_arn or (
            f"arn:{partition_of(self.target.region or 'us-east-1')}:iam::{request.account_id}:"
            f"role/{request.role_name}"
        )
        params: dict[str, object] = {
            "RoleArn": role_arn,
            "RoleSessionName": derived_name(identity.claims, 64),
            "WebIdentityToken": identity.id_token,
            "DurationSeconds": request.duration_seconds,
        }
        if request.session_policy:
            params["Policy"] = request.session_policy
        return FederationCall(self.operation, dict(params), "WebIdentityToken")


def build_minter(config: BrokerConfig, state: StateHandle) -> AwsWebIdentityMinter:
    """The minter, auditing to the broker's audit log, for the providers that opted in."""
    from broker.minters.upstream_audit import open_audit_chain

    return AwsWebIdentityMinter(
        open_audit_chain(state),
        federated_providers(config),
        target=load_federation_settings(config, AwsWebIdentityMinter.name),
    )
