"""Wildcard patterns (``*``, ``?``) compiled to tests that cannot backtrack catastrophically.

IAM patterns come from policies and the strings they are matched against come from requests, so
a pattern such as ``a*a*a*a*a*b`` against a long resource name must not cost exponential time
(a regular expression would backtrack). A pattern with at most one ``*`` per part becomes a
regular expression (linear for that shape); any other is matched chunk by chunk: the text
between stars is found left-most with ``str.find`` (or a fixed-length regex where it holds
``?``), which is exact for globs and O(len(text) x len(pattern)) at worst.

With ``arn`` the pattern is split at its first five ``:``: a wildcard in one of the first five
parts never spans ``:``, the sixth (resource) part may. A shorter pattern whose last part ends in
``*`` (``arn:aws:sqs:*``, ``arn:aws:iam::*``) is valid too: IAM User Guide, "IAM JSON policy
elements: Resource", says a ``*`` that is the last character of a segment "can expand to match
beyond the colon boundaries", so the wildcards of its last part span ``:`` and that part matches
the rest of the ARN. Any other short pattern matches nothing (validation refuses it). Text from a
policy variable is literal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from broker.policy.variables import Literal_

__all__ = ["ARN_PARTS", "Glob", "compile_glob", "compile_glob_set"]

ARN_PARTS = 6
_STAR = 0
_ANY = 1
Token = str | int  # a literal character, or _STAR / _ANY
Glob = Callable[[str], object]  # truthy when the text matches


def _segments(pieces: Iterable[str | Literal_], arn: bool) -> list[list[Token]]:
    segments: list[list[Token]] = [[]]
    for piece in pieces:
        literal = isinstance(piece, Literal_)
        text = piece.text if isinstance(piece, Literal_) else piece
        for char in text:
            if char == ":" and arn and len(segments) < ARN_PARTS:
                segments.append([])
            elif not literal and char == "*":
                segments[-1].append(_STAR)
            elif not literal and char == "?":
                segments[-1].append(_ANY)
            else:
                segments[-1].append(char)
    return segments


@dataclass(frozen=True, slots=True)
class _Chunk:
    """The text between two stars: a plain string, or a fixed-length regex when it has ``?``."""

    size: int
    text: str | None
    regex: re.Pattern[str] | None


def _chunk(tokens: Sequence[Token]) -> _Chunk:
    if _ANY not in tokens:
        return _Chunk(len(tokens), "".join(t for t in tokens if isinstance(t, str)), None)
    source = "".join(re.escape(t) if isinstance(t, str) else "." for t in tokens)
    return _Chunk(len(tokens), None, re.compile(source, re.DOTALL))


def _chunked(tokens: list[Token]) -> Glob:
    """Left-most chunk matching: exact for globs, no backtracking."""
    parts: list[list[Token]] = [[]]
    for token in tokens:
        if token == _STAR:
            parts.append([])
        else:
            parts[-1].append(token)
    chunks = [_chunk(p) for p in parts]
    if len(chunks) == 1:  # no star: the whole text, exactly
        (only,) = chunks
        if only.text is not None:
            return only.text.__eq__
        assert only.regex is not None
        return only.regex.fullmatch
    head, middle, tail = chunks[0], chunks[1:-1], chunks[-1]
    minimum = sum(c.size for c in chunks)
    if all(c.text is not None for c in chunks):  # no '?': plain string operations only
        first, last = head.text or "", tail.text or ""
        inner = [c.text or "" for c in middle]

        def plain(text: str) -> bool:
            if len(text) < minimum or not text.startswith(first) or not text.endswith(last):
                return False
            position, end = len(first), len(text) - len(last)
            for piece in inner:
                found = text.find(piece, position, end)
                if found < 0:
                    return False
                position = found + len(piece)
            return True

        return plain

    def at(chunk: _Chunk, text: str, position: int) -> bool:
        if chunk.text is not None:
            return text.startswith(chunk.text, position)
        assert chunk.regex is not None
        return chunk.regex.match(text, position) is not None

    def test(text: str) -> bool:
        if len(text) < minimum:
            return False
        end = len(text) - tail.size
        if not at(head, text, 0) or not at(tail, text, end):
            return False
        position = head.size
        for chunk in middle:
            if chunk.text is not None:
                found = text.find(chunk.text, position, end)
            else:
                assert chunk.regex is not None
                match = chunk.regex.search(text, position, end)
                found = -1 if match is None else match.start()
            if found < 0:
                return False
            position = found + chunk.size
        return True

    return test


def _short_spans(segments: list[list[Token]], arn: bool) -> bool | None:
    """For an ARN pattern: whether it is a short one whose last part spans the rest of the ARN
    (False for a full six-part pattern); None when it is short and cannot match anything."""
    if not arn or len(segments) >= ARN_PARTS:
        return False
    last = segments[-1]
    return True if last and last[-1] == _STAR else None


def _regex_source(segments: list[list[Token]], arn: bool) -> str:
    out: list[str] = []
    spans = _short_spans(segments, arn)
    for index, tokens in enumerate(segments):
        inner = arn and index < ARN_PARTS - 1 and not (spans and index == len(segments) - 1)
        for token in tokens:
            if token == _STAR:
                out.append("[^:]*" if inner else ".*")
            elif token == _ANY:
                out.append("[^:]" if inner else ".")
            else:
                assert isinstance(token, str)
                out.append(re.escape(token))
        out.append(":")
    return "".join(out)[:-1]


@lru_cache(maxsize=8192)
def compile_glob(pieces: tuple[str | Literal_, ...], arn: bool) -> Glob:
    """A test for the pattern made of ``pieces`` (pattern text and literal text)."""
    segments = _segments(pieces, arn)
    if _short_spans(segments, arn) is None:
        return lambda _text: False  # not an ARN pattern; validation reports it
    if all(tokens.count(_STAR) <= 1 for tokens in segments):
        return re.compile(_regex_source(segments, arn), re.DOTALL).fullmatch
    tests = [_chunked(tokens) for tokens in segments]
    if not arn:
        return tests[0]
    count = len(segments)  # six, or fewer for a short pattern (its last part is the rest)
    if all(isinstance(t, str) for tokens in segments[:-1] for t in tokens):
        # The parts before the last are literal (the usual case): a prefix, then the last part.
        prefix = ":".join("".join(str(t) for t in tokens) for tokens in segments[:-1]) + ":"
        rest = tests[-1]
        return lambda text: text.startswith(prefix) and bool(rest(text[len(prefix) :]))

    def test(text: str) -> bool:
        parts = text.split(":", count - 1)
        return len(parts) == count and all(t(p) for t, p in zip(tests, parts, strict=True))

    return test


@lru_cache(maxsize=4096)
def compile_glob_set(patterns: tuple[str, ...], arn: bool) -> Glob:
    """One test for several pattern texts: the regex-safe ones folded into one alternation
    (each alternative is linear, so the whole is too), the others chunk-matched."""
    sources: list[str] = []
    others: list[Glob] = []
    for pattern in patterns:
        segments = _segments((pattern,), arn)
        if _short_spans(segments, arn) is None:
            continue
        if all(tokens.count(_STAR) <= 1 for tokens in segments):
            sources.append(_regex_source(segments, arn))
        else:
            others.append(compile_glob((pattern,), arn))
    tests: list[Glob] = []
    if sources:
        tests.append(re.compile("|".join(f"(?:{s})" for s in sources), re.DOTALL).fullmatch)
    tests += others
    if not tests:
        return lambda _text: False
    if len(tests) == 1:
        return tests[0]
    return lambda text: any(test(text) for test in tests)
