"""Queries about the IAM identity providers each account trusts (OIDC issuers, SAML IdPs)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from broker.directory.handle import DatabaseHandle, tags_of

__all__ = ["FederationQueries", "OidcProvider", "SamlProvider"]


@dataclass(frozen=True)
class OidcProvider:
    """An account's OpenID Connect provider entry (as ``GetOpenIDConnectProvider`` shows it).

    ``jwks_uri`` is empty when the keys are to be found through the issuer's discovery
    document.
    """

    arn: str
    account_id: str
    url: str
    client_ids: tuple[str, ...]
    jwks_uri: str
    algorithms: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SamlProvider:
    """An account's SAML provider entry: the IdP's entity id and its metadata document."""

    arn: str
    account_id: str
    name: str
    entity_id: str
    metadata: str
    audience: str
    acs_url: str
    tags: Mapping[str, str] = field(default_factory=dict)


def _oidc(row: tuple[object, ...]) -> OidcProvider:
    arn, account, url, client_ids, jwks_uri, algorithms, tags = row
    return OidcProvider(
        str(arn),
        str(account),
        str(url),
        tuple(json.loads(str(client_ids))),
        str(jwks_uri),
        tuple(json.loads(str(algorithms))),
        tags_of(str(tags)),
    )


def _saml(row: tuple[object, ...]) -> SamlProvider:
    arn, account, name, entity_id, metadata, audience, acs_url, tags = row
    return SamlProvider(
        str(arn),
        str(account),
        str(name),
        str(entity_id),
        str(metadata),
        str(audience),
        str(acs_url),
        tags_of(str(tags)),
    )


class FederationQueries(DatabaseHandle):
    def oidc_providers(self) -> list[OidcProvider]:
        return [_oidc(r) for r in self._rows("SELECT * FROM oidc_providers ORDER BY arn")]

    def oidc_provider(self, account_id: str, issuer: str) -> OidcProvider | None:
        """The entry of ``account_id`` for tokens whose ``iss`` is exactly ``issuer``."""
        rows = self._rows(
            "SELECT * FROM oidc_providers WHERE account_id = ? AND url = ?", (account_id, issuer)
        )
        return _oidc(rows[0]) if rows else None

    def saml_providers(self) -> list[SamlProvider]:
        return [_saml(r) for r in self._rows("SELECT * FROM saml_providers ORDER BY arn")]

    def saml_provider(self, arn: str) -> SamlProvider | None:
        """The entry ``arn:aws:iam::ACCT:saml-provider/NAME``, or None."""
        rows = self._rows("SELECT * FROM saml_providers WHERE arn = ?", (arn,))
        return _saml(rows[0]) if rows else None
