"""The ``credential-process`` hot path: a cache hit with (almost) no imports.

``broker.cli.main`` calls ``fast_credential_process`` before building the parser. On a hit it
reads this data directory's id (``broker.store.home_id``) and one keyring item over D-Bus
(``broker.store.secret_service``), checks the expiry epoch and lifetime in the entry's first
line against the chain's own freshness rule (``broker.client.freshness``), and writes the
stored Version 1 JSON.

On a miss it takes the profile's lock (``broker.store.locking.wait_or_hold``) and looks
again before giving up: when many processes start on a cold cache, one of them mints while
the others wait here, cheaply, and then find what it stored. The process that finds nothing
keeps the lock and returns None; the full command (locking, minting, proper errors) then runs
under the lock it already holds. Anything unusual — other arguments, no Secret Service, no
data directory id — returns None at once.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["fast_credential_process", "parse_profile_arg"]

_MAGIC = "broker-v1"
_SERVICE = "access-broker"
# Entries written before the lifetime was recorded count as long-lived (as the chain does).
_LEGACY_LIFETIME = 2 * 60 * 60


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


def _fresh_body(home: str, profile: str) -> str | None:
    """The cached Version 1 JSON of ``profile`` if it is fresh, else None."""
    from broker.client.freshness import is_fresh
    from broker.store.home_id import scoped_key
    from broker.store.secret_service import read_secret

    raw = read_secret(_SERVICE, scoped_key(home, f"profile:{profile}"))
    if raw is None:
        return None
    head, _, body = raw.decode("utf-8", "replace").partition("\n")
    fields = head.split(" ")
    if fields[0] != _MAGIC or len(fields) not in (2, 3) or not body.startswith("{"):
        return None
    if not all(field.isdigit() for field in fields[1:]):
        return None
    lifetime = int(fields[2]) if len(fields) == 3 else _LEGACY_LIFETIME
    import time

    return body if is_fresh(int(fields[1]) - time.time(), lifetime) else None


def fast_credential_process(argv: list[str]) -> int | None:
    """Print cached credentials and return 0, or None to take the full path."""
    profile = parse_profile_arg(argv)
    if profile is None:
        return None
    from broker.store.home_id import read_home_id

    data_dir = _data_dir()
    home = read_home_id(data_dir)
    if home is None:
        return None
    body = _fresh_body(home, profile)
    if body is None:
        from broker.errors import StoreError
        from broker.store.locking import wait_or_hold

        try:
            body = wait_or_hold(
                data_dir / "store" / "locks", "profile", profile, lambda: _fresh_body(home, profile)
            )
        except StoreError:
            return None  # the full path reports it
        if body is None:
            return None  # this process holds the profile's lock: the full path mints
    sys.stdout.write(body + "\n")
    sys.stdout.flush()
    return 0
