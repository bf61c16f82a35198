"""Bounds on what an STS Query API request may carry, checked before any work is done on it.

STS requests are small: the largest value AWS documents is a SAML response of at most 100,000
characters. So a body, a query string, a parameter count and every parameter's length are
capped here, at AWS's documented maximum lengths for the parameters STS knows (the STS API
reference's "Length Constraints"), and at a fixed default for any other name. A request over a
bound is refused before it is parsed further, and its audit event never holds the oversized
value (``audited_parameters``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from broker.errors import StsError, one_printable_line

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_PARAMETERS",
    "audited_parameters",
    "check_parameter_lengths",
    "parse_parameters",
    "refuse_unsupported",
    "too_large",
]

MAX_BODY_BYTES = 256 * 1024
"""The largest form body (or query string) accepted: a 100,000-character SAML response,
percent-encoded, with every other parameter at its maximum, fits with room to spare."""

MAX_PARAMETERS = 256
"""More than any STS operation can use (50 tags, 50 transitive keys, 10 policy ARNs, ...)."""

_MAX_NAME = 256
"""The longest parameter name (STS's longest is ``ProvidedContexts.member.N.ContextAssertion``)."""

_OTHER_MAX = 2048
"""The longest value of a parameter STS does not define (such a parameter is never used nor
recorded; 2048 lets a stray ``X-Amz-Security-Token`` reach the signature check, which then
refuses the request as before, instead of failing here first)."""

_UNAUTHENTICATED_VALUE = 256
"""The longest value recorded for a request that was refused before it was authenticated."""

# AWS's maximum lengths (STS API reference, Length Constraints); minimums and patterns are
# checked by each operation, where their messages can name the rule.
_MAX_LENGTH: dict[str, int] = {
    "Action": 64,
    "Version": 16,
    "RoleArn": 2048,
    "PrincipalArn": 2048,
    "RoleSessionName": 64,
    "SourceIdentity": 64,
    "ExternalId": 1224,
    "Name": 32,
    "Policy": 2048,
    "DurationSeconds": 16,
    "SerialNumber": 256,
    "TokenCode": 6,
    "SAMLAssertion": 100_000,
    "WebIdentityToken": 20_000,
    "ProviderId": 2048,
}
_MEMBER_MAX_LENGTH: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"PolicyArns\.member\.[1-9][0-9]?\.arn", re.ASCII), 2048),
    (re.compile(r"Tags\.member\.[1-9][0-9]?\.Key", re.ASCII), 128),
    (re.compile(r"Tags\.member\.[1-9][0-9]?\.Value", re.ASCII), 256),
    (re.compile(r"TransitiveTagKeys\.member\.[1-9][0-9]?", re.ASCII), 128),
)
_SCALAR_AUDITED = frozenset(_MAX_LENGTH) - {"Action", "Version"}


def _known_limit(name: str) -> int | None:
    limit = _MAX_LENGTH.get(name)
    if limit is not None:
        return limit
    for pattern, member_limit in _MEMBER_MAX_LENGTH:
        if pattern.fullmatch(name):
            return member_limit
    return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def too_large() -> StsError:
    """The refusal of a body or query string over ``MAX_BODY_BYTES``."""
    return StsError(
        f"The request is larger than this service accepts ({MAX_BODY_BYTES} bytes); STS "
        "requests are small: check what the client sends.",
        code="RequestEntityTooLarge",
    )


def parse_parameters(query: str, body: bytes) -> dict[str, str]:
    """The request's parameters (the body's win over the query string's), at most
    ``MAX_PARAMETERS`` of them, each within its length bound.

    Raises:
        StsError: ``RequestEntityTooLarge`` (too many parameters or bytes) or
            ``ValidationError`` (one value or name too long).
    """
    if len(query) > MAX_BODY_BYTES or len(body) > MAX_BODY_BYTES:
        raise too_large()
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_PARAMETERS))
        from_body = parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_PARAMETERS
        )
    except ValueError:
        raise StsError(
            f"The request has more than {MAX_PARAMETERS} parameters; STS requests have fewer.",
            code="RequestEntityTooLarge",
        ) from None
    params.update(from_body)
    if len(params) > MAX_PARAMETERS:
        raise StsError(
            f"The request has more than {MAX_PARAMETERS} parameters; STS requests have fewer.",
            code="RequestEntityTooLarge",
        )
    check_parameter_lengths(params)
    return params


_UNSUPPORTED: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"ProvidedContexts(\..*)?", re.ASCII | re.DOTALL),
        "ProvidedContexts (trusted identity propagation) is not supported by this broker",
    ),
    (
        re.compile(r"ProviderId", re.ASCII),
        "ProviderId (OAuth 2.0 access tokens of Login with Amazon or Facebook) is not supported "
        "by this broker: send an OpenID Connect ID token without it",
    ),
)
"""Parameters AWS defines that the broker does not enforce. Fail closed: a request carrying one
is refused, never answered as if the parameter had been applied."""


def refuse_unsupported(params: Mapping[str, str]) -> None:
    """Refuse a request that carries a parameter the broker would otherwise ignore.

    Raises:
        StsError: ``ValidationError`` naming the parameter.
    """
    for name in params:
        for pattern, why in _UNSUPPORTED:
            if pattern.fullmatch(name):
                raise StsError(f"{why}; remove it from the request.", code="ValidationError")


def check_parameter_lengths(params: Mapping[str, str]) -> None:
    """Refuse the first parameter longer than AWS allows (or, unknown, than ``_OTHER_MAX``).

    The message names the parameter and the bound, never the value (which may be a secret, or
    megabytes long).
    """
    for name, value in params.items():
        limit = _known_limit(name)
        if limit is None:
            if len(name) > _MAX_NAME:
                raise StsError(
                    f"1 validation error detected: a parameter name is longer than "
                    f"{_MAX_NAME} characters",
                    code="ValidationError",
                )
            limit = _OTHER_MAX
        if len(value) > limit:
            field = one_printable_line(_camel(name))
            raise StsError(
                f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {limit}",
                code="ValidationError",
            )


def audited_parameters(params: Mapping[str, str], *, authenticated: bool) -> dict[str, str]:
    """The parameters an audit event records: only names STS defines, each value bounded.

    An authenticated (or successfully federated) call records every STS parameter it sent,
    each within AWS's length for it. A call refused before anyone was authenticated records
    only the scalar STS parameters, each cut to ``_UNAUTHENTICATED_VALUE`` characters, so an
    anonymous flood of long or made-up fields cannot grow the log by more than a small bound
    per request. Secrets among them are removed later by ``broker.audit.redact``.
    """
    out: dict[str, str] = {}
    for name, value in params.items():
        if name in ("Action", "Version"):
            continue
        if authenticated:
            limit = _known_limit(name)
            if limit is not None:
                out[_camel(name)] = value[:limit]
        elif name in _SCALAR_AUDITED:
            out[_camel(name)] = value[:_UNAUTHENTICATED_VALUE]
    return out
