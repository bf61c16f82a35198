"""Which core pieces are installed, so screens can say "not yet available" instead of failing.

Each TUI feature names the core module and attribute it needs and the issue that brings it;
``load_feature`` returns that object or raises ``NotYetAvailableError`` naming the issue.
No Textual here.
"""

from __future__ import annotations

import importlib
from typing import Any

from broker.errors import NotYetAvailableError

__all__ = ["feature_available", "load_feature"]

# Feature -> (module, attribute it needs, issue that brings it).
_FEATURES: dict[str, tuple[str, str, int]] = {
    "sign-in": ("broker.signin", "run_login", 3),
    "portal": ("broker.directory", "load_directory", 4),
    "directory": ("broker.directory", "load_directory", 4),
    "mint": ("broker.minters.local", "LocalMinter", 5),
    "audit": ("broker.audit", "EventFilter", 5),
    "sessions": ("broker.store", "CredentialStore", 6),
    "simulator": ("broker.policy", "evaluate", 2),
    "reports": ("broker.analyzer.credential_report", "credential_report", 9),
}

_WHAT = {
    "sign-in": "signing in",
    "portal": "the portal's account list",
    "directory": "the directory view",
    "mint": "minting credentials",
    "audit": "the audit log view",
    "sessions": "the sessions view",
    "simulator": "the policy simulator",
    "reports": "reports",
}


def load_feature(feature: str) -> Any:
    """The core object ``feature`` needs, or ``NotYetAvailableError`` naming its issue."""
    module_name, attribute, issue = _FEATURES[feature]
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute)
    except (ImportError, AttributeError):
        raise NotYetAvailableError(
            f"{_WHAT[feature]} is not yet available (issue #{issue} brings it)"
        ) from None


def feature_available(feature: str) -> bool:
    """Whether the core piece behind ``feature`` is installed (cheap; used to label screens)."""
    try:
        load_feature(feature)
    except NotYetAvailableError:
        return False
    return True
