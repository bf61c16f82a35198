"""Session policies by digest: tokens carry only the SHA-256 of their session policy.

Minting stores the policy text once under its digest (``<data>/sts/session-policies``, 0600
files in a 0700 directory); a later decision about the session (a chained AssumeRole, the
authorize API) loads it back by the digest in the verified token. Nothing secret is stored.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

from broker.errors import ConfigError, StsError
from broker.private_files import PrivateFiles

__all__ = ["SessionPolicySource", "SessionPolicyStore"]

_files = PrivateFiles(ConfigError)


class SessionPolicySource(Protocol):
    """Policy texts by digest: these files, or ``broker.storage.SqlSessionPolicies`` shared by
    replicas (same contract: ``put`` returns the digest, ``get`` refuses unknown or altered)."""

    def put(self, text: str) -> str: ...

    def get(self, digest: str) -> str: ...


class SessionPolicyStore:
    """Content-addressed policy texts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()
        path = self.directory / f"{digest}.json"
        if not path.exists():
            _files.ensure_dir(self.directory)
            temp = path.with_name(f".{digest}.{os.getpid()}.tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        return digest

    def get(self, digest: str) -> str:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise StsError("The session's policy digest is malformed.", code="AccessDenied")
        try:
            text = (self.directory / f"{digest}.json").read_text(encoding="utf-8")
        except (FileNotFoundError, ValueError):
            raise StsError(
                "The session's policy is unknown to this broker; request new credentials.",
                code="AccessDenied",
            ) from None
        if hashlib.sha256(text.encode()).hexdigest() != digest:
            raise StsError("The session's stored policy was altered.", code="AccessDenied")
        return text
