"""Input limits for policy documents and requests: IAM's size quotas, and characters no policy
or request may hold.

Sizes (IAM User Guide, "IAM and AWS STS quotas"; AWS Organizations User Guide, "Quotas and
service limits"; each service's resource-policy quota) are counted as IAM counts them: characters,
whitespace not counted. We check the largest document IAM accepts for each kind, since we cannot
tell which form (managed or inline, user or role) a document will take:

* identity: a role's inline policies, 10,240 (managed policies 6,144, a group's 5,120, a user's
  2,048 — those are checked where the form is known, by IAM itself);
* boundary: a managed policy, 6,144;
* session: the plaintext of a session policy, 2,048;
* scp, rcp: 5,120;
* trust: 2,048 by default, and the quota can be raised; we refuse beyond 8,192;
* resource, key: services differ (an S3 bucket policy 20 KB, a KMS key policy 32 KB); we refuse
  beyond 32,768.

Anything larger is refused at once, before it is parsed statement by statement, so an absurd
document costs milliseconds, not seconds.

Characters: NUL and lone UTF-16 surrogates (``\\ud800`` written in JSON without its pair) are
not text IAM stores or compares; a value holding one is refused rather than matched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from broker.policy.findings import PolicyKind

__all__ = [
    "POLICY_SIZE_LIMITS",
    "bad_character",
    "may_hold_bad_characters",
    "policy_size",
    "size_problem",
    "text_problem",
]

POLICY_SIZE_LIMITS: dict[PolicyKind, int] = {
    "identity": 10_240,
    "boundary": 6_144,
    "session": 2_048,
    "scp": 5_120,
    "rcp": 5_120,
    "trust": 8_192,
    "resource": 32_768,
    "key": 32_768,
}
_WHAT: dict[PolicyKind, str] = {
    "identity": "an identity policy (a role's inline policies, the largest)",
    "boundary": "a permissions boundary (a managed policy)",
    "session": "a session policy's plaintext",
    "scp": "a service control policy",
    "rcp": "a resource control policy",
    "trust": "a role trust policy, even with its quota raised",
    "resource": "a resource policy (the largest any service takes)",
    "key": "a KMS key policy",
}
_SURROGATE = re.compile("[\ud800-\udfff]")
_WHITESPACE = str.maketrans("", "", " \t\n\r")


def bad_character(text: str) -> str | None:
    """What is wrong with ``text`` (a NUL or a lone surrogate), or None."""
    if "\x00" in text:
        return "a NUL character (\\u0000)"
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found is not None:
            return f"a lone surrogate (\\u{ord(found.group()):04x})"
    return None


# In JSON text a NUL or a surrogate can only be written as a \u escape (raw ones are not valid
# JSON, or not UTF-8): one scan of the text tells whether any value can hold one.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def may_hold_bad_characters(json_text: str) -> bool:
    """False when no value parsed from ``json_text`` can hold a NUL or a lone surrogate (one C
    scan of the text, so a large batch is not checked value by value)."""
    return _SUSPECT_ESCAPE.search(json_text) is not None


def text_problem(data: Any, path: str = "") -> str | None:
    """``"PATH: holds ..."`` for the first NUL or lone surrogate in any key or string of
    ``data`` (loaded JSON), or None."""
    stack: list[tuple[str, Any]] = [(path, data)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            problem = bad_character(item)
            if problem is not None:
                return f"{where or '$'}: holds {problem}"
        elif isinstance(item, Mapping):
            for key, value in item.items():
                inner = f"{where}.{key}" if where else str(key)
                problem = bad_character(str(key))
                if problem is not None:
                    return f"{inner}: the name holds {problem}"
                stack.append((inner, value))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", value) for i, value in enumerate(item))
    return None


def policy_size(doc: Any) -> int:
    """Characters of ``doc`` as IAM counts them: its JSON text without whitespace."""
    text = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False, default=str)
    return len(text.translate(_WHITESPACE))


def size_problem(doc: Any, kind: PolicyKind) -> str | None:
    """Why ``doc`` is larger than IAM accepts for ``kind``, or None."""
    limit = POLICY_SIZE_LIMITS[kind]
    if isinstance(doc, str) and len(doc) <= limit:
        return None  # cannot be over, whitespace or not (the common case costs nothing)
    size = policy_size(doc)
    if size <= limit:
        return None
    return (
        f"the policy is {size:,} characters (whitespace not counted); IAM takes at most "
        f"{limit:,} for {_WHAT[kind]}: split it into several policies"
    )
