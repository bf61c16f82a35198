"""Whether a policy's Resource pattern can name a resource of a given type, whose ARN format the
Service Authorization Reference gives (``arn:${Partition}:s3:::${BucketName}/${ObjectName}``).

Both sides have wildcards: the pattern its ``*``/``?`` (and policy variables, which can be
anything), the format its ``${Placeholders}``. The question is whether some ARN matches both,
answered part by part (partition, service, region, account, resource) on the two patterns.
A placeholder stands for at least one character; followed by ``/`` (a bucket name before its
object key) it cannot contain ``/``; at the end, or before ``:``, it can (object keys, names
with paths, log groups).
"""

from __future__ import annotations

import functools
import re

__all__ = ["pattern_fits_format"]

_VARIABLE = re.compile(r"\$\{[^}]*\}")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_STAR_ANY, _STAR_NO_SLASH, _ONE = "*", "+", "?"
Token = tuple[str, str]  # (kind, literal char)


def _pattern_tokens(text: str) -> tuple[Token, ...]:
    text = _VARIABLE.sub("*", text)
    return tuple(
        (_STAR_ANY, "") if c == "*" else (_ONE, "") if c == "?" else ("lit", c) for c in text
    )


def _format_tokens(text: str) -> tuple[Token, ...]:
    out: list[Token] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        out.extend(("lit", c) for c in text[position : match.start()])
        following = text[match.end() : match.end() + 1]
        no_slash = following == "/" or match.group(1).endswith("BucketName")
        out.append((_ONE, ""))  # a name has at least one character
        out.append((_STAR_NO_SLASH if no_slash else _STAR_ANY, ""))
        position = match.end()
    out.extend(("lit", c) for c in text[position:])
    return tuple(out)


def _meet(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """Whether some string matches both token sequences."""

    @functools.cache
    def go(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        star_a = i < len(a) and a[i][0] in (_STAR_ANY, _STAR_NO_SLASH)
        star_b = j < len(b) and b[j][0] in (_STAR_ANY, _STAR_NO_SLASH)
        if star_a and go(i + 1, j):
            return True
        if star_b and go(i, j + 1):
            return True
        if star_a and j < len(b) and not star_b and _star_takes(a[i], b[j]) and go(i, j + 1):
            return True
        if star_b and i < len(a) and not star_a and _star_takes(b[j], a[i]) and go(i + 1, j):
            return True
        if i < len(a) and j < len(b) and not star_a and not star_b:
            (kind_a, char_a), (kind_b, char_b) = a[i], b[j]
            if kind_a == _ONE or kind_b == _ONE or char_a == char_b:
                return go(i + 1, j + 1)
        return False

    return go(0, 0)


def _star_takes(star: Token, single: Token) -> bool:
    return star[0] == _STAR_ANY or single != ("lit", "/")


def pattern_fits_format(pattern: str, arn_format: str) -> bool:
    """Whether a Resource value (``*``, an ARN pattern) can match an ARN of this format."""
    if pattern == "*":
        return True
    parts, formats = pattern.split(":", 5), arn_format.split(":", 5)
    if len(parts) < 6 or len(formats) < 6:
        return _meet(_pattern_tokens(pattern), _format_tokens(arn_format))
    return all(
        _meet(_pattern_tokens(p), _format_tokens(f)) for p, f in zip(parts, formats, strict=True)
    )
