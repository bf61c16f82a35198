"""The runtime tables of an old ``<data>/directory.sqlite``, moved into the state database.

Before the directory snapshot lived in the state database, each data directory kept its own
``directory.sqlite``: the configuration's tables (rebuilt from the files, so not moved) and the
runtime tables ``mfa_devices`` (devices and their last TOTP step) and ``jit_users``. Their rows
are moved by ``broker.sts.legacy_files`` (one transaction with its ``legacy_imports`` row, the
file then renamed ``.imported``). A device or user already in the database is kept as it is.
The old ``access_keys`` table was never written by any broker; rows in it are refused rather
than guessed at.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from broker.errors import ConfigError
from broker.storage.clock import micros
from broker.storage.database import Cursor

__all__ = ["import_directory_runtime"]

_FIX = "fix or move it aside, then retry"


def _micros(text: str) -> int:
    return micros(datetime.fromisoformat(text))


def _read(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], int]:
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"{path} is accessible to other users; run chmod 600 on it and retry")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            devices = conn.execute(
                "SELECT user_name, device, kind, created_at, last_step FROM mfa_devices"
            ).fetchall()
            users = conn.execute(
                "SELECT provider, subject, name, email, first_seen FROM jit_users"
            ).fetchall()
            keys = conn.execute("SELECT COUNT(*) FROM access_keys").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        raise ConfigError(f"{path} is not a directory database; {_FIX}") from None
    return devices, users, int(keys)


def import_directory_runtime(cursor: Cursor, path: Path) -> str:
    """Move the MFA devices and JIT users of the old database ``path``; what moved.

    Raises:
        ConfigError: the file is not private, not a directory database, or holds rows this
            broker cannot place (nothing is moved).
    """
    devices, users, keys = _read(path)
    if keys:
        raise ConfigError(
            f"{path} holds {keys} directory access key row(s), which no broker writes; {_FIX}"
        )
    try:
        device_rows = [
            (str(u), str(d), str(k), _micros(str(c)), None if s is None else int(str(s)))
            for u, d, k, c, s in devices
        ]
        user_rows = [(str(p), str(s), str(n), str(e), _micros(str(f))) for p, s, n, e, f in users]
    except (TypeError, ValueError):
        raise ConfigError(f"{path} has a runtime row that is not in its format; {_FIX}") from None
    for device in device_rows:
        cursor.execute(
            "INSERT INTO mfa_devices (user_name, device, kind, created_us, last_step) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_name, device) DO NOTHING",
            device,
        )
    for user in user_rows:
        cursor.execute(
            "INSERT INTO jit_users (provider, subject, name, email, first_seen_us) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, subject) DO NOTHING",
            user,
        )
    return f"{len(device_rows)} MFA device(s), {len(user_rows)} JIT user(s)"
