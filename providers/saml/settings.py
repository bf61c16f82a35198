"""The ``[providers.<name>]`` table of a SAML provider, validated strictly, and the pinned cert.

Example::

    [providers.corp]
    type = "saml"
    idp_entity_id = "https://idp.example.com/metadata"
    sso_url = "https://idp.example.com/sso/redirect"
    idp_certificate = "corp-idp.pem"      # or the IdP's metadata XML; relative to the config dir
    sp_entity_id = "urn:example:access-broker"
    groups_attribute = "groups"
    allow_idp_initiated = false
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

from broker.config import ConfigIssue, ConfigIssues, from_table
from broker.errors import ConfigError
from providers.saml.aws_endpoint import (
    DEFAULT_SIGNIN_URL,
    allowed_audiences,
    default_audience,
    signin_url_problem,
)

__all__ = ["MAX_CLOCK_SKEW", "SAMLSettings", "load_certificates", "load_settings"]

MIN_RSA_BITS = 2048  # NIST SP 800-131A, as for the OIDC side's JWKS keys
MAX_CLOCK_SKEW = 180  # docs/security.md: at most 180 s of skew on NotBefore / NotOnOrAfter


@dataclass(frozen=True)
class SAMLSettings:
    """One SAML identity provider, as configured.

    Attributes:
        type: always ``"saml"``.
        idp_entity_id: the IdP's entity id; a response's Issuer must equal it.
        sso_url: the IdP's SingleSignOnService for the HTTP-Redirect binding, where the
            loopback sign-in sends the browser. Required, except for an ``aws_federation``
            provider: its sign-in starts at the IdP's AWS application and the response is
            captured, so we never send anyone to the IdP (checked when given).
        idp_certificate: PEM file or IdP metadata XML holding the signing certificate(s),
            relative to the configuration directory. The only trust anchor: KeyInfo is ignored.
        sp_entity_id: our entity id; the assertion's Audience must contain it. Not for an
            ``aws_federation`` provider, whose responses are addressed to AWS (``aws_audience``).
        groups_attribute: the attribute whose values are the person's groups.
        email_attribute: the attribute holding the email (else an emailAddress NameID).
        name_attribute: the attribute holding the display name.
        allow_idp_initiated: accept unsolicited responses (no InResponseTo). Off by default.
        require_signed_response: also require the Response element itself to be signed.
        acs_port: loopback port of the assertion consumer service; 0 picks a free one per
            sign-in (the AuthnRequest names it). IdP-initiated sign-in needs a fixed port.
        clock_skew: seconds of tolerated clock difference, at most 180.
        session_seconds: how long a sign-in counts when the IdP sends no SessionNotOnOrAfter.
        mfa_contexts: AuthnContextClassRef values that mean multi-factor authentication.
        aws_federation: the stored response may be sent to AWS AssumeRoleWithSAML (the
            ``aws-saml`` minter). The sign-in then ends when the assertion does (its
            ``NotOnOrAfter``), since AWS refuses it after that. Its responses are addressed to
            AWS, not to us: they are captured with ``broker login NAME --saml-response``
            (see ``aws_endpoint.py``), and the loopback ACS settings do not apply.
        aws_signin_url: with ``aws_federation``, the AWS sign-in endpoint the response's
            Destination and Recipient must name (an allow-listed AWS shape; default
            ``https://signin.aws.amazon.com/saml``).
        aws_audience: with ``aws_federation``, the Audience the assertion must name (AWS's
            entity id of that partition by default, or the sign-in URL).
    """

    type: str
    idp_entity_id: str
    idp_certificate: str
    sso_url: str = ""
    sp_entity_id: str = ""
    groups_attribute: str = "groups"
    email_attribute: str = "email"
    name_attribute: str = "name"
    allow_idp_initiated: bool = False
    require_signed_response: bool = False
    acs_port: int = 0
    clock_skew: int = 120
    session_seconds: int = 3600
    mfa_contexts: tuple[str, ...] = (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "https://refeds.org/profile/mfa",
        "http://schemas.microsoft.com/claims/multipleauthn",
    )
    aws_federation: bool = False
    aws_signin_url: str | None = None
    aws_audience: str | None = None

    @property
    def signin_url(self) -> str:
        """Where a response for AWS must be addressed (``aws_federation`` providers)."""
        return DEFAULT_SIGNIN_URL if self.aws_signin_url is None else self.aws_signin_url

    @property
    def audience(self) -> str:
        """The Audience an accepted response must name: AWS's, or our entity id."""
        if not self.aws_federation:
            return self.sp_entity_id
        if self.aws_audience is None:
            return default_audience(self.signin_url)
        return self.aws_audience


def _check_aws(settings: SAMLSettings, bad: Callable[[str, str], None]) -> None:
    """An ``aws_federation`` provider's responses go to AWS: AWS's address and audience only,
    and none of the loopback ACS's settings (parsed but unused would be a silent hole)."""
    if not settings.aws_federation:
        for key in ("aws_signin_url", "aws_audience"):
            if getattr(settings, key) is not None:
                bad(key, "only for an aws_federation = true provider; remove it")
        return
    problem = signin_url_problem(settings.signin_url)
    if problem:
        bad("aws_signin_url", problem)
    elif settings.audience not in allowed_audiences(settings.signin_url):
        allowed = " or ".join(allowed_audiences(settings.signin_url))
        bad("aws_audience", f"must be {allowed} (what AWS accepts for aws_signin_url)")
    if settings.sp_entity_id:
        bad(
            "sp_entity_id",
            "responses for AWS name AWS as audience (aws_audience, default "
            f"{default_audience(settings.signin_url)}); remove it",
        )
    if settings.allow_idp_initiated or settings.acs_port:
        key = "allow_idp_initiated" if settings.allow_idp_initiated else "acs_port"
        bad(
            key,
            "an aws_federation provider has no loopback ACS (its responses are addressed to "
            "AWS and captured with `broker login NAME --saml-response`); remove it",
        )


def _check_sso_url(settings: SAMLSettings, bad: Callable[[str, str], None]) -> None:
    """Required where the loopback sign-in uses it; an ``aws_federation`` provider's is
    optional (its responses are captured), and checked when given."""
    if not settings.sso_url:
        if not settings.aws_federation:
            bad(
                "sso_url",
                "required key is missing (the IdP's HTTP-Redirect SSO endpoint, where "
                "`broker login` sends the browser)",
            )
        return
    sso = urlsplit(settings.sso_url)
    if sso.scheme not in ("https", "http") or not sso.hostname:
        bad("sso_url", "must be an http(s) URL of the IdP's HTTP-Redirect SSO endpoint")
    elif sso.scheme == "http" and sso.hostname not in ("127.0.0.1", "localhost", "::1"):
        bad("sso_url", "must use https (plain http only for a loopback test IdP)")


def _check(settings: SAMLSettings, file: str, prefix: str) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []

    def bad(key: str, message: str) -> None:
        issues.append(ConfigIssue(file, f"{prefix}.{key}", message))

    if settings.type != "saml":
        bad("type", f"expected 'saml', got {settings.type!r}")
    _check_sso_url(settings, bad)
    for key in ("idp_entity_id", "idp_certificate", "groups_attribute"):
        if not getattr(settings, key).strip():
            bad(key, "must not be empty")
    if not settings.aws_federation and not settings.sp_entity_id.strip():
        bad("sp_entity_id", "required key is missing (our entity id, the assertion's Audience)")
    _check_aws(settings, bad)
    if not 0 <= settings.acs_port <= 65535:
        bad("acs_port", "must be 0 (pick a free port) or a port number")
    if not 0 <= settings.clock_skew <= MAX_CLOCK_SKEW:
        bad("clock_skew", f"must be between 0 and {MAX_CLOCK_SKEW} seconds")
    if not 900 <= settings.session_seconds <= 129600:
        bad("session_seconds", "must be between 900 and 129600 seconds")
    if settings.allow_idp_initiated and settings.acs_port == 0 and not settings.aws_federation:
        bad("acs_port", "IdP-initiated sign-in needs a fixed acs_port the IdP can post to")
    return issues


def load_settings(name: str, table: Mapping[str, Any], *, file: str) -> SAMLSettings:
    """Validate ``[providers.<name>]``.

    Raises:
        ConfigError: every problem at once (``ConfigIssues``), each with file and key.
    """
    prefix = f"providers.{name}"
    settings, issues = from_table(SAMLSettings, table, file=file, prefix=prefix)
    if (
        settings is None
        and table.get("aws_federation") is not True
        and not ("sp_entity_id" in table or "sp-entity-id" in table)
    ):  # required unless the responses go to AWS; reported beside every other problem
        issues.append(ConfigIssue(file, f"{prefix}.sp_entity_id", "required key is missing"))
    if settings is not None:
        issues.extend(_check(settings, file, prefix))
    if issues or settings is None:
        raise ConfigIssues(issues)
    return settings


def load_certificates(path: Path, entity_id: str) -> tuple[x509.Certificate, ...]:
    """The signing certificate(s) of IdP ``entity_id`` pinned in a PEM file or its metadata XML.

    Raises:
        ConfigError: the file is missing or holds no usable certificate.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the IdP certificate ({exc.strerror}); fix idp_certificate"
        ) from None
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            certs = tuple(x509.load_pem_x509_certificates(data))
        except ValueError:
            raise ConfigError(f"{path}: not a valid PEM certificate; fix idp_certificate") from None
    else:
        from broker.tokens.saml.metadata import signing_certificates_from_idp_metadata

        certs = signing_certificates_from_idp_metadata(data, source=str(path), entity_id=entity_id)
    if not certs:
        raise ConfigError(f"{path}: holds no signing certificate; fix idp_certificate")
    for cert in certs:
        weakness = _weak_key(cert)
        if weakness:
            raise ConfigError(
                f"{path}: the IdP certificate's key is {weakness}; pin an RSA key of at least "
                f"{MIN_RSA_BITS} bits or an ECDSA P-256+ key"
            )
    return certs


def _weak_key(cert: x509.Certificate) -> str | None:
    """Why the certificate's key cannot be trusted to sign responses, or None."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return f"RSA of {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 256:
        return f"an EC key on {key.curve.name}"
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA, which is refused"
    return None
