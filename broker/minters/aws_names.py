"""What the upstream STS calls say about the person: session names, SourceIdentity, session tags.

AWS's own limits (STS API reference): RoleSessionName and SourceIdentity are 2–64 characters
of ``[\\w+=,.@-]``; GetFederationToken's Name 2–32 of the same; a session tag key is 1–128 and a
value 0–256 characters of letters, digits, spaces and ``_ . : / = + - @``; at most 50 tags.

A name the broker derives from claims is made to fit (characters outside the set become ``-``,
then cut to length) because the person cannot change their email; a name the caller *asks for*
is refused when it does not fit, as STS would. A tag value that does not fit is refused rather
than altered: a policy may compare it.
"""

from __future__ import annotations

import re

from broker.errors import StsError
from providers.base import Claims

__all__ = ["derived_name", "name_for", "requested_name", "session_tags"]

_NAME_CHARS = re.compile(r"[^\w+=,.@-]", re.ASCII)
_NAME = re.compile(r"^[\w+=,.@-]+$", re.ASCII)
_TAG_VALUE = re.compile(r"^[\w .:/=+@-]*$")


def _person(claims: Claims) -> str:
    return claims.email or claims.subject


def derived_name(claims: Claims, limit: int) -> str:
    """A session or federated-user name for the person, made to fit AWS's rules."""
    name = _NAME_CHARS.sub("-", _person(claims))[:limit]
    return name if len(name) >= 2 else (name + "--")[:2]


def requested_name(value: str, limit: int, parameter: str) -> str:
    """A name the caller chose, checked against AWS's rules (``ValidationError`` if not)."""
    if not (2 <= len(value) <= limit and _NAME.match(value)):
        raise StsError(
            f"{parameter} must be 2-{limit} characters of letters, digits and _+=,.@-; "
            "choose another name",
            code="ValidationError",
        )
    return value


def name_for(claims: Claims, requested: str | None, limit: int, parameter: str) -> str:
    """The name to send: derived from the person unless the caller chose a different one.

    The credential chain passes the person's own email or subject as the session name; that is
    still "derived" (made to fit), while any other name is checked as the caller's choice.
    """
    if requested is None or requested in (claims.email, claims.subject):
        return derived_name(claims, limit)
    return requested_name(requested, limit, parameter)


def _claim_value(claims: Claims, claim: str) -> str | None:
    if claim == "groups":
        return ":".join(claims.groups) if claims.groups else None
    value: str | None = getattr(claims, claim)
    return value


def session_tags(claims: Claims, mapping: dict[str, str]) -> list[dict[str, str]]:
    """STS ``Tags`` from claims per ``mapping`` (tag key -> claim); absent claims are skipped.

    Raises:
        StsError: ``ValidationError`` when a claim's value does not fit a tag value.
    """
    tags: list[dict[str, str]] = []
    for key, claim in mapping.items():
        value = _claim_value(claims, claim)
        if value is None:
            continue
        if len(value) > 256 or not _TAG_VALUE.match(value):
            raise StsError(
                f"the {claim!r} claim does not fit an AWS session tag value (tag {key!r}: at most "
                "256 letters, digits, spaces and _.:/=+-@); map another claim to this tag",
                code="ValidationError",
            )
        tags.append({"Key": key, "Value": value})
    return tags
