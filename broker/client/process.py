"""The ``credential-process`` hot path: a cache hit with (almost) no imports.

``broker.cli.main`` calls ``fast_credential_process`` before building the parser. On a hit it
reads this data directory's id (``broker.store.home_id``) and one keyring item over D-Bus
(``broker.store.secret_service``), checks the expiry epoch in
the entry's first line, and writes the stored Version 1 JSON. Anything else — unusual
arguments, no Secret Service, a miss, credentials inside the refresh window — returns None and
the full command handles it (with locking, minting and proper errors).
"""

from __future__ import annotations

import sys

__all__ = ["FAST_WINDOW_SECONDS", "fast_credential_process", "parse_profile_arg"]

# The same 20 minutes as ``broker.client.chain.REFRESH_WINDOW`` (kept literal: no imports).
FAST_WINDOW_SECONDS = 20 * 60
_MAGIC = "broker-v1"
_SERVICE = "access-broker"


def parse_profile_arg(argv: list[str]) -> str | None:
    """The profile of ``--profile NAME`` / ``--profile=NAME`` when that is all there is."""
    if len(argv) == 2 and argv[0] == "--profile":
        return argv[1] or None
    if len(argv) == 1 and argv[0].startswith("--profile="):
        return argv[0].partition("=")[2] or None
    return None


def _home_id() -> str | None:
    """This data directory's keyring namespace (``broker.store.home_id``), if it has one.

    The data directory is resolved as ``broker.config.loader.data_dir`` does (a test holds
    the two equal) without importing ``broker.config`` (~25 ms).
    """
    import os
    from pathlib import Path

    from broker.store.home_id import read_home_id

    home = os.environ.get("BROKER_HOME")
    if home:
        return read_home_id(Path(home).expanduser())
    import platformdirs

    return read_home_id(Path(platformdirs.user_data_dir("access-broker", appauthor=False)))


def fast_credential_process(argv: list[str]) -> int | None:
    """Print cached credentials and return 0, or None to take the full path."""
    profile = parse_profile_arg(argv)
    if profile is None:
        return None
    home = _home_id()
    if home is None:
        return None
    from broker.store.home_id import scoped_key
    from broker.store.secret_service import read_secret

    raw = read_secret(_SERVICE, scoped_key(home, f"profile:{profile}"))
    if raw is None:
        return None
    head, _, body = raw.decode("utf-8", "replace").partition("\n")
    magic, _, epoch = head.partition(" ")
    if magic != _MAGIC or not epoch.isdigit() or not body.startswith("{"):
        return None
    import time

    if int(epoch) - time.time() <= FAST_WINDOW_SECONDS:
        return None
    sys.stdout.write(body + "\n")
    sys.stdout.flush()
    return 0
