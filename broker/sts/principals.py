"""What STS needs to know about principals: the seam the directory fills.

``PrincipalSource`` answers two questions: which role is ``arn:aws:iam::ACCT:role/NAME`` (its
trust policy, permission policies, boundary, maximum session duration), and which policies
apply to a directory user calling with a long-term key. The directory implements it
(``broker.sts.directory_source``); tests implement it over plain data. Every policy is
already parsed by ``broker.policy``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from broker.errors import StsError
from broker.policy import Policy

__all__ = [
    "PrincipalPolicies",
    "PrincipalSource",
    "RoleDefinition",
    "SamlProviderEntry",
    "WebIdentityProvider",
    "parse_role_arn",
]

_ROLE_ARN_RE = re.compile(
    r"arn:aws:iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})", re.ASCII
)


def parse_role_arn(arn: str) -> tuple[str, str, str]:
    """``(account, path, name)`` of a role ARN, or ``ValidationError`` as STS answers."""
    match = _ROLE_ARN_RE.fullmatch(arn)
    if match is None:
        raise StsError(f"{arn} is invalid", code="ValidationError")
    return match[1], "/" + match[2], match[3]


@dataclass(frozen=True)
class PrincipalPolicies:
    """The caller side of a decision: identity policies, boundary, SCPs per level."""

    identity: Sequence[Policy] = ()
    boundary: Policy | None = None
    scp_hierarchy: Sequence[Sequence[Policy]] = ()
    management_account: bool = False


@dataclass(frozen=True)
class RoleDefinition:
    """A role as IAM holds it."""

    arn: str
    account: str
    name: str
    trust_policy: Policy
    policies: PrincipalPolicies
    max_session_duration: int = 3600
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebIdentityProvider:
    """An IAM OpenID Connect provider entry: whose tokens an account trusts, for which clients.

    ``arn`` is ``arn:aws:iam::ACCT:oidc-provider/HOST/PATH`` (the issuer URL without its
    scheme), the principal trust policies name as ``Federated``. An empty ``jwks_uri`` means
    the keys are found through the issuer's discovery document.
    """

    arn: str
    issuer: str
    client_ids: tuple[str, ...]
    jwks_uri: str
    algorithms: tuple[str, ...] = ("RS256", "ES256")

    @property
    def condition_prefix(self) -> str:
        """``HOST/PATH``: the prefix of ``...:sub``, ``...:aud`` condition keys."""
        parts = urlsplit(self.issuer)
        return (parts.netloc + parts.path).rstrip("/")


@dataclass(frozen=True)
class SamlProviderEntry:
    """An IAM SAML provider entry: the IdP an account trusts and its pinned certificates.

    ``audience`` and ``acs_url`` are what the IdP must address its assertions to; by default
    AWS's own sign-in values, as IdPs configured for AWS send them.
    """

    arn: str
    idp_entity_id: str
    certificates: tuple[Any, ...]  # cryptography x509.Certificate, pinned from metadata
    audience: str = "urn:amazon:webservices"
    acs_url: str = "https://signin.aws.amazon.com/saml"


class PrincipalSource(Protocol):
    """Where roles and users' policies come from (the directory)."""

    def role(self, account: str, name: str) -> RoleDefinition | None:
        """The role ``name`` in ``account``, or ``None`` when there is none."""
        ...

    def user_policies(self, account: str, user: str) -> PrincipalPolicies:
        """The policies that apply to directory user ``user`` (empty when none)."""
        ...

    def web_identity_provider(self, account: str, issuer: str) -> WebIdentityProvider | None:
        """The OIDC provider ``account`` trusts for tokens from ``issuer``, if any."""
        ...

    def saml_provider(self, arn: str) -> SamlProviderEntry | None:
        """The SAML provider entry named by ``arn`` (``arn:aws:iam::ACCT:saml-provider/N``)."""
        ...

    def organization_id(self, account: str) -> str | None:
        """The organization ``account`` belongs to (``aws:PrincipalOrgID``), if it declares one."""
        ...

    def managed_policy(self, owner: str, name: str) -> Mapping[str, Any] | None:
        """The managed policy document ``name`` of ``owner`` (``aws`` for AWS managed ones, else
        an account id), or ``None`` when there is no such policy."""
        ...
