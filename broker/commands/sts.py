"""``broker serve``, ``broker sts revoke``, ``broker keys`` and ``broker access-keys``."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from broker.commands.sts_mfa import register_mfa_devices
from broker.errors import DirectoryError, UsageError

if TYPE_CHECKING:
    from broker.audit.sink import AuditSink
    from broker.sts.access_keys import AccessKeyStore

__all__ = [
    "AccessKeyInput",
    "RevokeInput",
    "ServeInput",
    "register",
    "run_access_keys",
    "run_keys",
    "run_revoke",
    "run_serve",
]


@dataclass(frozen=True)
class ServeInput:
    host: str
    port: int
    regions: tuple[str, ...] | None
    workers: int = 1
    audit_sync: str = "fsync"


@dataclass(frozen=True)
class RevokeInput:
    """Exactly one of role / user (with a cutoff) or session."""

    role: str | None
    user: str | None
    session: str | None
    issued_before: datetime
    issued_before_given: bool = False
    """False: "now", which the shared database's clock decides (``revoke``'s at_store_clock)."""


@dataclass(frozen=True)
class AccessKeyInput:
    action: str
    user: str | None = None
    account: str | None = None
    key_id: str | None = None
    as_json: bool = False


def _time(text: str | None) -> datetime:
    if text is None or text == "now":
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{text!r}: expected an ISO 8601 time like 2026-01-31T12:00Z") from None
    if when.tzinfo is None:
        raise UsageError(f"{text!r}: give a time zone (append Z for UTC)")
    return when


def _tcp_port(text: str) -> int:
    """A ``--port`` value: 1-65535. Port 0 is refused too: the service would listen on a port
    the operator and clients cannot know (its address is announced before binding)."""
    try:
        port = int(text, 10)
    except ValueError:
        raise UsageError(f"--port {text!r}: expected a number from 1 to 65535") from None
    if not 1 <= port <= 65_535:
        raise UsageError(f"--port {port}: a TCP port is a number from 1 to 65535")
    return port


def run_serve(spec: ServeInput) -> int:
    """Run the STS-compatible service until interrupted.

    The settings are resolved here, once, and passed to each worker process as an argument
    (``broker.server.workers``); no worker reads the environment.
    """
    from broker.commands.opened_state import opened_state
    from broker.config.loader import config_dir, configured_database_url, data_dir
    from broker.server.app import WorkerSettings
    from broker.server.workers import serve_workers

    if spec.workers < 1:
        raise UsageError("--workers must be at least 1")
    database_url = configured_database_url()
    if spec.audit_sync == "interval" and database_url:
        raise UsageError(
            "--audit-sync interval is for the embedded database; with PostgreSQL the audit "
            "chain is durable at each commit: drop the option"
        )
    _tcp_port(str(spec.port))
    configuration = config_dir()
    settings = WorkerSettings(
        data_dir=data_dir(),
        database_url=database_url,
        directory_config=configuration if (configuration / "directory").is_dir() else None,
        regions=tuple(spec.regions or ()),
        audit_sync=spec.audit_sync,
    )
    with opened_state() as state:  # refuses a schema that is not current; migrates old files
        state.ring  # noqa: B018 - the first key, once, before any worker starts
    print(f"broker: serving STS on http://{spec.host}:{spec.port}/", file=sys.stderr)
    return serve_workers(settings, host=spec.host, port=spec.port, workers=spec.workers)


def run_revoke(spec: RevokeInput, out: TextIO) -> int:
    """Record a revocation (audited first) that every later verification honours, in the
    one state every replica reads."""
    from broker.audit.admin import unchanged_on_failure
    from broker.commands.opened_state import opened_state
    from broker.config.loader import configured_database_url, data_dir
    from broker.store.revocation_stamp import touch_revocation_stamp
    from broker.sts.revocation import Revocation, revoke

    if spec.role:
        rule = Revocation("role", spec.role, spec.issued_before)
    elif spec.user:
        rule = Revocation("user", spec.user, spec.issued_before)
    elif spec.session:
        rule = Revocation("session", spec.session, spec.issued_before)
    else:
        raise UsageError("give --role ARN, --user NAME or --session ID")
    data = data_dir()
    # The cache stamp is this data directory's (the embedded state); a configured database's
    # revocations are never judged by a local file (``broker.store.revocation_stamp``).
    stamp = None if configured_database_url() else lambda: touch_revocation_stamp(data)
    with unchanged_on_failure("nothing was revoked"), opened_state() as state:
        recorded = revoke(rule, state, at_store_clock=not spec.issued_before_given, recorded=stamp)
    print(
        f"revoked {recorded.kind} {recorded.value} sessions issued before "
        f"{recorded.before.isoformat()}",
        file=out,
    )
    return 0


def run_keys(action: str, out: TextIO) -> int:
    """``rotate``: add a signing key (audited first, ``RotateSigningKey``: no audit, no new
    key); ``list``: kid, created, status (never key material)."""
    from broker.audit.admin import audited_change, unchanged_on_failure
    from broker.commands.opened_state import opened_state

    if action == "rotate":
        with unchanged_on_failure("no signing key was added"), opened_state() as state:
            ring = audited_change(
                state.shared.audit, "RotateSigningKey", {}, state.ring_source.rotate
            )
    else:
        with opened_state() as state:
            ring = state.ring
    now = datetime.now(UTC)
    for key in ring.keys:
        print(f"{key.kid}\t{key.created.isoformat()}\t{key.status(now)}", file=out)
    return 0


def run_access_keys(spec: AccessKeyInput, out: TextIO) -> int:
    """Create (secret shown once), list, deactivate or delete long-term keys; the changes are
    audited first (IAM's ``CreateAccessKey``, ``UpdateAccessKey``, ``DeleteAccessKey``, as
    ``BrokerAdminCall`` events without the secret): no audit, no change."""
    from broker.commands.opened_state import opened_state

    with opened_state() as state:
        return _access_keys(spec, state.access_keys(), state.shared.audit, out)


def _access_keys(spec: AccessKeyInput, store: AccessKeyStore, audit: AuditSink, out: TextIO) -> int:
    import json

    from broker.audit.admin import audited_change, unchanged_on_failure

    if spec.action == "create":
        assert spec.user is not None and spec.account is not None
        key = store.new_key(spec.user, spec.account)
        with unchanged_on_failure(f"no access key was created for {spec.user}"):
            secret = audited_change(
                audit,
                "CreateAccessKey",
                {"userName": key.user, "account": key.account},
                lambda: store.add(key),
                response_elements={
                    "accessKey": {"accessKeyId": key.access_key_id, "status": key.status}
                },
            )
        shown = {**key.to_json(), "SecretAccessKey": secret}
        if spec.as_json:
            print(json.dumps({"AccessKey": shown}, indent=2), file=out)
        else:
            print(f"{key.access_key_id}\t{secret}", file=out)
            print("broker: the secret is shown only now; store it safely", file=sys.stderr)
        return 0
    if spec.action == "list":
        rows = [key.to_json() for key in store.list(spec.user)]
        if spec.as_json:
            print(json.dumps({"AccessKeyMetadata": rows}, indent=2), file=out)
        for row in [] if spec.as_json else rows:
            print(
                "\t".join(str(row[k]) for k in ("AccessKeyId", "UserName", "Status", "CreateDate")),
                file=out,
            )
        return 0
    assert spec.key_id is not None
    found = store.get(spec.key_id)
    if found is None:
        raise DirectoryError(f"no access key {spec.key_id}; see `broker access-keys list`")
    named = {"userName": found.user, "accessKeyId": found.access_key_id}
    with unchanged_on_failure(f"access key {spec.key_id} was not {spec.action}d"):
        key_id = found.access_key_id
        if spec.action == "deactivate":
            audited_change(
                audit,
                "UpdateAccessKey",
                {**named, "status": "Inactive"},
                lambda: store.set_status(key_id, "Inactive"),
            )
        else:
            audited_change(audit, "DeleteAccessKey", named, lambda: store.delete(key_id))
    print(f"{spec.action}d {spec.key_id}", file=out)
    return 0


def _need_action(_args: argparse.Namespace) -> int:
    raise UsageError("choose an action (see --help)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser("serve", help="run the STS-compatible HTTP service")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_tcp_port, default=8787, help="port, 1-65535 (default 8787)")
    serve.add_argument(
        "--region",
        action="append",
        dest="regions",
        help="accepted SigV4 region (repeatable; default any)",
    )
    serve.add_argument(
        "--workers", type=int, default=1, help="processes (stateless; they share the data dir)"
    )
    serve.add_argument(
        "--audit-sync",
        choices=("fsync", "interval"),
        default="fsync",
        help="fsync: each answer waits for its audit event's fsync (default); interval: it "
        "waits for the write only, fsync follows within 0.2 s (for disks with slow fsync)",
    )
    serve.set_defaults(
        handler=lambda a: run_serve(
            ServeInput(
                a.host, a.port, tuple(a.regions) if a.regions else None, a.workers, a.audit_sync
            )
        )
    )

    sts = subparsers.add_parser("sts", help="session revocation")
    sts_actions = sts.add_subparsers(dest="sts_command", metavar="ACTION")
    sts.set_defaults(handler=_need_action)
    revoke = sts_actions.add_parser("revoke", help="revoke sessions by role, user or id")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--role", metavar="ARN", help="sessions of this role")
    which.add_argument("--user", metavar="NAME", help="sessions of this directory user")
    which.add_argument("--session", metavar="ID", help="one session (its id in the audit log)")
    revoke.add_argument(
        "--issued-before", metavar="TIME", help="cutoff, ISO 8601 with zone (default: now)"
    )
    revoke.set_defaults(
        handler=lambda a: run_revoke(
            RevokeInput(
                a.role,
                a.user,
                a.session,
                _time(a.issued_before),
                issued_before_given=a.issued_before not in (None, "now"),
            ),
            sys.stdout,
        )
    )

    keys = subparsers.add_parser("keys", help="session-token signing keys")
    key_actions = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    keys.set_defaults(handler=_need_action)
    for name, summary in (("rotate", "add a key that signs from now"), ("list", "show keys")):
        key_actions.add_parser(name, help=summary).set_defaults(
            handler=lambda a, name=name: run_keys(name, sys.stdout)
        )

    access = subparsers.add_parser("access-keys", help="long-term keys for service users")
    access_actions = access.add_subparsers(dest="access_command", metavar="ACTION")
    access.set_defaults(handler=_need_action)
    create = access_actions.add_parser("create", help="issue a key pair (secret shown once)")
    create.add_argument("user")
    create.add_argument("--account", required=True, help="the user's 12-digit account id")
    create.add_argument("--json", action="store_true", help="print IAM's CreateAccessKey JSON")
    create.set_defaults(
        handler=lambda a: run_access_keys(
            AccessKeyInput("create", user=a.user, account=a.account, as_json=a.json), sys.stdout
        )
    )
    listing = access_actions.add_parser("list", help="keys (no secrets)")
    listing.add_argument("user", nargs="?")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(
        handler=lambda a: run_access_keys(
            AccessKeyInput("list", user=a.user, as_json=a.json), sys.stdout
        )
    )
    for name in ("deactivate", "delete"):
        action = access_actions.add_parser(name, help=f"{name} a key")
        action.add_argument("key_id", metavar="KEY_ID")
        action.set_defaults(
            handler=lambda a, name=name: run_access_keys(
                AccessKeyInput(name, key_id=a.key_id), sys.stdout
            )
        )
    register_mfa_devices(access_actions)
