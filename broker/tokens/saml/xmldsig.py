"""XML-DSig verification of SAML signatures with signxml, trust pinned to the IdP certificate.

Only RSA-SHA256/384/512 and ECDSA-SHA256/384/512 signatures with SHA-2 digests are accepted:
SHA-1, DSA and HMAC are refused. The signature must sit at one pinned location and carry exactly
one reference; any KeyInfo in the message is never used to decide trust (``x509_cert`` wins).
"""

from __future__ import annotations

from cryptography import x509
from lxml import etree
from signxml import (  # type: ignore[attr-defined]
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLVerifier,
)
from signxml.exceptions import InvalidInput, SignXMLException

from broker.errors import AuthenticationError
from broker.tokens.saml.safe_xml import hardened_parser

__all__ = ["ALLOWED_DIGESTS", "ALLOWED_SIGNATURE_METHODS", "verify_enveloped"]

ALLOWED_SIGNATURE_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
    }
)
ALLOWED_DIGESTS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)


def verify_enveloped(
    root: etree._Element,
    *,
    location: str,
    certificates: tuple[x509.Certificate, ...],
    what: str,
) -> etree._Element:
    """Verify the signature at ``location`` (an ElementPath ending in ``/``) under ``root``.

    Returns:
        The signed element exactly as signxml re-read it from the canonical bytes it verified
        (comments excised, text nodes whole): the only copy callers may read values from.

    Raises:
        AuthenticationError: no signature there, a refused algorithm, or no pinned certificate
            verifies it.
    """
    config = SignatureConfiguration(
        require_x509=True,
        location=location,
        expect_references=1,
        signature_methods=ALLOWED_SIGNATURE_METHODS,
        digest_algorithms=ALLOWED_DIGESTS,
        ignore_ambiguous_key_info=True,
    )
    last = "no pinned certificate"
    for certificate in certificates:
        try:
            result = XMLVerifier().verify(
                root,
                x509_cert=certificate,
                parser=hardened_parser(),
                expect_config=config,
            )
        except etree.LxmlError:
            raise AuthenticationError(
                f"SAML response refused: {what}: the Signature element is not valid XML-DSig"
            ) from None
        except InvalidInput as exc:
            # Structural problems (missing signature, refused algorithm, a Signature element
            # against the XML-DSig schema) do not depend on which pinned certificate we try.
            raise AuthenticationError(f"SAML response refused: {what}: {_reason(exc)}") from None
        except (SignXMLException, ValueError, TypeError) as exc:
            # TypeError: signxml assumes elements have text (an empty SignatureValue).
            last = _reason(exc)
            continue
        if isinstance(result, list):  # cannot happen with expect_references=1
            raise AuthenticationError(f"SAML response refused: {what}: several references")
        signed = result.signed_xml
        if not isinstance(signed, etree._Element):
            raise AuthenticationError(f"SAML response refused: {what}: signed data is not XML")
        return signed
    raise AuthenticationError(f"SAML response refused: {what}: {last}")


def _reason(exc: Exception) -> str:
    """signxml's message on one line of printable ASCII (it may quote IDs from the message)."""
    printable = "".join(c if c.isascii() and c.isprintable() else " " for c in str(exc))
    return " ".join(printable.split())[:160] or type(exc).__name__
