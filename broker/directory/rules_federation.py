"""Rules for IAM identity provider entries: what ``CreateOpenIDConnectProvider`` and
``CreateSAMLProvider`` accept, plus what the broker needs to verify tokens and assertions."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from broker.directory.federation_tables import oidc_provider_arn, saml_provider_arn
from broker.directory.findings import RuleContext
from broker.errors import ConfigError

__all__ = ["FederationRules"]

_SAML_NAME = re.compile(r"[\w.-]{1,128}")
_MAX_CLIENT_IDS = 100  # IAM's limit per OIDC provider
_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot name an issuer or key set; None when it can."""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return "no query or fragment allowed"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost"):
        return None
    return "use an https:// URL (plain http only on the loopback interface)"


class FederationRules(RuleContext):
    def _account_id(self, ref: str) -> str:
        account = self.spec.accounts.get(ref)
        return account.id if account else ref

    def _account(self, section: str, key: str, ref: str) -> None:
        if not self.account_ref(ref):
            self.error(section, f"{key}.account", f"account {ref!r} is not in the organization")

    def _unique(self, section: str, key: str, arn: str, seen: dict[str, int], i: int) -> None:
        """One entry per ARN in an account, as IAM refuses to create a second."""
        if arn in seen:
            self.error(section, key, f"duplicate provider {arn} (also {section}[{seen[arn]}])")
        seen.setdefault(arn, i)

    def oidc_providers(self) -> None:
        seen: dict[str, int] = {}
        for i, provider in enumerate(self.spec.oidc_providers):
            key = f"oidc_providers[{i}]"
            self._account("oidc_providers", key, provider.account)
            why = _url_problem(provider.url)
            if why:
                self.error("oidc_providers", f"{key}.url", f"{provider.url!r}: {why}")
            if provider.jwks_uri and (why := _url_problem(provider.jwks_uri)):
                self.error("oidc_providers", f"{key}.jwks_uri", f"{provider.jwks_uri!r}: {why}")
            if not 1 <= len(provider.client_ids) <= _MAX_CLIENT_IDS:
                self.error(
                    "oidc_providers", f"{key}.client_ids", "list 1 to 100 client ids (audiences)"
                )
            for client_id in provider.client_ids:
                if not 1 <= len(client_id) <= 255:
                    self.error(
                        "oidc_providers", f"{key}.client_ids", "a client id is 1-255 characters"
                    )
            unknown = sorted(set(provider.algorithms) - set(_ASYMMETRIC))
            if unknown or not provider.algorithms:
                self.error(
                    "oidc_providers",
                    f"{key}.algorithms",
                    f"use some of {', '.join(_ASYMMETRIC)} (not {', '.join(unknown) or 'none'})",
                )
            arn = oidc_provider_arn(self._account_id(provider.account), provider.url)
            self._unique("oidc_providers", f"{key}.url", arn, seen, i)
            self.tags("oidc_providers", f"{key}.tags", provider.tags)

    def saml_providers(self) -> None:
        seen: dict[str, int] = {}
        for i, provider in enumerate(self.spec.saml_providers):
            key = f"saml_providers[{i}]"
            self._account("saml_providers", key, provider.account)
            if not _SAML_NAME.fullmatch(provider.name):
                self.error("saml_providers", f"{key}.name", "a name is 1-128 of [A-Za-z0-9_.-]")
            arn = saml_provider_arn(self._account_id(provider.account), provider.name)
            self._unique("saml_providers", f"{key}.name", arn, seen, i)
            self._metadata(key, provider.metadata, provider.entity_id)
            self.tags("saml_providers", f"{key}.tags", provider.tags)

    def _metadata(self, key: str, name: str, entity_id: str) -> None:
        from broker.tokens.saml.metadata import signing_certificates_from_idp_metadata

        shown = f"saml/{name}.xml"
        path = self.source.saml_metadata / f"{name}.xml"
        if "/" in name or name.startswith("."):
            self.error("saml_providers", f"{key}.metadata", "name a file under saml/, no path")
            return
        try:
            data = path.read_bytes()
        except OSError:
            self.error("saml_providers", f"{key}.metadata", f"{shown} is missing; put it there")
            return
        try:
            certs = signing_certificates_from_idp_metadata(data, source=shown, entity_id=entity_id)
        except ConfigError as exc:
            self.error("saml_providers", f"{key}.metadata", str(exc))
            return
        if not certs:
            self.error(
                "saml_providers",
                f"{key}.metadata",
                f"{shown} lists no signing certificate for {entity_id!r}; export it again",
            )
