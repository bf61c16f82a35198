"""OpenID Connect Core 1.0 §3.1.3.7: ID Token validation, every step, in the spec's order.

Signature checking is joserfc's (authlib's JOSE library); everything around it is here so each
rule of docs/security.md is visible in one place: size cap, compact JWS only (no JWE, no ``none``),
the algorithm allow-list bound to the key type, no unknown ``crit``, ``iss`` exact, ``aud``
and ``azp``, ``exp``/``iat`` with a small leeway, ``nonce`` equal.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key

from broker.errors import AuthenticationError
from broker.tokens.oidc.jwks import ALGORITHM_KEY_TYPES

__all__ = ["IdTokenRules", "KeyLookup", "validate_id_token"]

KeyLookup = Callable[[str | None, str], Key]
"""``(kid, alg) -> key``; raises ``AuthenticationError`` when no published key fits."""


@dataclass(frozen=True)
class IdTokenRules:
    """What a valid ID token from this issuer, for this client, looks like."""

    issuer: str
    client_id: str
    algorithms: tuple[str, ...]
    leeway: int = 60
    max_bytes: int = 16 * 1024
    trusted_audiences: tuple[str, ...] = ()
    """Audiences besides ``client_id`` that may appear in ``aud`` (OIDC Core 3.1.3.7 step 3:
    refuse "additional audiences not trusted by the Client"). Empty: ours alone."""
    sts_audience: bool = False
    """AssumeRoleWithWebIdentity's rule instead of the client's: ``aud`` need only list
    ``client_id`` (one of the IAM OIDC provider's client ids); STS documents no check of
    other audiences or of ``azp``, so neither is made."""


def _refuse(message: str, code: str = "invalid_id_token") -> AuthenticationError:
    return AuthenticationError(f"ID token refused: {message}; sign in again", code=code)


def _b64json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _header(token: str, rules: IdTokenRules) -> dict[str, Any]:
    if len(token) > rules.max_bytes:
        raise _refuse("it is larger than the size cap")
    parts = token.split(".")
    if len(parts) != 3:
        # Five parts would be JWE: an encrypted ID token is never accepted (no keys for it).
        raise _refuse("not a compact signed JWT")
    try:
        header = _b64json(parts[0])
    except (ValueError, UnicodeError):
        raise _refuse("its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise _refuse("its header is not a JSON object")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in rules.algorithms or alg not in ALGORITHM_KEY_TYPES:
        # Covers "none" and every HS* (an HMAC keyed with the IdP's public key).
        raise _refuse(f"algorithm {str(alg)[:16]!r} is not allowed", code="invalid_algorithm")
    if "crit" in header:
        raise _refuse("it names critical header parameters the broker does not understand")
    typ = header.get("typ")
    if typ is not None and str(typ).upper() != "JWT":
        raise _refuse("its type is not JWT")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _refuse("its key id is not a string")
    return header


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"claim {name!r} is missing or not a number")
    return float(value)


def _check_audience(claims: dict[str, Any], rules: IdTokenRules) -> None:
    """Steps 3-5: ``aud`` lists us and no one we do not trust; ``azp`` is us when present,
    and present when there are several audiences."""
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or rules.client_id not in audiences:
        raise _refuse("it was issued for another client", code="invalid_audience")
    if any(not isinstance(a, str) for a in audiences):
        raise _refuse("its audience is malformed", code="invalid_audience")
    if rules.sts_audience:
        return
    trusted = {rules.client_id, *rules.trusted_audiences}
    if any(a not in trusted for a in audiences):
        raise _refuse(
            "it also names an audience this provider does not trust "
            "(list it in trusted_audiences if it should be)",
            code="invalid_audience",
        )
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise _refuse("several audiences but no authorized party", code="invalid_audience")
    if azp is not None and azp != rules.client_id:
        raise _refuse("it was issued to another authorized party", code="invalid_audience")


def validate_id_token(
    token: str,
    keys: KeyLookup,
    rules: IdTokenRules,
    *,
    nonce: str | None,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The verified claims of ``token``.

    Args:
        token: the compact JWS from the token endpoint.
        keys: finds the issuer's key for ``(kid, alg)`` (a ``JWKSCache.key_for``).
        rules: issuer, client id, algorithms, leeway, size cap.
        nonce: the nonce sent with this authentication request; ``None`` only for refreshed
            tokens (OIDC Core §12.2), where a nonce, if present, is not ours to check.
        now: the clock (seconds since the epoch).

    Raises:
        AuthenticationError: any check failed (``code`` says which kind).
    """
    header = _header(token, rules)
    alg = str(header["alg"])
    key = keys(header.get("kid"), alg)
    try:
        verified = jws.deserialize_compact(token, key, algorithms=[alg])
    except JoseError:
        raise _refuse("bad signature", code="invalid_signature") from None
    try:
        claims = json.loads(verified.payload)
    except ValueError:
        raise _refuse("its payload is not JSON") from None
    if not isinstance(claims, dict):
        raise _refuse("its payload is not a JSON object")

    # 2. iss exactly equal.
    if claims.get("iss") != rules.issuer:
        raise _refuse("wrong issuer", code="invalid_issuer")
    _check_audience(claims, rules)
    # 9. exp in the future; 10. iat not in the future (both with leeway).
    current = now()
    if _number(claims, "exp") <= current - rules.leeway:
        raise _refuse("it has expired", code="expired")
    if _number(claims, "iat") > current + rules.leeway:
        raise _refuse("it was issued in the future", code="invalid_iat")
    if "nbf" in claims and _number(claims, "nbf") > current + rules.leeway:
        raise _refuse("it is not valid yet", code="invalid_nbf")
    # 11. nonce equal to the one we sent.
    if nonce is not None:
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
            raise _refuse("wrong nonce", code="invalid_nonce")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise _refuse("its subject is missing or malformed")
    return claims
