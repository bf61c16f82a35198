"""The audit log: chained, durable, fail-closed, tamper-evident, and free of secrets."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import UTC, datetime

import pytest

from broker.audit import AuditLog, EventFilter, cloudtrail_event, select
from broker.errors import AuditError


def event(name: str = "AssumeRole", user: str = "alice", **extra) -> dict:
    return cloudtrail_event(
        name,
        user_identity={"type": "IAMUser", "userName": user},
        request_id="req-1",
        request_parameters={"roleArn": "arn:aws:iam::111122223333:role/Admin", **extra},
    )


@pytest.fixture
def log(tmp_path) -> AuditLog:
    audit = AuditLog(tmp_path / "audit" / "audit.jsonl")
    for i in range(5):
        audit.append(event(user=f"user{i}"))
    return audit


def rewrite(audit: AuditLog, lines: list[bytes]) -> None:
    audit.path.write_bytes(b"".join(lines))


def test_chain_verifies_and_files_are_private(log) -> None:
    result = log.verify()
    assert result.events == 5
    assert log.path.stat().st_mode & 0o777 == 0o600
    assert log.path.parent.stat().st_mode & 0o777 == 0o700
    records = list(log.events())
    assert [r["eventSequence"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0]["previousEventHash"] == "0" * 64


def test_edit_is_detected(log) -> None:
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"user1", b"mallory")
    rewrite(log, lines)
    with pytest.raises(AuditError, match=":3: hash chain broken"):
        log.verify()


def test_edit_of_last_event_is_detected(log) -> None:
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[-1] = lines[-1].replace(b"user4", b"userX")
    rewrite(log, lines)
    with pytest.raises(AuditError, match="last event was edited"):
        log.verify()


def test_deletion_is_detected(log) -> None:
    lines = log.path.read_bytes().splitlines(keepends=True)
    del lines[2]
    rewrite(log, lines)
    with pytest.raises(AuditError, match="hash chain broken"):
        log.verify()


def test_reordering_is_detected(log) -> None:
    lines = log.path.read_bytes().splitlines(keepends=True)
    lines[1], lines[2] = lines[2], lines[1]
    rewrite(log, lines)
    with pytest.raises(AuditError, match="hash chain broken"):
        log.verify()


def test_truncation_is_detected(log) -> None:
    lines = log.path.read_bytes().splitlines(keepends=True)
    rewrite(log, lines[:3])
    with pytest.raises(AuditError, match="holds 3 events but 5 were written"):
        log.verify()
    rewrite(log, [*lines[:4], lines[4][:20]])
    with pytest.raises(AuditError, match="cut short"):
        log.verify()


def test_unwritable_log_fails_closed(tmp_path) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir(mode=0o500)
    audit = AuditLog(blocked / "audit.jsonl")
    if os.geteuid() == 0:
        # root ignores permissions; a directory where the file should be is as unwritable
        (blocked / "audit.jsonl").mkdir()
    with pytest.raises(AuditError, match="the call was refused"):
        audit.append(event())


def test_world_readable_log_is_refused(log) -> None:
    log.path.chmod(0o644)
    with pytest.raises(AuditError, match="chmod 600"):
        log.append(event())


def test_no_secret_reaches_the_log(tmp_path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    secrets = ["wJalrXUtnFEMI/K7MDENG", "eyJhbGciOi.token.sig", "PHNhbWw+", "123456"]
    audit.append(
        cloudtrail_event(
            "AssumeRoleWithWebIdentity",
            user_identity={"type": "WebIdentityUser", "sessionToken": secrets[1]},
            request_id="r",
            request_parameters={
                "WebIdentityToken": secrets[1],
                "SAMLAssertion": secrets[2],
                "tokenCode": secrets[3],
            },
            response_elements={
                "credentials": {
                    "accessKeyId": "BRKSAAAAAAAAAAAAAAAA",
                    "secretAccessKey": secrets[0],
                    "sessionToken": secrets[1],
                }
            },
        )
    )
    text = audit.path.read_text()
    assert "BRKSAAAAAAAAAAAAAAAA" in text
    for secret in secrets:
        assert secret not in text


def _writer(path: str, count: int) -> None:
    audit = AuditLog(__import__("pathlib").Path(path))
    for _ in range(count):
        audit.append(event())


def test_concurrent_writers_keep_one_chain(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_writer, args=(str(path), 25)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert AuditLog(path).verify().events == 100


def test_query_filters(log) -> None:
    log.append(event("GetCallerIdentity", user="bob"))
    chosen = list(select(log.events(), EventFilter(user="bob")))
    assert [e["eventName"] for e in chosen] == ["GetCallerIdentity"]
    assert len(list(select(log.events(), EventFilter(role="Admin")))) == 6
    assert len(list(select(log.events(), EventFilter(event="AssumeRole")))) == 5
    future = datetime(2100, 1, 1, tzinfo=UTC)
    assert list(select(log.events(), EventFilter(since=future))) == []


def test_audit_commands(run_broker, log) -> None:
    ok = run_broker("audit", "verify", "--log", str(log.path))
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 5 events")
    tail = run_broker("audit", "tail", "-n", "2", "--log", str(log.path))
    users = [json.loads(line)["userIdentity"]["userName"] for line in tail.stdout.splitlines()]
    assert users == ["user3", "user4"]
    query = run_broker("audit", "query", "--user", "user1", "--log", str(log.path))
    assert len(query.stdout.splitlines()) == 1
    lines = log.path.read_bytes().splitlines(keepends=True)
    rewrite(log, lines[:-1])
    bad = run_broker("audit", "verify", "--log", str(log.path))
    assert bad.returncode == AuditError.exit_code and bad.stdout == ""
    assert "truncated" in bad.stderr


def test_threads_share_group_commits_and_each_gets_its_own_record(tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    audit = AuditLog(tmp_path / "audit.jsonl")
    with ThreadPoolExecutor(max_workers=8) as pool:
        records = list(pool.map(lambda i: audit.append(event(user=f"u{i}")), range(80)))
    assert sorted(r["eventSequence"] for r in records) == list(range(1, 81))
    assert {r["userIdentity"]["userName"] for r in records} == {f"u{i}" for i in range(80)}
    assert audit.verify().events == 80


def test_head_lagging_after_a_crash_still_verifies_but_ahead_does_not(log) -> None:
    head = json.loads(log.head_path.read_bytes())
    lines = log.path.read_bytes().splitlines(keepends=True)
    import hashlib

    lagging = {"events": 4, "lastHash": hashlib.sha256(lines[3].rstrip(b"\n")).hexdigest()}
    log.head_path.write_text(json.dumps(lagging))
    assert log.verify().events == 5
    log.head_path.write_text(json.dumps({**head, "events": 6}))
    with pytest.raises(AuditError, match="truncated"):
        log.verify()


def test_head_is_one_fixed_size_record_rewritten_in_place(log) -> None:
    """A head that always has the same size is written with one ``pwrite`` and no truncate:
    a crash leaves the old head or the new one, never a torn or empty file."""
    from broker.audit.log import HEAD_BYTES

    before = os.stat(log.head_path)
    assert before.st_size == HEAD_BYTES
    log.append(event(user="late"))
    after = os.stat(log.head_path)
    assert after.st_size == HEAD_BYTES and after.st_ino == before.st_ino
    assert json.loads(log.head_path.read_bytes())["events"] == 6
    # A head left by an older version (shorter, unpadded) is resized on the next write.
    log.head_path.write_text(json.dumps({"events": 6, "lastHash": log.verify().last_hash}))
    log.append(event(user="later"))
    assert os.stat(log.head_path).st_size == HEAD_BYTES and log.verify().events == 7


def test_crash_after_the_log_fsync_before_the_head_write_verifies_and_continues(log) -> None:
    """Events fsynced in the log but not yet in the head (crash, power loss) still verify,
    and the next writer picks up the chain from the log itself and rewrites the head."""
    stale = log.head_path.read_bytes()
    log.append(event(user="a"))
    log.append(event(user="b"))
    log.head_path.write_bytes(stale)  # the head as a power loss may leave it
    assert log.verify().events == 7
    fresh = AuditLog(log.path)
    assert fresh.append(event(user="c"))["eventSequence"] == 8
    assert json.loads(log.head_path.read_bytes())["events"] == 8
    # Cutting the log back below a head that was written is still caught.
    lines = log.path.read_bytes().splitlines(keepends=True)
    rewrite(log, lines[:6])
    with pytest.raises(AuditError, match="truncated"):
        log.verify()
