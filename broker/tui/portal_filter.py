"""The portal filter: live fuzzy match, exclusions, tag terms, ARNs, and a fixed order (TUI.md §3).

A query is split on whitespace into terms, all of which must hold:

* ``pay``: fuzzy (in-order subsequence, case-insensitive) over account name, id, email, role
  or permission set, and tag values; a run of digits (spaces and dashes ignored) matches the
  12-digit id as a substring;
* ``!term``: excludes rows that ``term`` matches;
* ``key=value``: the account carries tag ``key`` whose value fuzzy-matches ``value``;
* an ARN (``arn:aws:iam::123456789012:role/Name``, ``…:sts::…:assumed-role/Name/…``) selects
  its account and role exactly.

Order never depends on the query or on frequency, so muscle memory keeps working: favourites
(★1–9) first, then recent (last 10, newest first), then all others alphabetically by account
name, account id and role. Each row appears once. Matched characters are returned for
highlighting, computed only for the rows actually painted.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from broker.tui.model import PortalRole

__all__ = [
    "MAX_RECENT",
    "Query",
    "RoleFilter",
    "Section",
    "Shown",
    "filter_roles",
    "highlights",
    "parse_query",
]

MAX_RECENT = 10
_ARN = re.compile(
    r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):(?:role(?:/[\w+=,.@-]+)*/|assumed-role/)([\w+=,.@-]+)"
)
_DIGITS = re.compile(r"^[\d\s-]{4,}$")
_SEP = "\x00"


class Section(enum.Enum):
    """Where a row sits in the list."""

    FAVOURITE = "★ Favourites"
    RECENT = "Recent"
    ALL = "All"


@dataclass(frozen=True)
class Query:
    """A parsed filter: every term must match, no excluded term may."""

    terms: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    arn: tuple[str, str] | None = None

    @property
    def empty(self) -> bool:
        return not (self.terms or self.excludes or self.tags or self.arn)


def parse_query(text: str) -> Query:
    """Split the filter box's text into a ``Query``."""
    terms: list[str] = []
    excludes: list[str] = []
    tags: list[tuple[str, str]] = []
    arn: tuple[str, str] | None = None
    stripped = text.strip()
    if _DIGITS.match(stripped):
        return Query(terms=(re.sub(r"[\s-]", "", stripped),))
    for word in stripped.split():
        found = _ARN.match(word)
        if found:
            arn = (found.group(1), found.group(2))
        elif word.startswith("!"):
            if len(word) > 1:
                excludes.append(word[1:].lower())
        elif "=" in word and not word.startswith("="):
            key, _, value = word.partition("=")
            tags.append((key.lower(), value.lower()))
        else:
            terms.append(word.lower())
    return Query(tuple(terms), tuple(excludes), tuple(tags), arn)


def _pattern(term: str) -> re.Pattern[str]:
    """A regex matching ``term`` as an in-order subsequence inside one field.

    Digit terms are ids: they match only as a contiguous run, or ``1111`` would match most ids.
    """
    if term.isdigit():
        return re.compile(re.escape(term))
    return re.compile(f"[^{_SEP}]*?".join(re.escape(ch) for ch in term))


class _Index:
    """Each role's searchable text, lower-cased once, fields joined by NUL.

    A permission set's generated role name (``AWSReservedSSO_<set>_<hash>``) is left out: it
    only adds noise to fuzzy matches; the set's name is indexed, and an ARN finds the role.
    """

    __slots__ = ("haystack", "role", "tags")

    def __init__(self, role: PortalRole) -> None:
        self.role = role
        fields = [
            role.account_name,
            role.account_id,
            role.email,
            role.label,
            *role.tags.values(),
        ]
        self.haystack = _SEP.join(fields).lower()
        self.tags = {k.lower(): v.lower() for k, v in role.tags.items()}


@dataclass(frozen=True)
class Shown:
    """One visible row: its role, its section, and its favourite number (1–9) if any."""

    role: PortalRole
    section: Section
    favourite: int | None = None


def _matcher(query: Query) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    return [_pattern(t) for t in query.terms], [_pattern(t) for t in query.excludes]


def _keeps(
    entry: _Index,
    query: Query,
    terms: Sequence[re.Pattern[str]],
    excludes: Sequence[re.Pattern[str]],
) -> bool:
    if query.arn and (entry.role.account_id, entry.role.role_name) != query.arn:
        return False
    if any(p.search(entry.haystack) is None for p in terms):
        return False
    if any(p.search(entry.haystack) is not None for p in excludes):
        return False
    for key, value in query.tags:
        have = entry.tags.get(key)
        if have is None or (value and _pattern(value).search(have) is None):
            return False
    return True


class RoleFilter:
    """Holds the index of every role so each keystroke only filters (no re-indexing)."""

    def __init__(self, roles: Iterable[PortalRole]) -> None:
        ordered = sorted(
            roles, key=lambda r: (r.account_name.lower(), r.account_id, r.label.lower())
        )
        self._entries = [_Index(role) for role in ordered]
        self._by_key = {entry.role.key: entry for entry in self._entries}

    @property
    def total(self) -> int:
        return len(self._entries)

    def apply(
        self, query: Query, favourites: Sequence[str] = (), recent: Sequence[str] = ()
    ) -> list[Shown]:
        """The rows ``query`` keeps, in favourites → recent → all order."""
        terms, excludes = _matcher(query)
        placed: set[str] = set()
        out: list[Shown] = []
        for number, key in enumerate(favourites[:9], start=1):
            entry = self._by_key.get(key)
            if entry and key not in placed and _keeps(entry, query, terms, excludes):
                out.append(Shown(entry.role, Section.FAVOURITE, number))
            placed.add(key)
        for key in recent[:MAX_RECENT]:
            entry = self._by_key.get(key)
            if entry and key not in placed and _keeps(entry, query, terms, excludes):
                out.append(Shown(entry.role, Section.RECENT))
            placed.add(key)
        for entry in self._entries:
            if entry.role.key not in placed and _keeps(entry, query, terms, excludes):
                out.append(Shown(entry.role, Section.ALL))
        return out


def filter_roles(
    roles: Iterable[PortalRole],
    text: str,
    favourites: Sequence[str] = (),
    recent: Sequence[str] = (),
) -> list[Shown]:
    """One-shot convenience: index ``roles`` and apply the filter ``text``."""
    return RoleFilter(roles).apply(parse_query(text), favourites, recent)


def _subsequence(lowered: str, term: str) -> list[int] | None:
    positions: list[int] = []
    index = 0
    for ch in term:
        index = lowered.find(ch, index)
        if index < 0:
            return None
        positions.append(index)
        index += 1
    return positions


def highlights(text: str, query: Query) -> frozenset[int]:
    """Offsets in ``text`` to highlight for the query's positive terms.

    A contiguous occurrence is preferred (it reads best), else the leftmost subsequence.
    Digit terms match across the spaces of a grouped account id (``1111 2222``).
    """
    lowered = text.lower()
    marked: set[int] = set()
    words = list(query.terms) + [value for _key, value in query.tags if value]
    for term in words:
        if term.isdigit():
            kept = [i for i, ch in enumerate(lowered) if ch != " "]
            start = "".join(lowered[i] for i in kept).find(term)
            if start >= 0:
                marked.update(kept[start : start + len(term)])
            continue
        start = lowered.find(term)
        if start >= 0:
            marked.update(range(start, start + len(term)))
            continue
        marked.update(_subsequence(lowered, term) or ())
    return frozenset(marked)
