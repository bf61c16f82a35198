"""Session policies by digest: tokens carry only the SHA-256 of their session policy.

Minting stores the policy text once under its digest (``broker.storage.session_policies`` in
the state database); a later decision about the session (a chained AssumeRole, the
authorize API) loads it back by the digest in the verified token. Nothing secret is stored.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["SessionPolicySource"]


class SessionPolicySource(Protocol):
    """Policy texts by digest (``broker.storage.SqlSessionPolicies``): ``put`` returns the
    digest, ``get`` refuses an unknown or altered text."""

    def put(self, text: str) -> str: ...

    def get(self, digest: str) -> str: ...
