"""IAM wildcards as z3 regular expressions (IAM User Guide, "IAM JSON policy elements: Action"
and "Resource"; the same rules as ``broker.policy.matching``, stated again for the solver).

Every string the solver may choose is printable ASCII. That loses nothing: a pattern is
literal characters and wildcards, so any character outside the patterns' own letters can be
replaced by a fresh printable one without changing which patterns match. Case-insensitive
matching (actions, ``...IgnoreCase``, ``Bool``) is then exact: each ASCII letter stands for
its two cases.
"""

from __future__ import annotations

import z3

__all__ = ["ARN_PARTS", "ascii_string", "glob", "literal", "printable"]

ARN_PARTS = 6


def printable() -> z3.ReRef:
    """One printable ASCII character."""
    return z3.Range(" ", "~")


def _not_colon() -> z3.ReRef:
    return z3.Union(z3.Range(" ", "9"), z3.Range(";", "~"))


def ascii_string() -> z3.ReRef:
    """Any printable ASCII string."""
    return z3.Star(printable())


def _char(char: str, ignore_case: bool) -> z3.ReRef:
    if ignore_case and char.lower() != char.upper():
        return z3.Union(z3.Re(char.lower()), z3.Re(char.upper()))
    return z3.Re(char)


def literal(text: str, *, ignore_case: bool = False) -> z3.ReRef:
    """Exactly ``text`` (in any letter case with ``ignore_case``)."""
    if not text:
        return z3.Re("")
    if not ignore_case:
        return z3.Re(text)
    parts = [_char(c, True) for c in text]
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def glob(pattern: str, *, arn: bool, ignore_case: bool) -> z3.ReRef:
    """``*`` any run, ``?`` one character; with ``arn``, a wildcard before the fifth ``:`` stays
    inside its ARN part (but for the last part of a short pattern ending in ``*``). ``"*"``
    alone matches everything."""
    if pattern == "*":
        return ascii_string()
    parts: list[z3.ReRef] = []
    colons = 0 if arn else ARN_PARTS
    # A short ARN pattern ending in ``*`` (``arn:aws:sqs:*``): its last part's wildcards span
    # ``:`` as the engine's (broker.policy.globs) do.
    last = (
        pattern.count(":")
        if arn and pattern.count(":") < ARN_PARTS - 1 and pattern.endswith("*")
        else -1
    )
    run: list[str] = []

    def flush() -> None:
        if run:
            parts.append(literal("".join(run), ignore_case=ignore_case))
            run.clear()

    for char in pattern:
        if char == ":":
            colons += 1
            run.append(char)
        elif char in "*?":
            flush()
            inside = colons < ARN_PARTS - 1 and colons != last
            one = _not_colon() if inside else printable()
            parts.append(z3.Star(one) if char == "*" else one)
        else:
            run.append(char)
    flush()
    if not parts:
        return z3.Re("")
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)
