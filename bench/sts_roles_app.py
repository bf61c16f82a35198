"""The `broker serve` application with a role to assume, for bench/sts.py.

`broker serve` gets its roles and OIDC provider entries from the directory; the bench serves
the very same ASGI app (`create_app` around `StsService`) with a small plain-data
`PrincipalSource` instead, so that the one OIDC provider's JWKS (the bench's public key, passed
in `BENCH_JWKS`) can be answered in-process rather than by an IdP competing for the CPU.
Run as a uvicorn factory:

    python -m uvicorn --factory bench.sts_roles_app:app --workers 2
"""

from __future__ import annotations

import json
import os

import httpx

from broker.config.loader import configured_database_url, data_dir
from broker.policy import parse_policy
from broker.server.app import create_app
from broker.server.query_api import StsService
from broker.sts.principals import PrincipalPolicies, RoleDefinition, WebIdentityProvider
from broker.sts.state import open_sts_state
from broker.sts.web_identity import WebIdentityVerifier

ACCOUNT = "111122223333"
ISSUER = "https://idp.bench.example.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.bench.example.com"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/BenchRole"


class BenchPrincipals:
    def __init__(self) -> None:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": PROVIDER_ARN},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"idp.bench.example.com:aud": "bench"}},
                }
            ],
        }
        self._role = RoleDefinition(
            ROLE_ARN, ACCOUNT, "BenchRole", parse_policy(trust, kind="trust"), PrincipalPolicies()
        )
        self._provider = WebIdentityProvider(PROVIDER_ARN, ISSUER, ("bench",), f"{ISSUER}/jwks")

    def role(self, account: str, name: str) -> RoleDefinition | None:
        return self._role if (account, name) == (ACCOUNT, "BenchRole") else None

    def user_policies(self, account: str, user: str) -> PrincipalPolicies:
        return PrincipalPolicies()

    def web_identity_provider(self, account: str, issuer: str) -> WebIdentityProvider | None:
        return self._provider if (account, issuer) == (ACCOUNT, ISSUER) else None

    def saml_provider(self, arn: str) -> None:
        return None

    def organization_id(self, account: str) -> None:
        return None

    def managed_policy(self, owner: str, name: str) -> None:
        return None


def app():
    jwks = json.loads(os.environ["BENCH_JWKS"])
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks))
    durable = os.environ.get("BROKER_AUDIT_SYNC", "fsync") == "fsync"
    state = open_sts_state(configured_database_url(), data_dir(), durable_commits=durable)
    service = StsService.over(
        state,
        data=data_dir(),
        principals=BenchPrincipals(),
        web_identity=WebIdentityVerifier(httpx.Client(transport=transport)),
    )
    return create_app(service)
