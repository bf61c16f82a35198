"""IAM's credential report (GetCredentialReport's CSV columns, in IAM's order) for the broker.

One row per account's root user (``<root_account>``, as IAM gives it), one per directory user,
and one per IAM user outside the directory (a service user such as ``svc-app`` given long-term
keys with ``broker access-keys create USER --account ACCT``, or holding an STS virtual MFA
device): IAM lists every IAM user, and those keys are the ones the report exists to find. Rows
are filled from the directory (users, MFA devices, the root-user facts of each account), the
access-key records and the audit log. Keys and devices belong to a principal, its account and
name both: a same-named directory user's row never takes another account's keys.

Values follow IAM's conventions: ``true``/``false``, ISO 8601 times, ``N/A`` where a
credential does not exist or a key was never used, ``not_supported`` for root passwords,
``no_information`` where the broker keeps no record (the broker does not record when users or
root keys were created). People sign in through an IdP, so no directory user has a password,
and no IAM user outside the directory has one either (the broker issues none). Three columns
the broker adds after IAM's: ``identity_provider`` and ``last_sign_in`` (the newest successful
federated sign-in) and ``active_sessions`` (sessions minted and not yet expired; revocations
are not subtracted).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from broker.analyzer.usage import (
    event_service,
    event_time,
    identity,
    is_authenticated,
)

__all__ = [
    "BROKER_COLUMNS",
    "COLUMNS",
    "IAM_COLUMNS",
    "KeyFacts",
    "RootFacts",
    "UserFacts",
    "credential_report",
    "outside_users",
    "user_arn",
]

_KEY_FIELDS = ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")
IAM_COLUMNS: tuple[str, ...] = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    *(f"access_key_{n}_{f}" for n in (1, 2) for f in _KEY_FIELDS),
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)
BROKER_COLUMNS: tuple[str, ...] = ("identity_provider", "last_sign_in", "active_sessions")
COLUMNS = IAM_COLUMNS + BROKER_COLUMNS

NA, NO_INFO, NOT_SUPPORTED = "N/A", "no_information", "not_supported"
_SIGN_INS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})


def user_arn(account: str, name: str) -> str:
    """The IAM user principal ``name`` of ``account`` (the broker's users have the root path)."""
    return f"arn:aws:iam::{account}:user/{name}"


@dataclass(frozen=True)
class UserFacts:
    name: str
    email: str
    arn: str
    mfa_active: bool
    in_directory: bool = True  # False: an IAM user only (no sign-in through the IdP)


@dataclass(frozen=True)
class RootFacts:
    account_id: str
    mfa_active: bool
    has_access_keys: bool


@dataclass(frozen=True)
class KeyFacts:
    """One long-term access key's record (no secret) of ``account``'s user ``user``."""

    access_key_id: str
    user: str
    active: bool
    created: datetime
    account: str

    @property
    def owner(self) -> str:
        return user_arn(self.account, self.user)


def _iso(when: datetime | None) -> str:
    return NA if when is None else when.isoformat(timespec="seconds")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(
    number: int, key: KeyFacts | None, use: Mapping[str, Any] | None
) -> dict[str, str]:
    prefix = f"access_key_{number}_"
    row = {
        prefix + "active": _bool(key is not None and key.active),
        prefix + "last_rotated": _iso(key.created) if key else NA,
        prefix + "last_used_date": NA,
        prefix + "last_used_region": NA,
        prefix + "last_used_service": NA,
    }
    if key is not None and use is not None:
        row[prefix + "last_used_date"] = _iso(event_time(use))
        row[prefix + "last_used_region"] = str(use.get("awsRegion") or NA)
        row[prefix + "last_used_service"] = event_service(use)
    return row


def _no_certs() -> dict[str, str]:
    return {
        "cert_1_active": "false",
        "cert_1_last_rotated": NA,
        "cert_2_active": "false",
        "cert_2_last_rotated": NA,
    }


def _newer(current: Mapping[str, Any] | None, event: Mapping[str, Any]) -> bool:
    if current is None:
        return True
    old, new = event_time(current), event_time(event)
    return new is not None and (old is None or new >= old)


@dataclass
class _Usage:
    """The newest relevant events, gathered in one pass over the log."""

    key_use: dict[str, Mapping[str, Any]]
    sign_in: dict[str, Mapping[str, Any]]  # by the directory user's ARN
    sessions: dict[str, list[datetime]]  # by the directory user's ARN


def _user_of(event: Mapping[str, Any], users: Mapping[str, str]) -> str | None:
    """The ARN of the directory user a sign-in event names (by user name or email)."""
    who = identity(event)
    for value in (who.get("userName"), who.get("brokerUser")):
        if isinstance(value, str) and value.lower() in users:
            return users[value.lower()]
    return None


def _gather(events: Iterable[Mapping[str, Any]], users: Sequence[UserFacts]) -> _Usage:
    people = [u for u in users if u.in_directory]  # only they sign in through the IdP
    names = {u.name.lower(): u.arn for u in people} | {u.email.lower(): u.arn for u in people}
    usage = _Usage({}, {}, {})
    for event in events:
        if not is_authenticated(event) or event.get("errorCode"):
            continue
        who = identity(event)
        key_id = who.get("accessKeyId")
        if who.get("type") == "IAMUser" and isinstance(key_id, str):
            if _newer(usage.key_use.get(key_id), event):
                usage.key_use[key_id] = event
        if event.get("eventName") not in _SIGN_INS:
            continue
        user = _user_of(event, names)
        if user is None:
            continue
        if _newer(usage.sign_in.get(user), event):
            usage.sign_in[user] = event
        credentials = (event.get("responseElements") or {}).get("credentials") or {}
        expires = event_time({"eventTime": credentials.get("expiration")})
        if expires is not None:
            usage.sessions.setdefault(user, []).append(expires)
    return usage


def _user_row(
    user: UserFacts, keys: Sequence[KeyFacts], usage: _Usage, now: datetime
) -> dict[str, str]:
    row = {
        "user": user.name,
        "arn": user.arn,
        "user_creation_time": NO_INFO,
        "password_enabled": "false",
        "password_last_used": NA,
        "password_last_changed": NA,
        "password_next_rotation": NA,
        "mfa_active": _bool(user.mfa_active),
    }
    ordered = sorted(keys, key=lambda k: (k.created, k.access_key_id))[:2]
    for number in (1, 2):
        key = ordered[number - 1] if len(ordered) >= number else None
        row |= _key_columns(number, key, usage.key_use.get(key.access_key_id) if key else None)
    sign_in = usage.sign_in.get(user.arn)
    provider = identity(sign_in).get("identityProvider") if sign_in else None
    active = sum(1 for expires in usage.sessions.get(user.arn, ()) if expires > now)
    return (
        row
        | _no_certs()
        | {
            "identity_provider": str(provider or NA),
            "last_sign_in": _iso(event_time(sign_in)) if sign_in else NA,
            "active_sessions": str(active),
        }
    )


def _root_row(root: RootFacts) -> dict[str, str]:
    row = {
        "user": "<root_account>",
        "arn": f"arn:aws:iam::{root.account_id}:root",
        "user_creation_time": NO_INFO,
        "password_enabled": NOT_SUPPORTED,
        "password_last_used": NO_INFO,
        "password_last_changed": NOT_SUPPORTED,
        "password_next_rotation": NOT_SUPPORTED,
        "mfa_active": _bool(root.mfa_active),
    }
    for number in (1, 2):
        row |= _key_columns(number, None, None)
    if root.has_access_keys:
        row |= {"access_key_1_active": "true", "access_key_1_last_rotated": NO_INFO}
    return row | _no_certs() | {"identity_provider": NA, "last_sign_in": NA, "active_sessions": "0"}


def outside_users(
    users: Sequence[UserFacts],
    keys: Sequence[KeyFacts],
    sts_mfa: Collection[tuple[str, str]],
) -> list[UserFacts]:
    """The IAM users holding keys or an STS MFA device (``(account, user)`` pairs) who are
    none of ``users``, by account then name: an IAM user has no email and, here, no password."""
    known = {u.arn for u in users}
    found = {(k.account, k.user) for k in keys} | set(sts_mfa)
    return [
        UserFacts(name, "", user_arn(account, name), (account, name) in sts_mfa, False)
        for account, name in sorted(found)
        if user_arn(account, name) not in known
    ]


def credential_report(
    users: Sequence[UserFacts],
    roots: Sequence[RootFacts],
    keys: Sequence[KeyFacts],
    events: Iterable[Mapping[str, Any]],
    now: datetime,
    sts_mfa: Collection[tuple[str, str]] = frozenset(),
) -> list[dict[str, str]]:
    """Rows (every value a string, keys in ``COLUMNS`` order): roots first, then ``users``,
    then every other IAM user with keys or an STS MFA device (``sts_mfa``)."""
    everyone = [*users, *outside_users(users, keys, sts_mfa)]
    usage = _gather(events, everyone)
    by_owner: dict[str, list[KeyFacts]] = {}
    for key in keys:
        by_owner.setdefault(key.owner, []).append(key)
    rows = [_root_row(root) for root in roots]
    rows += [_user_row(user, by_owner.get(user.arn, []), usage, now) for user in everyone]
    return [{column: row[column] for column in COLUMNS} for row in rows]
