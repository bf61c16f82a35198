"""Identity mapping: which directory user (and groups, and tags) an IdP's claims stand for.

Per provider (``[identity.<provider>]`` in ``directory/identity.toml``):

* ``user_claim`` names the claim that identifies the person: ``sub``, ``email``, ``name_id``
  (the SAML NameID, which providers put in ``Claims.subject``) or ``attr:NAME`` (any other
  claim or SAML attribute); ``match_on`` says which directory field it is compared with
  (``email``, case-insensitively, or ``name``). An email the IdP marks ``email_verified:
  false`` never identifies anyone (anyone could have typed it).
* ``groups_claim`` holds the IdP's group names; ``group_map`` turns them into directory groups.
  IdP groups without a mapping are ignored: the IdP cannot invent directory groups. A person's
  groups are their directory memberships plus their mapped IdP groups.
* ``unknown_users``: ``refuse`` (default) or ``jit``, which provisions the person just in time
  with only their mapped IdP groups and no direct assignments.
* ``principal_tags``: tag key -> claim name; these session/principal tags (for
  ``${aws:PrincipalTag/...}``) override the directory's tags of the same key, since the IdP is
  their source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Claims

__all__ = ["IdentityMapping", "claim_value", "claim_values"]


@dataclass(frozen=True)
class IdentityMapping:
    provider: str
    user_claim: str = "email"
    match_on: str = "email"
    groups_claim: str = "groups"
    group_map: Mapping[str, str] = field(default_factory=dict)
    unknown_users: str = "refuse"
    principal_tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, provider: str, data: Mapping[str, Any]) -> IdentityMapping:
        return cls(provider=provider, **data)

    def directory_groups(self, claims: Claims) -> tuple[str, ...]:
        """The directory groups the claims' IdP groups map to (unmapped ones dropped)."""
        names = claim_values(claims, self.groups_claim)
        return tuple(sorted({self.group_map[g] for g in names if g in self.group_map}))

    def claim_tags(self, claims: Claims) -> dict[str, str]:
        tags = {}
        for key, claim in self.principal_tags.items():
            value = claim_value(claims, claim)
            if value is not None:
                tags[key] = value
        return tags


def claim_values(claims: Claims, name: str) -> tuple[str, ...]:
    """Every value of claim ``name`` (``attr:`` prefix optional for attributes)."""
    if name == "groups":
        return claims.groups
    if name == "sub" or name == "name_id":
        return (claims.subject,)
    if name == "email":
        return (claims.email,) if claims.email else ()
    key = name.removeprefix("attr:")
    return tuple(claims.attributes.get(key, ()))


def claim_value(claims: Claims, name: str) -> str | None:
    """The first value of claim ``name``, or None."""
    values = claim_values(claims, name)
    return values[0] if values else None
