"""The real Secret Service for ``keyring`` tests: present, unlocked, and emptied of our items."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from broker.store.keyring_store import SERVICE


def _delete_our_items() -> None:
    import secretstorage

    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.Collection(connection)
        for item in collection.search_items({"service": SERVICE}):
            item.delete()


@pytest.fixture
def secret_service(broker_home: Path) -> Iterator[None]:
    """Fails (never skips) when no unlocked Secret Service is reachable; cleans our entries."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.fail(
            "no D-Bus session bus: run keyring tests under "
            "`dbus-run-session -- scripts/with-keyring python -m pytest ...`"
        )
    try:
        import secretstorage

        with closing(secretstorage.dbus_init()) as connection:
            if not secretstorage.check_service_availability(connection):
                raise RuntimeError("org.freedesktop.secrets is not on the bus")
            if secretstorage.Collection(connection).is_locked():
                raise RuntimeError("the default collection is locked")
    except Exception as exc:
        pytest.fail(f"no usable Secret Service ({exc}); start it with scripts/with-keyring")
    _delete_our_items()
    yield
    _delete_our_items()
