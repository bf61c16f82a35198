"""Spelling a name as a TOML key, for hints that tell people which table to write.

Why: a profile name such as ``payments-prod.AdministratorAccess`` written bare in
``[profiles.payments-prod.AdministratorAccess]`` is a *nested* table in TOML, not the profile;
hints must quote it (``[profiles."payments-prod.AdministratorAccess"]``).
"""

from __future__ import annotations

import json
import re

__all__ = ["toml_key"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(name: str) -> str:
    """``name`` as a TOML key: bare when TOML allows it, else a quoted basic string."""
    if _BARE.fullmatch(name):
        return name
    # A JSON string literal of printable text is a valid TOML basic string.
    return json.dumps(name, ensure_ascii=True)
