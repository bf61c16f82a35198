"""Properties of assignment resolution over generated directories."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.sts.directory_state import open_directory

ACCOUNTS = {"a0": "100000000000", "a1": "100000000001", "a2": "100000000002"}
SETS = ("Read", "Write")

_ORG = "\n".join(
    ['[organization]\nmanagement_account = "a0"\n']
    + [f'[accounts.{n}]\nid = "{i}"\nemail = "{n}@example.com"\n' for n, i in ACCOUNTS.items()]
)
_SETS = "\n".join(f'[permission_sets.{p}]\nmanaged_policies = ["p"]\n' for p in SETS)
_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}

USERS = [f"u{i}" for i in range(4)]
GROUPS = [f"g{i}" for i in range(3)]

memberships = st.sets(st.tuples(st.sampled_from(USERS), st.sampled_from(GROUPS)))
assignment = st.tuples(
    st.sampled_from([("user", u) for u in USERS] + [("group", g) for g in GROUPS]),
    st.sampled_from(SETS),
    st.sampled_from(sorted(ACCOUNTS)),
)
assignments = st.lists(assignment, max_size=12)


def _write(root: Path, members: set[tuple[str, str]], grants: list) -> Path:
    (root / "directory").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / "policies" / "p.json").write_text(json.dumps(_POLICY))
    (root / "directory" / "organization.toml").write_text(_ORG)
    (root / "directory" / "permission-sets.toml").write_text(_SETS)
    (root / "directory" / "users.toml").write_text(
        "\n".join(f'[users.{u}]\nemail = "{u}@example.com"\n' for u in USERS)
    )
    (root / "directory" / "groups.toml").write_text(
        "\n".join(
            f"[groups.{g}]\nmembers = {json.dumps(sorted(u for u, gg in members if gg == g))}\n"
            for g in GROUPS
        )
    )
    (root / "directory" / "assignments.toml").write_text(
        "\n".join(
            f'[[assignments]]\n{kind} = "{who}"\npermission_set = "{ps}"\naccounts = ["{acct}"]\n'
            for (kind, who), ps, acct in grants
        )
    )
    return root


def _resolve(root: Path, user: str) -> set[tuple[str, str, str | None]]:
    directory = open_directory(root, root / "data", None)
    try:
        return {
            (a.account_id, a.permission_set, a.via_group)
            for a in directory.assignments_of(directory.user(user))
        }
    finally:
        directory.close()


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(members=memberships, grants=assignments, user=st.sampled_from(USERS))
def test_assignments_are_exactly_direct_plus_each_groups(members, grants, user) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        got = _resolve(_write(Path(tmp), members, grants), user)
    groups = {g for u, g in members if u == user}
    expected = {
        (ACCOUNTS[acct], ps, None)
        for (kind, who), ps, acct in grants
        if kind == "user" and who == user
    }
    expected |= {
        (ACCOUNTS[acct], ps, who)
        for (kind, who), ps, acct in grants
        if kind == "group" and who in groups
    }
    assert got == expected


@PROPERTY
@given(members=memberships.filter(bool), grants=assignments, data=st.data())
def test_removing_a_membership_never_adds_access(members, grants, data) -> None:
    removed = data.draw(st.sampled_from(sorted(members)))
    user = removed[0]
    with tempfile.TemporaryDirectory() as tmp:
        before = _resolve(_write(Path(tmp) / "before", members, grants), user)
        after = _resolve(_write(Path(tmp) / "after", members - {removed}, grants), user)
    access = {(account, ps) for account, ps, _via in after}
    assert access <= {(account, ps) for account, ps, _via in before}
    assert all(via != removed[1] for _a, _p, via in after)
