"""A copy of the shipped configuration with the service users and roles the STS authorization
tests need, for a `broker serve` of their own (the shipped directory stays as it is).

Everything lives in the management account (111111111111), where service users are:

* ``svc-federation``: may call GetFederationToken and AssumeRole on ``authz-target``; reads S3;
  may put objects only with the principal tag ``team=payments`` (an ABAC condition). It may
  not tag sessions.
* ``svc-tagger``: the same plus ``sts:TagSession``.
* ``svc-denied``: allowed everything, but an explicit Deny on ``sts:GetFederationToken``.
* role ``authz-target``: trusts the account (so the caller's own policies must allow too);
  reads S3 and may assume itself (role chaining).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import CONFIG

ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/authz-target"
BUCKET = "arn:aws:s3:::example-authz-reports"


def _statement(effect: str, action: str | list[str], resource: str = "*", **extra) -> dict:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


_ABAC = _statement(
    "Allow",
    "s3:PutObject",
    f"{BUCKET}/*",
    Condition={"StringEquals": {"aws:PrincipalTag/team": "payments"}},
)
_READ = _statement("Allow", ["s3:GetObject", "s3:ListBucket"], f"{BUCKET}*")
POLICIES = {
    "authz-federation": _doc(
        _statement("Allow", "sts:GetFederationToken", f"arn:aws:sts::{ACCOUNT}:federated-user/*"),
        _statement("Allow", "sts:AssumeRole", ROLE),
        _READ,
        _ABAC,
    ),
    "authz-tag-session": _doc(_statement("Allow", "sts:TagSession")),
    "authz-denied": _doc(
        _statement("Allow", "*"),
        _statement("Deny", "sts:GetFederationToken"),
    ),
    "authz-target": _doc(_READ, _statement("Allow", "sts:AssumeRole", ROLE)),
    "authz-target-trust": _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    ),
}
USERS = {
    "svc-federation": ["authz-federation"],
    "svc-tagger": ["authz-federation", "authz-tag-session"],
    "svc-denied": ["authz-denied"],
}


def authz_config(parent: Path) -> Path:
    """The configuration directory: the shipped one plus the users, roles and policies above."""
    config = parent / "config"
    shutil.copytree(CONFIG, config)
    for name, document in POLICIES.items():
        (config / "policies" / f"{name}.json").write_text(json.dumps(document, indent=2))
    users = [
        f'\n[users.{name}]\nemail = "{name}@example.com"\ndisplay_name = "{name}"\n'
        f"service = true\npolicies = {json.dumps(policies)}\n"
        for name, policies in USERS.items()
    ]
    with (config / "directory" / "users.toml").open("a") as handle:
        handle.write("".join(users))
    with (config / "directory" / "roles.toml").open("a") as handle:
        handle.write(
            '\n[[roles]]\naccount = "management"\nname = "authz-target"\n'
            'description = "STS authorization tests"\ntrust_policy = "authz-target-trust"\n'
            'policies = ["authz-target"]\nmax_session_duration = 43200\n'
        )
    return config
