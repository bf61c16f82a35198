"""Moving a data directory's old state files into the state database, once.

Before all server-side state lived in one database, a data directory held it as files:
``sts/signing-keys.json``, ``sts/access-keys.json``, ``sts/revocations.json``,
``sts/session-policies/``, ``sts/mfa-devices.json``, ``audit/audit.jsonl`` (with its head
file) and the directory's ``directory.sqlite`` (its runtime tables only, see
``broker.storage.legacy_directory``). Opening the state (``broker.sts.state.open_sts_state``)
moves each one that is still there into the database, prints one line to stderr naming what
moved, and renames the file aside (``<name>.imported``), never deleting it.

Crash safety: each file is imported in one transaction that also records it in
``legacy_imports``; only after that commit is the file renamed. A process killed before the
commit leaves nothing in the database (the next open imports the file again); one killed after
it leaves the file in place and its row written (the next open only renames it). Two processes
opening at once import each file once.

Conflicts: a database that already has a key ring keeps it (the file's keys are not added:
sessions they signed, and secrets derived from the file's user-key secret, stop working there,
and the message says so); access keys, revocations, policies and devices already present are
kept as they are. An old audit log whose hash chain does not verify is refused, not imported.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from broker.errors import ConfigError
from broker.private_files import PrivateFiles
from broker.storage.audit_chain import GENESIS_HASH, append_within
from broker.storage.clock import micros
from broker.storage.database import Cursor, Database
from broker.storage.legacy_directory import import_directory_runtime
from broker.store.crash_points import crash_point
from broker.sts.signing_keys import SigningKey

__all__ = ["LEGACY_FILES", "import_legacy_files"]

_files = PrivateFiles(ConfigError)
_FIX = "fix or move it aside, then retry"


@dataclass(frozen=True)
class _Legacy:
    """One old file (or directory) and how its contents go into the database."""

    name: str
    """Its path under the data directory; also its row in ``legacy_imports``."""
    importer: Callable[[Cursor, Path], str]
    """Writes the contents through the cursor; returns what moved, e.g. ``2 keys``."""
    section: str = "legacy-import"
    extra: tuple[str, ...] = ()
    """Files beside it renamed with it (the audit log's head)."""


def _now_us() -> int:
    return micros(datetime.now(UTC))


def _bad(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{path} is not {what}; {_FIX}")


def _signing_keys(cursor: Cursor, path: Path) -> str:
    data = _files.read_json(path, None, fix=_FIX)
    try:
        keys = [SigningKey.from_json(item) for item in data["keys"]]
        secret = str(data["user_key_secret"])
        base64.b64decode(secret, validate=True)
    except (KeyError, TypeError, ValueError):
        raise _bad(path, "a signing-key file") from None
    cursor.execute("SELECT 1 FROM signing_keys LIMIT 1")
    has_keys = cursor.fetchone() is not None
    cursor.execute("SELECT 1 FROM key_ring_secrets WHERE name = 'user_key_secret'")
    if has_keys or cursor.fetchone() is not None:
        return "not its keys: the database has its own key ring, which is kept"
    for key in keys:
        cursor.execute(
            "INSERT INTO signing_keys (kid, created_us, retired_us, material) VALUES (?, ?, ?, ?)",
            (
                key.kid,
                micros(key.created),
                micros(key.retired) if key.retired else None,
                json.dumps(key.to_json()),
            ),
        )
    cursor.execute(
        "INSERT INTO key_ring_secrets (name, material, created_us) VALUES (?, ?, ?)",
        ("user_key_secret", secret, _now_us()),
    )
    return f"{len(keys)} key(s)"


def _list_rows(
    path: Path, what: str, row_of: Callable[[Any], tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Each entry of the JSON list in ``path`` as a table row. ``row_of`` raises
    ``KeyError``/``TypeError``/``ValueError`` for an entry that is not one; the whole file is
    then refused as not being ``what``."""
    listed = _files.read_json(path, None, fix=_FIX)
    if not isinstance(listed, list):
        raise _bad(path, what)
    try:
        return [row_of(item) for item in listed]
    except (KeyError, TypeError, ValueError):
        raise _bad(path, what) from None


def _one_of(value: Any, allowed: tuple[str, ...]) -> str:
    text = str(value)
    if text not in allowed:
        raise ValueError(f"not one of {allowed}")
    return text


def _list_importer(
    what: str, row_of: Callable[[Any], tuple[Any, ...]], insert: str, moved: str
) -> Callable[[Cursor, Path], str]:
    """The importer of an old JSON-list file whose entries become rows of one table
    (``insert`` keeps a row already present as it is); it answers ``<count> <moved>``."""

    def importer(cursor: Cursor, path: Path) -> str:
        rows = _list_rows(path, what, row_of)
        for row in rows:
            cursor.execute(insert, row)
        return f"{len(rows)} {moved}"

    return importer


def _access_key_row(item: Any) -> tuple[Any, ...]:
    return (
        str(item["AccessKeyId"]),
        str(item["UserName"]),
        str(item["Account"]),
        _one_of(item["Status"], ("Active", "Inactive")),
        micros(datetime.fromisoformat(str(item["CreateDate"]).replace("Z", "+00:00"))),
    )


def _revocation_row(item: Any) -> tuple[Any, ...]:
    return (
        _one_of(item["kind"], ("role", "user", "session")),
        str(item["value"]),
        micros(datetime.fromisoformat(str(item["before"]))),
        _now_us(),
    )


_access_keys = _list_importer(
    "an access-key list",
    _access_key_row,
    "INSERT INTO access_keys (access_key_id, user_name, account, status, created_us) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (access_key_id) DO NOTHING",
    "access key record(s)",
)
_revocations = _list_importer(
    "a revocation list",
    _revocation_row,
    "INSERT INTO revocations (kind, value, before_us, created_us) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (kind, value, before_us) DO NOTHING",
    "revocation(s)",
)


def _session_policies(cursor: Cursor, path: Path) -> str:
    moved = altered = 0
    for entry in sorted(path.glob("*.json")):
        text = entry.read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode()).hexdigest()
        if entry.stem != digest:  # altered on disk: sessions naming it were refused already
            altered += 1
            continue
        cursor.execute(
            "INSERT INTO session_policies (digest, document, created_us) VALUES (?, ?, ?) "
            "ON CONFLICT (digest) DO NOTHING",
            (digest, text, _now_us()),
        )
        moved += 1
    return f"{moved} session policy(ies)" + (
        f", {altered} altered one(s) left out" if altered else ""
    )


def _mfa_devices(cursor: Cursor, path: Path) -> str:
    import re

    serial_form = re.compile(r"arn:aws:iam::(\d{12}):mfa/([\w+=,.@-]{1,64})", re.ASCII)
    listed = _files.read_json(path, None, fix=_FIX)
    if not isinstance(listed, dict):
        raise _bad(path, "an MFA device list")
    for serial, user in listed.items():
        match = serial_form.fullmatch(serial)
        if match is None or match[2] != user:
            raise ConfigError(
                f"{path} lists an entry that is not an MFA device ({serial!r}); {_FIX}"
            )
        cursor.execute(
            "INSERT INTO sts_mfa_devices (serial, user_name, account, seed_nonce, created_us) "
            "VALUES (?, ?, ?, '', ?) ON CONFLICT (serial) DO NOTHING",
            (serial, user, match[1], _now_us()),
        )
    return (
        f"{len(listed)} MFA device(s) (a device enrolled under another key ring must be "
        "enrolled again)"
    )


def _audit_log(cursor: Cursor, path: Path) -> str:
    """The old log's events, in order, chained onto the database's chain (their old sequence
    numbers and hashes give way to the new chain's) after the old chain verified."""
    events: list[dict[str, Any]] = []
    previous = GENESIS_HASH
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\n")
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise _bad(path, f"an audit log (line {number} is not JSON)") from None
            if not isinstance(record, dict) or record.get("previousEventHash") != previous:
                raise ConfigError(
                    f"the old audit log {path} does not verify at line {number}; restore it "
                    "or move it aside, then retry"
                )
            previous = hashlib.sha256(line).hexdigest()
            record.pop("eventSequence", None)
            record.pop("previousEventHash", None)
            events.append(record)
    append_within(cursor, events)
    crash_point("legacy-importing")
    return f"{len(events)} audit event(s)"


LEGACY_FILES = (
    _Legacy("sts/signing-keys.json", _signing_keys, section="keys"),
    _Legacy("sts/access-keys.json", _access_keys),
    _Legacy("sts/revocations.json", _revocations),
    _Legacy("sts/session-policies", _session_policies),
    _Legacy("sts/mfa-devices.json", _mfa_devices),
    _Legacy("audit/audit.jsonl", _audit_log, section="audit", extra=("audit/audit.jsonl.head",)),
    _Legacy("directory.sqlite", import_directory_runtime),
)
"""The old layout, in the order it is moved (keys first: the rest is derived from them)."""


def _set_aside(old: Path) -> None:
    """Rename ``old`` to ``<name>.imported`` (``.imported.2`` … if taken: never over a kept
    copy)."""
    target, number = old.with_name(old.name + ".imported"), 1
    while target.exists():
        number += 1
        target = old.with_name(f"{old.name}.imported.{number}")
    try:
        old.rename(target)
    except FileNotFoundError:
        pass  # another process opening the state renamed it


def _import_one(database: Database, data_dir: Path, legacy: _Legacy) -> str | None:
    """Move one old file; what moved (None when it was moved earlier, only renamed now)."""
    path = data_dir / legacy.name
    moved: str | None = None
    with database.transaction(serialize=legacy.section) as cursor:
        cursor.execute("SELECT 1 FROM legacy_imports WHERE name = ?", (legacy.name,))
        if cursor.fetchone() is None and path.exists():
            moved = legacy.importer(cursor, path)
            cursor.execute(
                "INSERT INTO legacy_imports (name, source, done_us) VALUES (?, ?, ?)",
                (legacy.name, str(path), _now_us()),
            )
    crash_point("legacy-imported")
    for name in (legacy.name, *legacy.extra):
        _set_aside(data_dir / name)
    return moved


def import_legacy_files(database: Database, data_dir: Path) -> list[str]:
    """Move every old state file under ``data_dir`` into ``database``; what moved, one entry
    per file (a line naming them went to stderr).

    Raises:
        ConfigError: an old file is not private, not in its format, or (the audit log) does not
            verify; files before it in ``LEGACY_FILES`` are moved, it and those after are not.
    """
    present = [item for item in LEGACY_FILES if (data_dir / item.name).exists()]
    if not present:
        return []
    done = []
    try:
        for legacy in present:
            moved = _import_one(database, data_dir, legacy)
            if moved is not None:
                done.append(f"{legacy.name} ({moved})")
    finally:
        if done:
            print(
                f"broker: moved the old state files of {data_dir} into the database: "
                f"{'; '.join(done)}; each file is kept beside as <name>.imported",
                file=sys.stderr,
            )
    return done
