"""Directory at scale: validate + load a generated organization, and resolve assignments.

    python -m bench.directory [--users 10000] [--groups 2000] [--accounts 500] [--ous 50]
                              [--permission-sets 200] [--assignments 50000] [--samples 2000]

Goals (README's benchmarks): validate + load under 5 s; one person's assignments resolved in
under 2 ms (median), printed beside a naive scan of every assignment measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

POLICY_NAMES = [f"bench-policy-{i}" for i in range(10)]


def _policy(i: int) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"S{i}",
                "Effect": "Allow",
                "Action": [f"svc{i}:Get*", f"svc{i}:List*"],
                "Resource": "*",
            }
        ],
    }


def generate(
    root: Path,
    *,
    users: int,
    groups: int,
    accounts: int,
    ous: int,
    permission_sets: int,
    assignments: int,
    seed: int = 4,
) -> Path:
    """Write a config directory with these counts (assignments counted per account)."""
    rng = random.Random(seed)
    (root / "directory").mkdir(parents=True, exist_ok=True)
    (root / "policies").mkdir(exist_ok=True)
    (root / "broker.toml").write_text('[broker]\ndefault_provider = "demo"\n')
    for i, name in enumerate(POLICY_NAMES):
        (root / "policies" / f"{name}.json").write_text(json.dumps(_policy(i)))
    (root / "policies" / "scp-all.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        )
    )
    org = [
        '[organization]\nmanagement_account = "acct-0"\nscps = ["All"]\n',
        '[scps.All]\npolicy = "scp-all"\n',
    ]
    for o in range(ous):
        parent = "root" if o < 5 else f"ou-{rng.randrange(5)}"
        org.append(f'[ous.ou-{o}]\nparent = "{parent}"\n')
    for a in range(accounts):
        org.append(
            f'[accounts.acct-{a}]\nid = "{100000000000 + a}"\nemail = "acct-{a}@example.com"\n'
            f'ou = "ou-{rng.randrange(ous)}"\n'
        )
    (root / "directory" / "organization.toml").write_text("\n".join(org))
    (root / "directory" / "users.toml").write_text(
        "\n".join(
            f'[users.user-{u}]\nemail = "user-{u}@example.com"\ntags = {{ team = "t{u % 50}" }}\n'
            for u in range(users)
        )
    )
    members: list[list[str]] = [[] for _ in range(groups)]
    for u in range(users):
        for g in rng.sample(range(groups), 3):
            members[g].append(f"user-{u}")
    (root / "directory" / "groups.toml").write_text(
        "\n".join(f"[groups.group-{g}]\nmembers = {json.dumps(m)}\n" for g, m in enumerate(members))
    )
    (root / "directory" / "permission-sets.toml").write_text(
        "\n".join(
            f'[permission_sets.ps-{p}]\ncustomer_policies = ["{POLICY_NAMES[p % 10]}"]\n'
            f'session_duration = "PT{1 + p % 12}H"\n'
            for p in range(permission_sets)
        )
    )
    per_entry = 5
    entries = []
    for e in range(assignments // per_entry):
        who = (
            f'user = "user-{rng.randrange(users)}"'
            if e % 10 == 0
            else f'group = "group-{rng.randrange(groups)}"'
        )
        accts = json.dumps([f"acct-{a}" for a in rng.sample(range(accounts), per_entry)])
        entries.append(
            f'[[assignments]]\n{who}\npermission_set = "ps-{rng.randrange(permission_sets)}"\n'
            f"accounts = {accts}\n"
        )
    (root / "directory" / "assignments.toml").write_text("\n".join(entries))
    (root / "directory" / "identity.toml").write_text('[identity.demo]\nuser_claim = "email"\n')
    return root


def _naive(
    rows: list[tuple[str, str, str, str]], memberships: list[tuple[str, str]], user: str
) -> list[tuple[str, str, str]]:
    """The baseline: scan every membership and every assignment for one person."""
    groups = {g for u, g in memberships if u == user}
    return sorted(
        (account, ps, principal if kind == "group" else "")
        for kind, principal, ps, account in rows
        if (kind == "user" and principal == user) or (kind == "group" and principal in groups)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--ous", type=int, default=50)
    parser.add_argument("--permission-sets", type=int, default=200)
    parser.add_argument("--assignments", type=int, default=50000)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()

    from broker.sts.directory_state import open_directory

    with tempfile.TemporaryDirectory() as tmp:
        root = generate(
            Path(tmp) / "config",
            users=args.users,
            groups=args.groups,
            accounts=args.accounts,
            ous=args.ous,
            permission_sets=args.permission_sets,
            assignments=args.assignments,
        )
        start = time.perf_counter()
        directory = open_directory(root, Path(tmp) / "data", None)
        load_s = time.perf_counter() - start
        counts = directory.counts()
        print(f"directory: {counts}")
        print(f"validate + load (cold, builds SQLite): {load_s:.2f} s  (goal < 5 s)")
        start = time.perf_counter()
        open_directory(root, Path(tmp) / "data", None).close()
        print(f"load (warm, config unchanged):        {time.perf_counter() - start:.3f} s")
        from broker.directory.snapshot_cache import forget_all

        forget_all()  # as a new process: the snapshot is read from the state database
        start = time.perf_counter()
        open_directory(root, Path(tmp) / "data", None).close()
        print(f"load (stored snapshot, new process):  {time.perf_counter() - start:.3f} s")

        conn = directory._conn  # the bench reads the same rows the naive scan would hold
        rows = conn.execute(
            "SELECT principal_type, principal, permission_set, account_id FROM assignments"
        ).fetchall()
        memberships = conn.execute("SELECT user_name, group_name FROM memberships").fetchall()
        rng = random.Random(7)
        names = [f"user-{rng.randrange(args.users)}" for _ in range(args.samples)]
        fast, slow = [], []
        for i, name in enumerate(names):
            t0 = time.perf_counter()
            found = directory.assignments_of(directory.user(name))
            fast.append(time.perf_counter() - t0)
            if i < 200:  # the naive scan is slow; 200 samples give a stable median
                t0 = time.perf_counter()
                expected = _naive(rows, memberships, name)
                slow.append(time.perf_counter() - t0)
                got = sorted((a.account_id, a.permission_set, a.via_group or "") for a in found)
                assert got == expected, name
        fast_ms = statistics.median(fast) * 1000
        slow_ms = statistics.median(slow) * 1000
        print(f"assignments of one person, median:   {fast_ms:.3f} ms  (goal < 2 ms)")
        print(f"naive scan baseline, median:         {slow_ms:.3f} ms")
        print(f"ratio naive / indexed:               {slow_ms / fast_ms:.1f}x")
        directory.close()
        return 0 if load_s < 5 and fast_ms < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
