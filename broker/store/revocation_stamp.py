"""Which state of the revocation list a cached profile entry was checked against.

Why: ``credential-process``'s fast path serves a cached entry without minting, and a session
revoked with ``broker sts revoke`` must never be served again from the cache. Checking each
token against the list on every call would cost the imports the fast path exists to avoid.
Instead every profile entry records the list's stamp (inode, size and mtime of
``<data>/sts/revocations.json``) as it stood when the entry was minted or last checked; the fast
path ``stat``s the file and serves only when the stamps are equal. A revocation changes the file
(rules are only ever added, by atomic replacement), so the next call takes the full path, which
checks the token (``broker.client.revocation``) and either re-stamps the entry or re-mints.

With ``BROKER_DATABASE_URL`` the rules live in the shared database, which a ``stat`` cannot
see: the stamp is then ``UNCHECKABLE`` and the fast path never serves (fail closed).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["NO_LIST", "UNCHECKABLE", "may_serve", "revocation_stamp"]

REVOCATIONS_FILE = Path("sts") / "revocations.json"
NO_LIST = "0"
UNCHECKABLE = "db"


def revocation_stamp(data_dir: Path) -> str:
    """The current stamp of ``data_dir``'s revocation list (no spaces, never empty)."""
    if os.environ.get("BROKER_DATABASE_URL"):
        return UNCHECKABLE
    try:
        st = os.stat(data_dir / REVOCATIONS_FILE)
    except FileNotFoundError:
        return NO_LIST
    except OSError:
        return UNCHECKABLE
    return f"{st.st_ino}.{st.st_size}.{st.st_mtime_ns}"


def may_serve(stamp: str, data_dir: Path) -> bool:
    """True when an entry checked at ``stamp`` may be served without checking it again."""
    current = revocation_stamp(data_dir)
    return current != UNCHECKABLE and stamp == current
