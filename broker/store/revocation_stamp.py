"""Which state of the revocation list a cached profile entry was checked against.

Why: ``credential-process``'s fast path serves a cached entry without minting, and a session
revoked with ``broker sts revoke`` must never be served again from the cache. Checking each
token against the rules on every call would cost the imports (and the database) the fast path
exists to avoid. Instead every profile entry records the stamp of ``<data>/sts/revocations.stamp``
(inode, size and mtime) as it stood when the entry was minted or last checked; the fast path
``stat``s the file and serves only when the stamps are equal. Every revocation recorded in the
embedded database rewrites the stamp file once the rule is committed
(``touch_revocation_stamp``), so the next call takes the full path, which checks the token
(``broker.client.revocation``) and either re-stamps the entry or re-mints.

With a configured database (``BROKER_DATABASE_URL``: replicas, revocations through any host)
no local file can see a revocation: the stamp is then ``UNCHECKABLE`` and the fast path never
serves (fail closed). The fast path cannot afford importing the configuration module, so this
module reads that one variable itself (an entry in the environment contract's allow-list).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["NO_LIST", "UNCHECKABLE", "may_serve", "revocation_stamp", "touch_revocation_stamp"]

STAMP_FILE = Path("sts") / "revocations.stamp"
NO_LIST = "0"
UNCHECKABLE = "db"


def revocation_stamp(data_dir: Path) -> str:
    """The current stamp of ``data_dir``'s revocation rules (no spaces, never empty)."""
    if os.environ.get("BROKER_DATABASE_URL"):
        return UNCHECKABLE
    try:
        st = os.stat(data_dir / STAMP_FILE)
    except FileNotFoundError:
        return NO_LIST
    except OSError:
        return UNCHECKABLE
    return f"{st.st_ino}.{st.st_size}.{st.st_mtime_ns}"


def may_serve(stamp: str, data_dir: Path) -> bool:
    """True when an entry checked at ``stamp`` may be served without checking it again."""
    current = revocation_stamp(data_dir)
    return current != UNCHECKABLE and stamp == current


def touch_revocation_stamp(data_dir: Path) -> None:
    """Change the stamp after a revocation was committed: replace the file with a new one (a
    new inode), so no entry checked before the revocation matches it again."""
    from broker.private_dirs import make_private_dirs

    path = data_dir / STAMP_FILE
    make_private_dirs(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"{os.getpid()} {os.times().elapsed}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
