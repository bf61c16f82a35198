"""Session policies by digest in the shared database (the STS session-policy store's contract).

``put`` stores a policy text under its SHA-256 and returns the digest; ``get`` returns the text
for a digest, re-checking the hash, so a row altered in the database is refused rather than
enforced. A digest the database does not know is ``AccessDenied``: the session must be minted
again.
"""

from __future__ import annotations

import hashlib
import re
import time

from broker.errors import StsError
from broker.storage.database import Database

__all__ = ["SqlSessionPolicies"]

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class SqlSessionPolicies:
    """Content-addressed policy texts over a ``Database``."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def put(self, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()
        with self._db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO session_policies (digest, document, created_us) VALUES (?, ?, ?) "
                "ON CONFLICT (digest) DO NOTHING",
                (digest, text, time.time_ns() // 1000),
            )
        return digest

    def get(self, digest: str) -> str:
        if not _DIGEST.match(digest):
            raise StsError("The session's policy digest is malformed.", code="AccessDenied")
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute("SELECT document FROM session_policies WHERE digest = ?", (digest,))
            row = cursor.fetchone()
        if row is None:
            raise StsError(
                "The session's policy is unknown to this broker; request new credentials.",
                code="AccessDenied",
            )
        text = str(row[0])
        if hashlib.sha256(text.encode()).hexdigest() != digest:
            raise StsError("The session's stored policy was altered.", code="AccessDenied")
        return text
