"""AWS Signature Version 4 verification (the ``Authorization`` header form).

The server rebuilds the canonical request from what it received, derives the signing key from
the caller's secret (looked up by access key id — and, for session credentials, re-derived
from the security token, which is verified and bound to that key id), and compares signatures
with ``hmac.compare_digest``. It also insists on: ``X-Amz-Date`` within ±5 minutes of the
server's clock; a credential scope dated ``X-Amz-Date``'s day, naming an accepted region and
this service, ending in ``aws4_request``; ``host`` and ``x-amz-date`` (and the security token,
when sent) among the signed headers; the payload hash matching the body.
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Generic, TypeVar
from urllib.parse import parse_qsl, quote

from broker.errors import StsError

__all__ = [
    "CLOCK_WINDOW",
    "SIGNATURE_MISMATCH",
    "ParsedAuthorization",
    "SignedRequest",
    "Verified",
    "parse_authorization",
    "verify_sigv4",
]

CLOCK_WINDOW = timedelta(minutes=5)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_ALGORITHM = "AWS4-HMAC-SHA256"
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_BASIC = "%Y%m%dT%H%M%SZ"
_BASIC_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")
T = TypeVar("T")


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as received. ``headers`` keys are lower-case; repeats joined by ``,``."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class ParsedAuthorization:
    """The parts of an ``Authorization: AWS4-HMAC-SHA256 ...`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


@dataclass(frozen=True)
class Verified(Generic[T]):
    """A request whose signature checked out, with what the secret lookup returned."""

    authorization: ParsedAuthorization
    principal: T


def _incomplete(message: str) -> StsError:
    return StsError(message, code="IncompleteSignature")


def parse_authorization(request: SignedRequest) -> ParsedAuthorization:
    """Parse the header; ``MissingAuthenticationToken`` / ``IncompleteSignature`` when wrong."""
    header = request.headers.get("authorization")
    if not header:
        raise StsError("Request is missing Authentication Token", code="MissingAuthenticationToken")
    if not header.startswith(_ALGORITHM + " "):
        raise _incomplete(f"Unsupported signing algorithm; only {_ALGORITHM} is accepted.")
    match = _AUTH_RE.match(header.strip())
    if match is None:
        raise _incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "parameters."
        )
    parts = match["credential"].split("/")
    if len(parts) != 5:
        raise _incomplete("Credential should be of the form KEY/DATE/REGION/SERVICE/aws4_request.")
    signed = tuple(match["signed"].split(";"))
    key_id, date, region, service, terminator = parts
    return ParsedAuthorization(
        key_id, date, region, service, terminator, signed, signature=match["signature"]
    )


def _canonical_query(raw: str) -> str:
    pairs = parse_qsl(raw, keep_blank_values=True)
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _canonical_path(path: str) -> str:
    normalized = posixpath.normpath(path or "/")
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return quote(normalized if normalized != "." else "/", safe="/~")


def canonical_request(request: SignedRequest, auth: ParsedAuthorization, payload: str) -> str:
    """SigV4's canonical request for ``request`` as the client must have built it."""
    headers = "".join(
        f"{name}:{' '.join(request.headers[name].split())}\n" for name in auth.signed_headers
    )
    return "\n".join(
        (
            request.method.upper(),
            _canonical_path(request.path),
            _canonical_query(request.query),
            headers,
            ";".join(auth.signed_headers),
            payload,
        )
    )


def _mac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


@lru_cache(maxsize=1024)
def _signing_key(secret: str, date: str, region: str, service: str, terminator: str) -> bytes:
    """SigV4's derived key: four HMACs that give the same key for every request a credential
    signs on one day for one region and service, so it is kept (as AWS's SDKs keep theirs).
    Bounded, in this process's memory only, which already holds every secret it verifies."""
    key = _mac(("AWS4" + secret).encode(), date)
    for part in (region, service, terminator):
        key = _mac(key, part)
    return key


def _signature(secret: str, auth: ParsedAuthorization, amz_date: str, canonical: str) -> str:
    key = _signing_key(secret, auth.date, auth.region, auth.service, auth.terminator)
    to_sign = "\n".join(
        (_ALGORITHM, amz_date, auth.scope, hashlib.sha256(canonical.encode()).hexdigest())
    )
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _check_headers(request: SignedRequest, auth: ParsedAuthorization) -> str:
    signed = auth.signed_headers
    if list(signed) != sorted(set(signed)):
        raise _incomplete("SignedHeaders must be lower-case, sorted and without repeats.")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            raise _incomplete(f"'{required}' must be a signed header.")
    if "x-amz-security-token" in request.headers and "x-amz-security-token" not in signed:
        raise _incomplete("'x-amz-security-token' must be a signed header.")
    missing = [name for name in signed if name not in request.headers]
    if missing:
        raise _incomplete(f"Signed header '{missing[0]}' is not in the request.")
    return request.headers["x-amz-date"]


def _amz_date(text: str) -> datetime:
    """``X-Amz-Date`` (``20150830T123600Z``) as a UTC time: a fixed-width parse, not strptime,
    which cost more than the rest of the clock and scope checks together."""
    if _BASIC_RE.match(text) is None:
        raise _incomplete("X-Amz-Date must be in the ISO 8601 basic format.")
    try:
        return datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[9:11]),
            int(text[11:13]),
            int(text[13:15]),
            tzinfo=UTC,
        )
    except ValueError:  # month 13, hour 25, ...
        raise _incomplete("X-Amz-Date must be in the ISO 8601 basic format.") from None


def _check_clock_and_scope(
    auth: ParsedAuthorization,
    amz_date: str,
    now: datetime,
    regions: Collection[str] | None,
    service: str,
) -> None:
    when = _amz_date(amz_date)
    if when < now - CLOCK_WINDOW:
        raise StsError(
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - CLOCK_WINDOW).strftime(_BASIC)} ({now.strftime(_BASIC)} - 5 min.)",
            code="SignatureDoesNotMatch",
        )
    if when > now + CLOCK_WINDOW:
        raise StsError(
            f"Signature not yet current: {amz_date} is still later than "
            f"{(now + CLOCK_WINDOW).strftime(_BASIC)} ({now.strftime(_BASIC)} + 5 min.)",
            code="SignatureDoesNotMatch",
        )
    if auth.date != amz_date[:8]:
        raise StsError(
            f"Credential should be scoped to a valid date ('{amz_date[:8]}' from X-Amz-Date).",
            code="SignatureDoesNotMatch",
        )
    if auth.terminator != "aws4_request":
        raise StsError(
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
            code="SignatureDoesNotMatch",
        )
    if auth.service != service:
        raise StsError(
            f"Credential should be scoped to correct service: '{service}'.",
            code="SignatureDoesNotMatch",
        )
    if regions is not None and auth.region not in regions:
        raise StsError(
            "Credential should be scoped to a valid region.", code="SignatureDoesNotMatch"
        )


def verify_sigv4(
    request: SignedRequest,
    secret_for: Callable[[str, str | None], tuple[str, T]],
    *,
    service: str = "sts",
    regions: Collection[str] | None = None,
    now: datetime | None = None,
) -> Verified[T]:
    """Verify ``request``'s signature.

    Args:
        secret_for: ``(access_key_id, security_token or None) -> (secret, principal)``; raises
            ``StsError(InvalidClientTokenId/ExpiredToken)`` for unknown keys, tokens not bound to
            the key id, revoked or expired sessions.
        service: the service the scope must name.
        regions: accepted scope regions (``None``: any).
        now: the server's clock.

    Raises:
        StsError: with STS's code (MissingAuthenticationToken, IncompleteSignature,
            SignatureDoesNotMatch, InvalidClientTokenId, ExpiredToken).
    """
    now = now or datetime.now(UTC)
    auth = parse_authorization(request)
    amz_date = _check_headers(request, auth)
    _check_clock_and_scope(auth, amz_date, now, regions, service)
    payload = hashlib.sha256(request.body).hexdigest()
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed is not None and not hmac.compare_digest(claimed, payload):
        raise StsError(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            code="SignatureDoesNotMatch",
        )
    secret, principal = secret_for(auth.access_key_id, request.headers.get("x-amz-security-token"))
    expected = _signature(secret, auth, amz_date, canonical_request(request, auth, payload))
    if not hmac.compare_digest(expected, auth.signature):
        raise StsError(SIGNATURE_MISMATCH, code="SignatureDoesNotMatch")
    return Verified(auth, principal)
