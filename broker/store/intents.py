"""Write intents: a secret-free record on disk before any keyring entry is written.

Why: a profile or session is two writes in two places, the secret in the OS keyring and its
row in the index, and no transaction spans both. A process killed between them left a keyring
entry with no row: served by later calls, invisible to ``refresh`` and the TUI, and left behind
by ``logout``. Now every write is: take the key's lock, record the intent (the row about to be
written and a marker that identifies the new secret), write the secret, write the row, remove
the intent. The next ``CredentialStore`` to open finds any intent left by a dead writer (its
lock is free: the kernel drops a dead process's ``flock``) and settles it: forward when the
keyring holds the new secret (the row is written), back otherwise (the old pair is kept if it
matches, else both are removed). An intent file holds no secret.

Files: ``<data>/store/intents/<name>.json`` beside the lock ``<name>.json.lock``, where
``<name>`` is the hex of the key (``profile:dev`` …); ``credential-process``'s fast path checks
that the profile has no pending intent with one ``stat``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from broker.errors import StoreError
from broker.private_files import PrivateFiles
from broker.store.crash_points import crash_point

__all__ = ["INTENTS_DIR", "IntentJournal", "intent_file_name"]

_files = PrivateFiles(StoreError)

INTENTS_DIR = Path("store") / "intents"
_HEX_UP_TO = 100  # keys longer than this are named by their SHA-256 (file names stay short)


def intent_file_name(key: str) -> str:
    """The intent file of ``key`` (``credential-process``'s fast path computes the same)."""
    if len(key) <= _HEX_UP_TO:
        return key.encode().hex() + ".json"
    return "h" + hashlib.sha256(key.encode()).hexdigest() + ".json"


class IntentJournal:
    """The intents of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / INTENTS_DIR

    @contextlib.contextmanager
    def writing(self, key: str, record: dict[str, Any]) -> Iterator[None]:
        """Hold ``key``'s write lock with ``record`` on disk for the ``with`` block.

        The intent is removed only when the block finishes; if it raises (or the process dies)
        the intent stays and the next open settles it.
        """
        path = self.dir / intent_file_name(key)
        with _files.locked(path, timeout=120, what=f"the write of {key}"):
            crash_point("intent-locked")
            _files.write_bytes(path, json.dumps({**record, "key": key}).encode())
            crash_point("intent-written")
            yield
            crash_point("row-written")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def pending(self) -> list[str]:
        """The intent files present now (a dead writer's, or a live writer's mid-write)."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot list {self.dir}: {exc.strerror}") from None
        return sorted(n for n in names if n.endswith(".json"))

    @contextlib.contextmanager
    def settling(self, name: str) -> Iterator[dict[str, Any] | None]:
        """Take intent ``name``'s lock (waiting for a live writer to finish) and yield its
        record, or None when it is gone or unreadable (a writer killed while recording it had
        not touched the keyring yet); the intent is removed when the block ends."""
        path = self.dir / name
        with _files.locked(path, timeout=120, what="a pending store write"):
            raw = _files.read_bytes(path)
            record: dict[str, Any] | None = None
            if raw is not None:
                try:
                    loaded = json.loads(raw)
                    record = loaded if isinstance(loaded, dict) else None
                except ValueError:
                    record = None
            if raw is not None:
                yield record
                crash_point("recovered-one")
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            else:
                yield None
