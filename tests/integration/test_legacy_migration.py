"""A data directory of the old file layout is moved into the state database once, by the real
``broker`` command: one stderr line naming what moved, the files renamed aside, and a process
killed mid-way resumed without losing or doubling anything.

The old files are written here in their old formats (the code that wrote them is gone).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.server.query_api import StsService
from broker.sts.credential_format import derive_secret
from broker.sts.signing_keys import KeyRing
from broker.sts.state import open_sts_state
from tests.conftest import RunBroker
from tests.unit.server.test_query_api import call

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
KEY_ID = "BRKUOLDLAYOUT0000001"
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
OLD_EVENTS = 3


def _private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_old_layout(home: Path) -> KeyRing:
    """Every state file an old data directory held, in its old format; the ring they used."""
    now = datetime.now(UTC).replace(microsecond=0)
    ring = KeyRing.generate(now - timedelta(days=1))
    _private(
        home / "sts" / "signing-keys.json",
        json.dumps(
            {
                "keys": [key.to_json() for key in ring.keys],
                "user_key_secret": base64.b64encode(ring.user_key_secret).decode(),
            }
        ),
    )
    created = (now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _private(
        home / "sts" / "access-keys.json",
        json.dumps(
            [
                {
                    "AccessKeyId": KEY_ID,
                    "UserName": "svc-old",
                    "Account": ACCOUNT,
                    "Status": "Active",
                    "CreateDate": created,
                }
            ]
        ),
    )
    before = (now - timedelta(hours=1)).isoformat()
    _private(
        home / "sts" / "revocations.json",
        json.dumps([{"kind": "session", "value": "oldsession", "before": before}]),
    )
    digest = hashlib.sha256(POLICY.encode()).hexdigest()
    _private(home / "sts" / "session-policies" / f"{digest}.json", POLICY)
    _private(
        home / "sts" / "mfa-devices.json",
        json.dumps({f"arn:aws:iam::{ACCOUNT}:mfa/svc-old": "svc-old"}),
    )
    lines, previous = [], "0" * 64
    for number in range(1, OLD_EVENTS + 1):
        record = {
            "eventName": "GetCallerIdentity",
            "eventID": f"old-{number}",
            "eventSequence": number,
            "previousEventHash": previous,
        }
        line = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        previous = hashlib.sha256(line).hexdigest()
        lines.append(line + b"\n")
    _private(home / "audit" / "audit.jsonl", b"".join(lines).decode())
    _private(home / "audit" / "audit.jsonl.head", json.dumps({"events": OLD_EVENTS}))
    return ring


OLD_FILES = (
    "sts/signing-keys.json",
    "sts/access-keys.json",
    "sts/revocations.json",
    "sts/session-policies",
    "sts/mfa-devices.json",
    "audit/audit.jsonl",
)


def _check_moved(home: Path, ring: KeyRing) -> None:
    for name in OLD_FILES:
        assert not (home / name).exists(), name
        assert (home / (name + ".imported")).exists(), name  # set aside, never deleted
    state = open_sts_state(None, home, pool_size=1)
    try:
        assert state.ring.active.kid == ring.active.kid
        assert state.ring.user_key_secret == ring.user_key_secret
        assert [k.access_key_id for k in state.access_keys().list()] == [KEY_ID]
        assert [r.value for r in state.shared.revocations.rules()] == ["oldsession"]
        digest = hashlib.sha256(POLICY.encode()).hexdigest()
        assert state.shared.session_policies.get(digest) == POLICY
        assert [d.user for d in state.shared.sts_mfa.all()] == ["svc-old"]
        events = list(state.shared.audit.records())
        old = [e["eventID"] for e in events if str(e.get("eventID", "")).startswith("old-")]
        assert old == [f"old-{n}" for n in range(1, OLD_EVENTS + 1)]  # once each, in order
        assert state.shared.audit.verify().ok
        # The old key's secret still signs: it derives from the moved user-key secret.
        secret = derive_secret(ring.user_key_secret, "user-key", KEY_ID)
        answer = call(
            StsService.over(state, data=home), KEY_ID, secret, {"Action": "GetCallerIdentity"}
        )
        assert answer.status == 200, answer.body
    finally:
        state.close()


def test_old_files_move_into_the_database_once_with_one_line(
    run_broker: RunBroker, broker_home: Path
) -> None:
    ring = write_old_layout(broker_home)
    first = run_broker("access-keys", "list")
    assert first.returncode == 0, first.stderr
    assert KEY_ID in first.stdout
    moved = [line for line in first.stderr.splitlines() if "moved" in line]
    assert len(moved) == 1
    for name in OLD_FILES:
        assert name in moved[0]
    _check_moved(broker_home, ring)
    again = run_broker("keys", "list")
    assert again.returncode == 0 and "moved" not in again.stderr
    assert ring.active.kid in again.stdout


@pytest.mark.parametrize("point", ["legacy-importing", "legacy-imported"])
def test_a_migration_killed_midway_resumes_without_loss_or_doubles(
    run_broker: RunBroker, broker_home: Path, point: str
) -> None:
    ring = write_old_layout(broker_home)
    killed = run_broker("access-keys", "list", env={"BROKER_TEST_CRASH_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert any((broker_home / name).exists() for name in OLD_FILES)  # not done yet
    resumed = run_broker("access-keys", "list")
    assert resumed.returncode == 0, resumed.stderr
    assert KEY_ID in resumed.stdout
    _check_moved(broker_home, ring)


def test_an_old_audit_log_that_does_not_verify_is_refused_and_kept(
    run_broker: RunBroker, broker_home: Path
) -> None:
    write_old_layout(broker_home)
    log = broker_home / "audit" / "audit.jsonl"
    log.write_text(log.read_text().replace("old-2", "old-X"))
    refused = run_broker("access-keys", "list")
    assert refused.returncode != 0
    lines = [line for line in refused.stderr.splitlines() if line.startswith("broker: error")]
    assert len(lines) == 1 and "audit.jsonl" in lines[0] and "does not verify" in lines[0]
    assert log.exists() and not log.with_name("audit.jsonl.imported").exists()


@pytest.mark.parametrize(
    ("name", "entries", "what"),
    [
        ("sts/access-keys.json", {"not": "a list"}, "an access-key list"),
        ("sts/access-keys.json", [{"AccessKeyId": KEY_ID}], "an access-key list"),
        (
            "sts/access-keys.json",
            [
                {
                    "AccessKeyId": KEY_ID,
                    "UserName": "svc-old",
                    "Account": ACCOUNT,
                    "Status": "Suspended",
                    "CreateDate": "2026-01-02T03:04:05Z",
                }
            ],
            "an access-key list",
        ),
        ("sts/revocations.json", [{"kind": "session", "value": "x"}], "a revocation list"),
        (
            "sts/revocations.json",
            [{"kind": "account", "value": "x", "before": "2026-01-02T03:04:05+00:00"}],
            "a revocation list",
        ),
    ],
    ids=["not-a-list", "entry-incomplete", "status-unknown", "no-cutoff", "kind-unknown"],
)
def test_an_old_list_file_with_a_bad_entry_is_refused_whole_and_kept(
    run_broker: RunBroker, broker_home: Path, name: str, entries: object, what: str
) -> None:
    """Files before it move; it and those after stay in place, nothing of it in the database."""
    write_old_layout(broker_home)
    old = broker_home / name
    _private(old, json.dumps(entries))
    refused = run_broker("access-keys", "list")
    assert refused.returncode == 3, refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.startswith("broker: error")]
    assert lines == [f"broker: error: {old} is not {what}; fix or move it aside, then retry"]
    assert old.exists() and not old.with_name(old.name + ".imported").exists()
    assert (broker_home / "sts" / "signing-keys.json.imported").exists()  # moved before it
    assert (broker_home / "audit" / "audit.jsonl").exists()  # after it: not yet
    _private(old, "[]")  # fixed: the next open moves the rest
    moved = run_broker("access-keys", "list")
    assert moved.returncode == 0, moved.stderr
    assert not old.exists() and not (broker_home / "audit" / "audit.jsonl").exists()
