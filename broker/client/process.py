"""The ``credential-process`` hot path: a cache hit with (almost) no imports.

``broker.cli.main`` calls ``fast_credential_process`` before building the parser. On a hit it
reads this data directory's id (``broker.store.home_id``) and one keyring item over D-Bus
(``broker.store.secret_service``), checks the expiry epoch and the revocation stamp in the
entry's first line, and writes the stored Version 1 JSON. Anything else — unusual arguments,
no Secret Service, a miss, credentials inside the refresh window, a revocation list changed
since the entry was checked (``broker.store.revocation_stamp``), a write of the profile left
unfinished (``broker.store.intents``) — returns None and the full command handles it (with
locking, minting, recovery and proper errors).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["FAST_WINDOW_SECONDS", "fast_credential_process", "parse_profile_arg"]

# The same 20 minutes as ``broker.client.chain.REFRESH_WINDOW`` (kept literal: no imports).
FAST_WINDOW_SECONDS = 20 * 60
_MAGIC = "broker-v1"
_SERVICE = "access-broker"
# ``broker.store.intents.INTENTS_DIR`` and its file naming (kept literal: no imports).
INTENTS_DIR = Path("store") / "intents"


def parse_profile_arg(argv: list[str]) -> str | None:
    """The profile of ``--profile NAME`` / ``--profile=NAME`` when that is all there is."""
    if len(argv) == 2 and argv[0] == "--profile":
        return argv[1] or None
    if len(argv) == 1 and argv[0].startswith("--profile="):
        return argv[0].partition("=")[2] or None
    return None


def _data_dir() -> Path:
    """The data directory, resolved as ``broker.config.loader.data_dir`` does (a test holds
    the two equal) without importing ``broker.config`` (~25 ms)."""
    import os

    home = os.environ.get("BROKER_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("access-broker", appauthor=False))


def _unfinished_write(data: Path, key: str) -> bool:
    """True when a write of ``key`` has an intent on disk (or cannot be told apart)."""
    import os

    if len(key) > 100:  # named by a hash there; not worth importing hashlib here
        return True
    return os.path.lexists(data / INTENTS_DIR / (key.encode().hex() + ".json"))


def _home_id() -> str | None:
    """This data directory's keyring namespace (``broker.store.home_id``), if it has one."""
    from broker.store.home_id import read_home_id

    return read_home_id(_data_dir())


def fast_credential_process(argv: list[str]) -> int | None:
    """Print cached credentials and return 0, or None to take the full path."""
    profile = parse_profile_arg(argv)
    if profile is None:
        return None
    from broker.store.home_id import read_home_id, scoped_key

    data = _data_dir()
    home = read_home_id(data)
    if home is None:
        return None
    from broker.store.secret_service import read_secret

    key = f"profile:{profile}"
    raw = read_secret(_SERVICE, scoped_key(home, key))
    if raw is None:
        return None
    head, _, body = raw.decode("utf-8", "replace").partition("\n")
    fields = head.split(" ")
    if len(fields) != 3:  # an entry of an earlier version: never checked against revocations
        return None
    magic, epoch, stamp = fields
    if magic != _MAGIC or not epoch.isdigit() or not body.startswith("{"):
        return None
    from broker.store.revocation_stamp import may_serve

    if not may_serve(stamp, data) or _unfinished_write(data, key):
        return None
    import time

    if int(epoch) - time.time() <= FAST_WINDOW_SECONDS:
        return None
    sys.stdout.write(body + "\n")
    sys.stdout.flush()
    return 0
