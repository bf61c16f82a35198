"""The portal filter: live fuzzy match, exclusions, tag terms, ARNs, a fixed order (docs/tui.md §3).

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

import bisect
import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, overload

from broker.tui.model import PortalRole

__all__ = [
    "MAX_RECENT",
    "Filtered",
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
    return re.compile("[^\\x00\\n]*?".join(re.escape(ch) for ch in term))


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


class Shown(NamedTuple):
    """One visible row: its role, its section, and its favourite number (1–9) if any.

    A named tuple, not a dataclass: a filter may build ten thousand of them per keystroke.
    """

    role: PortalRole
    section: Section
    favourite: int | None = None


class RoleFilter:
    """Holds the index of every role so each keystroke only filters (no re-indexing).

    The rows each term matches are cached; as a term grows by typing (``pa`` → ``pay``) only
    the rows its prefix matched are searched again, since a longer term can only match fewer.
    """

    _CACHE_LIMIT = 256

    def __init__(self, roles: Iterable[PortalRole]) -> None:
        ordered = sorted(
            roles, key=lambda r: (r.account_name.lower(), r.account_id, r.label.lower())
        )
        self._entries = [_Index(role) for role in ordered]
        self._hays = [entry.haystack for entry in self._entries]
        self._by_key = {entry.role.key: index for index, entry in enumerate(self._entries)}
        accounts: dict[str, int] = {}
        self._account_of = [
            accounts.setdefault(entry.role.account_id, len(accounts)) for entry in self._entries
        ]
        self._accounts_total = len(accounts)
        self._cache: dict[str, tuple[int, ...]] = {}

    @property
    def total(self) -> int:
        return len(self._entries)

    def row_of(self, key: str) -> int | None:
        """The row number of the role with ``key``."""
        return self._by_key.get(key)

    def _rows(self, term: str) -> tuple[int, ...]:
        """Indices (ascending) of the rows ``term`` matches within one field."""
        cached = self._cache.get(term)
        if cached is not None:
            return cached
        search = _pattern(term).search
        hays = self._hays
        base: tuple[int, ...] | None = None
        for cut in range(len(term) - 1, 0, -1):
            base = self._cache.get(term[:cut])
            if base is not None:
                break
        if base is None:
            rows = tuple(i for i, hay in enumerate(hays) if search(hay))
        else:
            rows = tuple(i for i in base if search(hays[i]))
        if len(self._cache) >= self._CACHE_LIMIT:
            self._cache.clear()
        self._cache[term] = rows
        return rows

    def _candidates(self, query: Query) -> tuple[tuple[int, ...] | None, Callable[[int], bool]]:
        """The rows every term matches, ascending (None: no terms), and the full test for one
        row index: among those rows, no exclusion matches, tags and ARN hold."""
        wanted: tuple[int, ...] | None = None
        for term in query.terms:
            rows = self._rows(term)
            if wanted is None:
                wanted = rows
            else:
                keep = set(rows)
                wanted = tuple(i for i in wanted if i in keep)
        excluded: frozenset[int] = frozenset().union(*(self._rows(t) for t in query.excludes))
        chosen = frozenset(wanted) if wanted is not None else None
        tag_patterns = [(key, _pattern(value) if value else None) for key, value in query.tags]

        def keeps(index: int) -> bool:
            if chosen is not None and index not in chosen:
                return False
            if index in excluded:
                return False
            entry = self._entries[index]
            if query.arn and (entry.role.account_id, entry.role.role_name) != query.arn:
                return False
            for key, pattern in tag_patterns:
                have = entry.tags.get(key)
                if have is None or (pattern is not None and pattern.search(have) is None):
                    return False
            return True

        return wanted, keeps

    def apply(
        self, query: Query, favourites: Sequence[str] = (), recent: Sequence[str] = ()
    ) -> Filtered:
        """The rows ``query`` keeps, in favourites → recent → all order.

        The answer is a view, not a list: a keystroke over ten thousand roles builds no row
        objects, only (at most) one tuple of the matching row numbers; rows are made as painted.
        """
        wanted, keeps = self._candidates(query)
        placed: set[int] = set()
        head: list[Shown] = []
        for number, key in enumerate(favourites[:9], start=1):
            index = self._by_key.get(key)
            if index is not None and index not in placed and keeps(index):
                head.append(Shown(self._entries[index].role, Section.FAVOURITE, number))
            if index is not None:
                placed.add(index)
        for key in recent[:MAX_RECENT]:
            index = self._by_key.get(key)
            if index is not None and index not in placed and keeps(index):
                head.append(Shown(self._entries[index].role, Section.RECENT))
            if index is not None:
                placed.add(index)
        rows: Sequence[int] = wanted if wanted is not None else range(len(self._entries))
        if query.excludes or query.tags or query.arn:
            rows = tuple(i for i in rows if keeps(i))
        return Filtered(self, head, rows, placed)

    def role(self, index: int) -> PortalRole:
        return self._entries[index].role

    def account_count(self, rows: Sequence[int]) -> int:
        """How many accounts ``rows`` (row numbers) span."""
        if isinstance(rows, range) and len(rows) == len(self._entries):
            return self._accounts_total
        return len(set(map(self._account_of.__getitem__, rows)))


class Filtered(Sequence[Shown]):
    """A filter's answer: the favourite and recent rows, then every other match (``All``).

    Indexing builds one ``Shown``; ``position`` finds a role without walking the list.
    """

    def __init__(
        self, index: RoleFilter, head: list[Shown], rows: Sequence[int], placed: set[int]
    ) -> None:
        self._index = index
        self._head = head
        self._rows = rows  # ascending row numbers: the ``All`` section plus any placed rows
        # Positions in ``rows`` of the rows already listed as favourite or recent (at most 19).
        self._skip = sorted(p for p in (_position(rows, i) for i in placed) if p is not None)

    def __len__(self) -> int:
        return len(self._head) + len(self._rows) - len(self._skip)

    @overload
    def __getitem__(self, item: int) -> Shown: ...
    @overload
    def __getitem__(self, item: slice) -> Sequence[Shown]: ...
    def __getitem__(self, item: int | slice) -> Shown | Sequence[Shown]:
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(len(self)))]
        if item < 0:
            item += len(self)
        if not 0 <= item < len(self):
            raise IndexError(item)
        if item < len(self._head):
            return self._head[item]
        position = item - len(self._head)
        for skipped in self._skip:
            if skipped <= position:
                position += 1
            else:
                break
        return Shown(self._index.role(self._rows[position]), Section.ALL)

    @property
    def head_sections(self) -> list[Section]:
        """The section of each favourite and recent row, in order."""
        return [shown.section for shown in self._head]

    @property
    def rest(self) -> int:
        """How many rows the ``All`` section holds."""
        return len(self._rows) - len(self._skip)

    def position(self, key: str) -> int | None:
        """Where the role with ``key`` is shown, or None."""
        for number, shown in enumerate(self._head):
            if shown.role.key == key:
                return number
        row = self._index.row_of(key)
        if row is None:
            return None
        at = _position(self._rows, row)
        if at is None or at in self._skip:
            return None
        return len(self._head) + at - bisect.bisect_left(self._skip, at)

    def account_count(self) -> int:
        """How many accounts the shown rows span (favourite and recent rows are matches too)."""
        return self._index.account_count(self._rows)


def _position(rows: Sequence[int], row: int) -> int | None:
    """Where ``row`` sits in the ascending ``rows``, or None."""
    at = bisect.bisect_left(rows, row)
    return at if at < len(rows) and rows[at] == row else None


def filter_roles(
    roles: Iterable[PortalRole],
    text: str,
    favourites: Sequence[str] = (),
    recent: Sequence[str] = (),
) -> list[Shown]:
    """One-shot convenience: index ``roles`` and apply the filter ``text``."""
    return list(RoleFilter(roles).apply(parse_query(text), favourites, recent))


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
