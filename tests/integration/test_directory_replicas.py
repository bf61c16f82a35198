"""Directory replicas on one state database: PostgreSQL shared by replicas on several hosts (own
data directories), and the embedded SQLite shared by the processes of one data directory.

Each replica is a real process. Two with the same configuration files store one snapshot (the
second reuses it); one with other files (a rolling deploy) adds its own without disturbing the
first; runtime state (a used TOTP step) is one for all of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.storage.database import open_database
from broker.storage.directory_snapshots import SqlDirectorySnapshots
from broker.storage.migrations import upgrade
from broker.sts.directory_state import open_directory
from tests.conftest import CONFIG, REPO

pytestmark = pytest.mark.integration

# One replica process: opens the directory over the state, does one thing, answers in JSON.
_REPLICA = """
import json, sys
from pathlib import Path
from broker.directory import load as load_module
from broker.sts.directory_state import open_directory
config, home, url, action = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] or None, sys.argv[4]
validated = []
real_validate = load_module.validate
load_module.validate = lambda source: validated.append(1) or real_validate(source)
directory = open_directory(config, home, url)
answer = {"validated": bool(validated), "bob": directory.user("bob").display_name}
if action == "enrol":
    directory.add_mfa_device("alice", "phone")
elif action == "use-step":
    answer["accepted"] = directory.set_mfa_last_step("alice", "phone", 58_000_000)
directory.close()
print(json.dumps(answer))
"""


def _replica(config: Path, home: Path, url: str, action: str = "") -> dict[str, object]:
    home.mkdir(mode=0o700, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", _REPLICA, str(config), str(home), url, action],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def _other_config(tmp_path: Path) -> Path:
    root = tmp_path / "new-config"
    shutil.copytree(CONFIG, root)
    users = root / "directory" / "users.toml"
    text = users.read_text(encoding="utf-8")
    assert 'display_name = "Bob"' in text
    users.write_text(text.replace('display_name = "Bob"', 'display_name = "Bob B."'), "utf-8")
    return root


def _stored(url: str) -> list[str]:
    database = open_database(url, pool_size=1)
    try:
        return SqlDirectorySnapshots(database).fingerprints()
    finally:
        database.close()


def _two_replicas_share_one_state(tmp_path: Path, home_a: Path, home_b: Path, url: str) -> None:
    first = _replica(CONFIG, home_a, url, "enrol")
    assert first == {"validated": True, "bob": "Bob"}
    second = _replica(CONFIG, home_b, url, "use-step")
    assert second == {"validated": False, "bob": "Bob", "accepted": True}  # reused, not rebuilt
    assert _stored(url) and len(_stored(url)) == 1
    again = _replica(CONFIG, home_a, url, "use-step")
    assert again["accepted"] is False  # the step B accepted is used for A too
    # A rolling deploy: B moves to new files; A keeps serving its own.
    newer = _replica(_other_config(tmp_path), home_b, url)
    assert newer == {"validated": True, "bob": "Bob B."}
    assert len(_stored(url)) == 2
    assert _replica(CONFIG, home_a, url) == {"validated": False, "bob": "Bob"}
    assert _replica(_other_config(tmp_path / "b2"), home_b, url)["validated"] is False


def test_two_replicas_on_postgresql_share_the_snapshot_and_the_runtime_state(
    tmp_path: Path, fresh_database: str
) -> None:
    database = open_database(fresh_database)
    upgrade(database)
    database.close()
    _two_replicas_share_one_state(tmp_path, tmp_path / "a", tmp_path / "b", fresh_database)


def test_two_processes_on_the_embedded_sqlite_share_it_likewise(tmp_path: Path) -> None:
    home = tmp_path / "data"
    home.mkdir(mode=0o700)
    url = f"sqlite:///{home / 'broker.db'}"
    _two_replicas_share_one_state(tmp_path, home, home, url)


def test_schema_behind_is_refused(tmp_path: Path, fresh_database: str) -> None:
    home = tmp_path / "a"
    home.mkdir(mode=0o700)
    with pytest.raises(ConfigError, match="broker db upgrade"):
        open_directory(CONFIG, home, fresh_database)


def test_data_directories_without_a_shared_database_keep_their_own_state(
    tmp_path: Path,
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        home.mkdir(mode=0o700)
    first = open_directory(CONFIG, a, None)
    second = open_directory(CONFIG, b, None)
    try:
        first.add_mfa_device("alice", "phone")
        assert second.mfa_devices("alice") == []
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_snapshot_rows_keep_the_first_of_a_fingerprint_and_only_the_newest(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from datetime import UTC, datetime, timedelta

    from broker.storage.directory_snapshots import KEEP

    if backend == "postgresql":
        url = request.getfixturevalue("fresh_database")
    else:
        (tmp_path / "data").mkdir(mode=0o700)
        url = f"sqlite:///{tmp_path / 'data' / 'broker.db'}"
    database = open_database(url, pool_size=2)
    try:
        upgrade(database)
        ticks = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n) for n in range(99))
        snapshots = SqlDirectorySnapshots(database, clock=lambda: next(ticks))
        assert snapshots.store("fp0", "5", "/a", '{"first": true}')
        assert not snapshots.store("fp0", "5", "/b", '{"second": true}')  # the first one stays
        assert snapshots.content("fp0", "5") == '{"first": true}'
        assert snapshots.content("fp0", "6") is None  # another layout is another snapshot
        for number in range(1, KEEP + 2):
            snapshots.store(f"fp{number}", "5", "/a", "{}")
        assert snapshots.fingerprints() == [f"fp{n}" for n in range(KEEP + 1, 1, -1)]
    finally:
        database.close()
