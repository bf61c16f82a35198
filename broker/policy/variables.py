"""IAM policy variables (IAM User Guide, "IAM policy elements: Variables and tags").

``${key}`` in a Resource/NotResource value or in a string or ARN condition value is replaced by
the request-context value of ``key`` (case-insensitive); ``${key, 'default'}`` supplies a value
when the key is absent; ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters.
A key that is absent (with no default) or multi-valued has no value, and AWS scopes what that
does narrowly ("Policy variables with no value"): only the one value holding the variable matches
nothing. A Resource/NotResource entry with it matches no resource (the element's other entries
still count); in a condition it is a null that no context value equals or is like, so a positive
operator's other values are still ORed and a negated operator (``StringNotEquals``, ...) is true
for it. The statement as a whole still applies: a Deny is never skipped because a tag is unset.
Under ``"Version": "2008-10-17"`` (or no Version) nothing is substituted: ``${...}`` is text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ContextValue",
    "Literal_",
    "Template",
    "TemplateSyntaxError",
    "Var",
    "parse_template",
]

# A normalised context value: a single value, or a tuple for a multi-valued key.
ContextValue = str | tuple[str, ...]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KEY_WITH_DEFAULT = re.compile(r"^\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class TemplateSyntaxError(ValueError):
    """A ``${...}`` that is neither a key, a key with a quoted default, nor an escape."""


@dataclass(frozen=True, slots=True)
class Literal_:
    """Text that stands for itself (wildcard characters in it are not wildcards)."""

    text: str


@dataclass(frozen=True, slots=True)
class Var:
    """A variable: the lower-cased context key and its default, if the policy gave one."""

    key: str
    default: str | None


Piece = str | Literal_ | Var


@dataclass(frozen=True, slots=True)
class Template:
    """A value split into pattern text (``str``), literal text and variables.

    ``required`` lists the keys without a default (informational: a value with one of them
    absent matches nothing, see ``resolve``).
    """

    pieces: tuple[Piece, ...]
    required: tuple[str, ...]

    @property
    def has_variables(self) -> bool:
        return any(isinstance(piece, Var) for piece in self.pieces)

    @property
    def is_plain(self) -> bool:
        """True when the value is one piece of pattern text (the common, fast case)."""
        return len(self.pieces) == 1 and isinstance(self.pieces[0], str)

    def resolve(self, context: Mapping[str, ContextValue]) -> tuple[str | Literal_, ...] | None:
        """Pieces with variables replaced by literal values, or None if one cannot be."""
        out: list[str | Literal_] = []
        for piece in self.pieces:
            if isinstance(piece, Var):
                value = context.get(piece.key)
                if isinstance(value, str):
                    out.append(Literal_(value))
                elif value is None and piece.default is not None:
                    out.append(Literal_(piece.default))
                else:
                    return None
            else:
                out.append(piece)
        return tuple(out)

    def text(self, context: Mapping[str, ContextValue]) -> str | None:
        """The value as plain text (for equality operators), or None if unresolvable."""
        resolved = self.resolve(context)
        if resolved is None:
            return None
        return "".join(p if isinstance(p, str) else p.text for p in resolved)


def parse_template(value: str, *, substitute: bool) -> Template:
    """Split ``value`` into pieces; with ``substitute`` False the whole value is pattern text."""
    if not substitute or "${" not in value:
        return Template((value,), ())
    pieces: list[Piece] = []
    required: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(value):
        if match.start() > position:
            pieces.append(value[position : match.start()])
        inner = match.group(1)
        if inner in _ESCAPES:
            pieces.append(Literal_(_ESCAPES[inner]))
        else:
            parsed = _KEY_WITH_DEFAULT.match(inner)
            if parsed is None:
                raise TemplateSyntaxError(
                    f"malformed policy variable ${{{inner}}}: use ${{key}} or ${{key, 'default'}}"
                )
            key, default = parsed.group(1).lower(), parsed.group(2)
            pieces.append(Var(key, default))
            if default is None:
                required.append(key)
        position = match.end()
    if position < len(value):
        pieces.append(value[position:])
    return Template(tuple(pieces), tuple(dict.fromkeys(required)))
