"""Reading and checking a signed Assertion (SAML Core §2, Profiles §4.1.4.2–4.1.4.3).

Every function here takes the element signxml returned as signed and nothing else. Text is read
by joining all text nodes, so a comment planted inside a value cannot truncate it
(CVE-2017-11427..11430).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from lxml import etree

from broker.errors import AuthenticationError
from broker.tokens.saml.names import NS

__all__ = ["AssertionFacts", "read_assertion", "refuse", "text_of", "xs_datetime"]

BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def refuse(reason: str) -> AuthenticationError:
    """The one error every failed check raises: one line, no message content."""
    return AuthenticationError(f"SAML response refused: {reason}")


def text_of(node: etree._Element) -> str:
    """All text inside ``node`` joined (never just ``.text``), surrounding space removed."""
    return "".join(str(part) for part in node.itertext()).strip()


def xs_datetime(value: str | None, what: str) -> datetime | None:
    """An ``xs:dateTime`` in UTC (SAML Core §1.3.3), or None when absent."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise refuse(f"{what} is not a valid time") from None
    if not _EARLIEST <= parsed <= _LATEST:  # leave room for skew and cache arithmetic
        raise refuse(f"{what} is not a valid time")
    return parsed


@dataclass(frozen=True)
class AssertionFacts:
    """What a verified assertion says, after every check passed."""

    id: str
    issuer: str
    name_id: str
    name_id_format: str | None
    in_response_to: str | None
    not_on_or_after: datetime
    authn_instant: datetime | None
    authn_context: str | None
    session_not_on_or_after: datetime | None
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _one(parent: etree._Element, path: str, what: str) -> etree._Element:
    found = parent.findall(path, NS)
    if len(found) != 1:
        raise refuse(f"expected exactly one {what}, found {len(found)}")
    return found[0]


def _check_window(
    not_before: datetime | None,
    not_on_or_after: datetime | None,
    now: datetime,
    skew: timedelta,
    what: str,
) -> None:
    if not_before is not None and now + skew < not_before:
        raise refuse(f"{what} is not yet valid")
    if not_on_or_after is not None and now - skew >= not_on_or_after:
        raise refuse(f"{what} has expired")


def _bearer_confirmation(
    subject: etree._Element, acs_url: str, now: datetime, skew: timedelta
) -> tuple[str | None, datetime]:
    """The InResponseTo and NotOnOrAfter of the one bearer confirmation meant for us."""
    reasons: list[str] = []
    for confirmation in subject.findall("saml:SubjectConfirmation", NS):
        if confirmation.get("Method") != BEARER:
            continue
        data = confirmation.findall("saml:SubjectConfirmationData", NS)
        if len(data) != 1:
            reasons.append("bearer confirmation without exactly one SubjectConfirmationData")
            continue
        (item,) = data
        if item.get("Recipient") != acs_url:
            reasons.append(f"Recipient is not {acs_url}")
            continue
        expiry = xs_datetime(item.get("NotOnOrAfter"), "SubjectConfirmationData NotOnOrAfter")
        if expiry is None:
            reasons.append("bearer confirmation has no NotOnOrAfter")
            continue
        _check_window(
            xs_datetime(item.get("NotBefore"), "SubjectConfirmationData NotBefore"),
            expiry,
            now,
            skew,
            "subject confirmation",
        )
        return item.get("InResponseTo"), expiry
    raise refuse(reasons[0] if reasons else "no bearer SubjectConfirmation")


def _attributes(assertion: etree._Element) -> dict[str, tuple[str, ...]]:
    values: dict[str, list[str]] = {}
    for attribute in assertion.findall("saml:AttributeStatement/saml:Attribute", NS):
        name = attribute.get("Name")
        if not name:
            raise refuse("an Attribute has no Name")
        bucket = values.setdefault(name, [])
        bucket.extend(text_of(v) for v in attribute.findall("saml:AttributeValue", NS))
    return {name: tuple(items) for name, items in values.items()}


def read_assertion(
    assertion: etree._Element,
    *,
    idp_entity_id: str,
    sp_entity_id: str,
    acs_url: str,
    now: datetime,
    skew: timedelta,
    single_confirmation: bool = False,
) -> AssertionFacts:
    """Check a signed assertion against SAML's Web Browser SSO rules and read its values.

    Raises:
        AuthenticationError: any rule broken, with the rule in the message.
    """
    assertion_id = assertion.get("ID")
    if not assertion_id or assertion.get("Version") != "2.0":
        raise refuse("Assertion lacks an ID or is not SAML 2.0")
    issuer = text_of(_one(assertion, "saml:Issuer", "assertion Issuer"))
    if issuer != idp_entity_id:
        raise refuse("assertion Issuer is not the configured IdP")

    subject = _one(assertion, "saml:Subject", "Subject")
    name_id_node = _one(subject, "saml:NameID", "NameID")
    name_id = text_of(name_id_node)
    if not name_id:
        raise refuse("NameID is empty")
    confirmations = subject.findall("saml:SubjectConfirmation", NS)
    if single_confirmation and len(confirmations) != 1:
        raise refuse(f"expected exactly one SubjectConfirmation, found {len(confirmations)}")
    in_response_to, confirmation_expiry = _bearer_confirmation(subject, acs_url, now, skew)

    conditions = _one(assertion, "saml:Conditions", "Conditions")
    not_on_or_after = xs_datetime(conditions.get("NotOnOrAfter"), "Conditions NotOnOrAfter")
    _check_window(
        xs_datetime(conditions.get("NotBefore"), "Conditions NotBefore"),
        not_on_or_after,
        now,
        skew,
        "assertion",
    )
    restrictions = conditions.findall("saml:AudienceRestriction", NS)
    if not restrictions:
        raise refuse("assertion has no AudienceRestriction")
    for restriction in restrictions:  # every restriction must admit us (SAML Core §2.5.1.4)
        audiences = {text_of(a) for a in restriction.findall("saml:Audience", NS)}
        if sp_entity_id not in audiences:
            raise refuse(f"the assertion's Audience does not name {sp_entity_id}")

    statements = assertion.findall("saml:AuthnStatement", NS)
    if not statements:
        raise refuse("assertion has no AuthnStatement")
    authn_instant = xs_datetime(statements[0].get("AuthnInstant"), "AuthnInstant")
    session_ends = [
        xs_datetime(s.get("SessionNotOnOrAfter"), "SessionNotOnOrAfter") for s in statements
    ]
    session_not_on_or_after = min((s for s in session_ends if s is not None), default=None)
    if session_not_on_or_after is not None and now - skew >= session_not_on_or_after:
        raise refuse("the IdP session (SessionNotOnOrAfter) has ended")
    refs = statements[0].findall("saml:AuthnContext/saml:AuthnContextClassRef", NS)
    authn_context = text_of(refs[0]) if refs else None

    bounds = [confirmation_expiry, *([not_on_or_after] if not_on_or_after else [])]
    return AssertionFacts(
        id=assertion_id,
        issuer=issuer,
        name_id=name_id,
        name_id_format=name_id_node.get("Format"),
        in_response_to=in_response_to,
        not_on_or_after=min(bounds),
        authn_instant=authn_instant,
        authn_context=authn_context,
        session_not_on_or_after=session_not_on_or_after,
        attributes=_attributes(assertion),
    )
