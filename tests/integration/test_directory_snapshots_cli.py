"""``broker directory show`` / ``broker directory snapshots list|drop|prune`` as real processes,
on the embedded SQLite and on PostgreSQL: the stored snapshots are listed, a damaged one is
dropped and rebuilt by the next load, a prefix that names no snapshot or several is refused in
one line, and prune keeps only the snapshot of the current files. Drops are audited first."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CONFIG, RunBroker, one_line

pytestmark = pytest.mark.integration

DAMAGED = '{"schema_version": "5", "tables": {"users": []}}'


@dataclass
class Deployment:
    """One data directory over one state database, the CLI run against a config copy."""

    run_broker: RunBroker
    config: Path
    url: str
    sql: Callable[[str, tuple[object, ...]], int]
    """Run one statement on the state database as another program would; rows changed."""

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"BROKER_CONFIG": str(self.config), "BROKER_DATABASE_URL": self.url}
        return self.run_broker(*args, env=env)

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result

    def snapshots(self) -> list[dict[str, object]]:
        listed: list[dict[str, object]] = json.loads(
            self.ok("directory", "snapshots", "list", "--json").stdout
        )
        return listed

    def change_config(self, name: str) -> None:
        """Another configuration: Bob's display name changes (so does the fingerprint)."""
        users = self.config / "directory" / "users.toml"
        text = users.read_text(encoding="utf-8")
        start = text.index("display_name = ", text.index("[users.bob]"))
        end = text.index("\n", start)
        users.write_text(f'{text[:start]}display_name = "{name}"{text[end:]}', "utf-8")


@pytest.fixture(params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, run_broker: RunBroker, broker_home: Path, tmp_path: Path
) -> Deployment:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    if request.param == "postgresql":
        import psycopg

        url: str = request.getfixturevalue("fresh_database")

        def sql(statement: str, params: tuple[object, ...]) -> int:
            with psycopg.connect(url, autocommit=True) as conn:
                return conn.execute(statement.replace("?", "%s"), params).rowcount

        upgraded = run_broker("db", "upgrade", env={"BROKER_DATABASE_URL": url})
        assert upgraded.returncode == 0, upgraded.stderr
        return Deployment(run_broker, config, url, sql)

    def sqlite_sql(statement: str, params: tuple[object, ...]) -> int:
        with closing(sqlite3.connect(broker_home / "broker.db")) as conn:
            changed = conn.execute(statement, params).rowcount
            conn.commit()
            return changed

    return Deployment(run_broker, config, "", sqlite_sql)


def _audited_drops(deployment: Deployment) -> list[dict[str, object]]:
    found = deployment.ok("audit", "query", "--event", "DeleteDirectorySnapshots").stdout
    return [json.loads(line)["requestParameters"] for line in found.splitlines()]


def test_show_lists_the_snapshot_of_each_configuration(deployment: Deployment) -> None:
    first = json.loads(deployment.ok("directory", "show", "--json").stdout)["snapshots"]
    assert [s["selected"] for s in first] == [True]
    deployment.change_config("Bob B.")
    shown = json.loads(deployment.ok("directory", "show", "--json").stdout)
    newer, older = shown["snapshots"]
    assert older["fingerprint"] == first[0]["fingerprint"] != newer["fingerprint"]
    assert (newer["selected"], older["selected"]) == (True, False)
    assert newer["counts"] == {"users": 13, "groups": 9, "accounts": 10, "assignments": 36}
    assert not newer["damaged"] and not older["damaged"]
    assert newer["stored"] >= older["stored"]
    assert newer["config_dir"] == str(deployment.config)
    assert isinstance(newer["bytes"], int) and newer["bytes"] > 1000
    assert deployment.snapshots() == shown["snapshots"]

    text = deployment.ok("directory", "show").stdout
    rows = text[text.index("SNAPSHOT  ") :].splitlines()[1:]
    assert [row.split()[0] for row in rows] == [
        str(newer["fingerprint"])[:12],
        str(older["fingerprint"])[:12],
    ]
    assert [row.split()[3:8] for row in rows] == [
        ["13", "9", "10", "36", "current"],
        ["13", "9", "10", "36", "other-files"],
    ]
    assert text.startswith("10 accounts, 7 ous")  # the organization is still shown first


def test_dropping_a_damaged_snapshot_lets_the_next_load_rebuild_it(
    deployment: Deployment,
) -> None:
    deployment.ok("directory", "show")
    (stored,) = deployment.snapshots()
    fp = str(stored["fingerprint"])
    assert deployment.sql(
        "UPDATE directory_snapshots SET content = ? WHERE fingerprint = ?", (DAMAGED, fp)
    )

    for command in (("directory", "show"), ("assignments", "--user", "bob")):
        refused = deployment.run(*command)
        assert refused.returncode == 5 and refused.stdout == ""
        line = one_line(refused.stderr)
        assert f"({fp[:12]}) is damaged" in line
        assert f"`broker directory snapshots drop {fp[:12]}`" in line
    (listed,) = deployment.snapshots()  # the listing still works, and names the damage
    assert (listed["damaged"], listed["selected"], listed["counts"]) == (True, True, None)
    text = deployment.ok("directory", "snapshots", "list").stdout
    assert f"{fp[:12]}  " in text and "DAMAGED,current" in text

    dropped = deployment.ok("directory", "snapshots", "drop", fp[:12])
    assert dropped.stdout == f"{fp}\n"
    assert "the next load rebuilds it" in one_line(dropped.stderr)
    assert deployment.snapshots() == []
    assert _audited_drops(deployment) == [
        {"command": "drop", "snapshots": [{"fingerprint": fp, "schemaVersion": "5"}]}
    ]

    assert "10 accounts" in deployment.ok("directory", "show").stdout
    assignments = deployment.ok("assignments", "--user", "bob").stdout
    assert "ROLE ARN" in assignments.splitlines()[0] and len(assignments.splitlines()) > 1
    (rebuilt,) = deployment.snapshots()
    assert (rebuilt["fingerprint"], rebuilt["damaged"]) == (fp, False)


def test_a_prefix_naming_no_snapshot_or_several_is_refused_in_one_line(
    deployment: Deployment,
) -> None:
    deployment.ok("directory", "show")
    (stored,) = deployment.snapshots()
    fp = str(stored["fingerprint"])
    # A second stored fingerprint sharing the first six digits, as a copy of the row.
    twin = fp[:6] + ("1" if fp[6] == "0" else "0") + fp[7:]
    assert deployment.sql(
        "INSERT INTO directory_snapshots (fingerprint, schema_version, built_us, config_dir, "
        "content) SELECT ?, schema_version, built_us, config_dir, content "
        "FROM directory_snapshots WHERE fingerprint = ?",
        (twin, fp),
    )

    ambiguous = deployment.run("directory", "snapshots", "drop", fp[:6].upper())
    assert ambiguous.returncode == 2 and ambiguous.stdout == ""
    line = one_line(ambiguous.stderr)
    assert f"'{fp[:6]}' starts 2 stored fingerprints" in line
    assert fp[:12] in line and twin[:12] in line
    unknown = deployment.run("directory", "snapshots", "drop", "not-a-fingerprint")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "no stored directory snapshot's fingerprint starts with" in one_line(unknown.stderr)
    assert len(deployment.snapshots()) == 2  # nothing was dropped
    assert _audited_drops(deployment) == []  # nor audited

    assert deployment.ok("directory", "snapshots", "drop", twin[:7]).stdout == f"{twin}\n"
    assert [s["fingerprint"] for s in deployment.snapshots()] == [fp]


def test_prune_keeps_only_the_snapshot_of_the_current_files(deployment: Deployment) -> None:
    deployment.ok("directory", "show")
    deployment.change_config("Bob B.")
    deployment.ok("directory", "show")
    current, other = deployment.snapshots()
    assert current["selected"]

    pruned = deployment.ok("directory", "snapshots", "prune")
    assert pruned.stdout == f"{other['fingerprint']}\n"
    assert f"kept {str(current['fingerprint'])[:12]}" in one_line(pruned.stderr)
    assert [s["fingerprint"] for s in deployment.snapshots()] == [current["fingerprint"]]
    assert _audited_drops(deployment) == [
        {
            "command": "prune",
            "snapshots": [{"fingerprint": other["fingerprint"], "schemaVersion": "5"}],
        }
    ]
    again = deployment.ok("directory", "snapshots", "prune")
    assert again.stdout == "" and "nothing to prune" in one_line(again.stderr)
    assert len(_audited_drops(deployment)) == 1
