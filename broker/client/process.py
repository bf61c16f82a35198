"""The ``credential-process`` hot path: a cache hit with (almost) no imports.

``broker.cli.main`` calls ``fast_credential_process`` before building the parser. On a hit it
reads this data directory's id (``broker.keyring_gate.home_id``) and one keyring item over D-Bus
(``broker.store.secret_service``), checks the expiry epoch and lifetime in the entry's first
line against the chain's own freshness rule (``broker.client.freshness``) and its revocation
stamp, and writes the stored Version 1 JSON. A revocation list changed since the entry was
checked (``broker.store.revocation_stamp``), a write of the profile left unfinished
(``broker.store.intents``), unusual arguments or no Secret Service return None and the full
command handles it (with locking, minting, recovery and proper errors).

On a miss it takes the profile's lock (``broker.store.locking.wait_or_hold``) and looks again
before giving up: when many processes start on a cold cache, one of them mints while the
others wait here, cheaply, and then find what it stored. The process that finds nothing keeps
the lock and returns None; the full command then runs under the lock it already holds.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["fast_credential_process", "parse_profile_arg"]

# Entries written before the lifetime was recorded count as long-lived (as the chain does).
_LEGACY_LIFETIME = 2 * 60 * 60
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


def _unfinished_write(data: Path, key: str) -> bool:
    """True when a write of ``key`` has an intent on disk (or cannot be told apart)."""
    import os

    if len(key) > 100:  # named by a hash there; not worth importing hashlib here
        return True
    return os.path.lexists(data / INTENTS_DIR / (key.encode().hex() + ".json"))


def _fresh_body(data: Path, home: str, profile: str) -> str | None:
    """The cached Version 1 JSON of ``profile`` if it may be served now, else None."""
    from broker.keyring_gate.home_id import scoped_key
    from broker.store.secret_service import read_secret

    key = f"profile:{profile}"
    raw = read_secret(_SERVICE, scoped_key(home, key))
    if raw is None:
        return None
    head, _, body = raw.decode("utf-8", "replace").partition("\n")
    fields = head.split(" ")
    if len(fields) not in (3, 4):  # an earlier version's: never checked against revocations
        return None
    magic, epoch, stamp = fields[:3]
    lifetime = fields[3] if len(fields) == 4 else str(_LEGACY_LIFETIME)
    if magic != _MAGIC or not (epoch.isdigit() and lifetime.isdigit()):
        return None
    if not body.startswith("{"):
        return None
    from broker.store.revocation_stamp import may_serve

    if not may_serve(stamp, data) or _unfinished_write(data, key):
        return None
    import time

    from broker.client.freshness import is_fresh

    return body if is_fresh(int(epoch) - time.time(), int(lifetime)) else None


def fast_credential_process(argv: list[str], find_data_dir: Callable[[], Path]) -> int | None:
    """Print cached credentials and return 0, or None to take the full path.

    ``find_data_dir``: the front end's way to the data directory, called only for a plain
    ``--profile NAME`` (``broker.data_location.data_dir``: no configuration import).
    """
    profile = parse_profile_arg(argv)
    if profile is None:
        return None
    from broker.keyring_gate.home_id import read_home_id

    data = find_data_dir()
    home = read_home_id(data)
    if home is None:
        return None
    body = _fresh_body(data, home, profile)
    if body is None:
        from broker.errors import StoreError
        from broker.store.locking import wait_or_hold

        try:
            body = wait_or_hold(
                data / "store" / "locks",
                "profile",
                profile,
                lambda: _fresh_body(data, home, profile),
            )
        except StoreError:
            return None  # the full path reports it
        if body is None:
            return None  # this process holds the profile's lock: the full path mints
    sys.stdout.write(body + "\n")
    sys.stdout.flush()
    return 0
