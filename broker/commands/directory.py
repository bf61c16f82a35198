"""``broker directory ...`` and ``broker assignments``: the identity store from the command line.

stdout carries the answer (tables, or JSON with ``--json``); messages go to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from broker.commands.directory_mfa import MfaInput, register_mfa, run_mfa
from broker.commands.directory_snapshots import register_snapshots
from broker.commands.text_table import text_table

if TYPE_CHECKING:
    from broker.directory import Account, Directory, PermissionSet
    from broker.directory.snapshot_summary import SnapshotSummary

__all__ = [
    "AssignmentsInput",
    "ListInput",
    "MfaInput",
    "ValidateInput",
    "register",
    "run_assertion_assignments",
    "run_assignments",
    "run_list",
    "run_mfa",
    "run_schema",
    "run_show",
    "run_validate",
]

ListKind = Literal["users", "groups", "accounts", "permission-sets"]


@dataclass(frozen=True)
class ValidateInput:
    path: Path | None
    json: bool


@dataclass(frozen=True)
class ListInput:
    kind: ListKind
    json: bool


@dataclass(frozen=True)
class AssignmentsInput:
    user: str | None
    claims_file: Path | None
    json: bool


def _dump(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _config_dir_of(path: Path) -> Path:
    """Accept the config directory or its ``directory/`` subdirectory."""
    return path.parent if (path / "organization.toml").is_file() else path


# -- validate, schema, show, lists ----------------------------------------------------------


def run_validate(args: ValidateInput, out: TextIO, err: TextIO) -> int:
    """Print every finding; exit 1 if any is an error."""
    from broker.config import config_dir
    from broker.directory import Source, validate

    source = Source(_config_dir_of(args.path) if args.path else config_dir())
    report = validate(source)
    if args.json:
        _dump(
            [
                {"file": f.file, "key": f.key, "severity": f.severity, "message": f.message}
                for f in report.findings
            ],
            out,
        )
    else:
        for finding in report.findings:
            out.write(f"{finding}\n")
    errors = len(report.errors)
    warnings = len(report.findings) - errors
    verdict = "valid" if report.ok else "INVALID"
    err.write(f"{source.directory}: {verdict}: {errors} error(s), {warnings} warning(s)\n")
    return 0 if report.ok else 1


def run_schema(out: TextIO) -> int:
    from broker.directory.jsonschema import directory_schema

    _dump(directory_schema(), out)
    return 0


def _tree(directory: Directory) -> list[str]:
    ous = directory.ous()
    accounts = directory.accounts()
    children: dict[str, list[str]] = {}
    for name, parent in ous:
        children.setdefault(parent, []).append(name)
    lines: list[str] = []

    def walk(node: str, depth: int) -> None:
        pad = "  " * depth
        for account in accounts:
            parent = account.ou_path[-1] if account.ou_path else "root"
            if parent == node:
                flag = " (management)" if account.management else ""
                lines.append(f"{pad}  {account.id}  {account.name}{flag}")
        for child in sorted(children.get(node, [])):
            lines.append(f"{pad}  OU {child}")
            walk(child, depth + 1)

    lines.append("root")
    walk("root", 0)
    return lines


def run_show(
    as_json: bool,
    out: TextIO,
    directory: Directory,
    snapshots: Sequence[SnapshotSummary] | None = None,
) -> int:
    """The counts and the organization tree, then (``snapshots`` given) the stored snapshots."""
    from broker.commands.directory_snapshots import snapshot_table

    counts = directory.counts()
    if as_json:
        _dump(
            {
                "counts": counts,
                "ous": [{"name": n, "parent": p} for n, p in directory.ous()],
                "accounts": [a.to_json() for a in directory.accounts()],
                **({} if snapshots is None else {"snapshots": [s.to_json() for s in snapshots]}),
            },
            out,
        )
        return 0
    out.write(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()) + "\n")
    out.write("\n".join(_tree(directory)) + "\n")
    if snapshots is not None:
        out.write("\n" + snapshot_table(snapshots))
    return 0


def _root_user(account: Account) -> str:
    """How the account's root user stands: fine only with MFA and without access keys."""
    problems = [
        *([] if account.root_mfa else ["NO MFA"]),
        *(["ACCESS KEYS"] if account.root_access_keys else []),
    ]
    return ",".join(problems) or "ok"


def _permission_set_row(p: PermissionSet) -> list[str]:
    policies = ",".join((*p.managed_policies, *p.customer_policies))
    inline = " +inline" if p.has_inline_policy else ""
    hours = f"{p.session_duration // 3600}h"
    return [p.name, hours, policies + inline, p.permissions_boundary or "-"]


# Each listing: what to fetch, the table's headers, and one row per item.
_Listing = tuple[Callable[["Directory"], Sequence[Any]], list[str], Callable[[Any], list[str]]]
_LISTINGS: dict[str, _Listing] = {
    "users": (
        lambda d: d.users(),
        ["NAME", "EMAIL", "GROUPS", "DISPLAY NAME"],
        lambda u: [u.name, u.email, ",".join(u.groups) or "-", u.display_name],
    ),
    "groups": (
        lambda d: d.groups(),
        ["NAME", "MEMBERS", "DESCRIPTION"],
        lambda g: [g.name, ",".join(g.members) or "-", g.description],
    ),
    "accounts": (
        lambda d: d.accounts(),
        ["ID", "NAME", "OU PATH", "ROOT USER", "EMAIL"],
        lambda a: [a.id, a.name, "/".join(("root", *a.ou_path)), _root_user(a), a.email],
    ),
    "permission-sets": (
        lambda d: d.permission_sets(),
        ["NAME", "SESSION", "POLICIES", "BOUNDARY"],
        _permission_set_row,
    ),
}


def run_list(args: ListInput, out: TextIO, directory: Directory) -> int:
    fetch, headers, row = _LISTINGS[args.kind]
    items = fetch(directory)
    if args.json:
        _dump([item.to_json() for item in items], out)
    else:
        out.write(text_table([row(item) for item in items], headers))
    return 0


# -- assignments ----------------------------------------------------------------------------


def _read_claims(path: Path) -> Any:
    from broker.errors import UsageError
    from providers.base import Claims

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Claims.from_json(data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"{path}: not a claims JSON object ({type(exc).__name__}); "
            "use the output of `broker whoami --json`"
        ) from None


def run_assignments(args: AssignmentsInput, out: TextIO, err: TextIO, directory: Directory) -> int:
    if args.claims_file is not None:
        user = directory.resolve_user(_read_claims(args.claims_file))
    else:
        assert args.user is not None
        user = directory.user(args.user)
    found = directory.assignments_of(user)
    if args.json:
        _dump({"user": user.to_json(), "assignments": [a.to_json() for a in found]}, out)
        return 0
    if not found:
        err.write(f"{user.name} has no account assignments\n")
        return 0
    rows = [
        [
            a.account_id,
            a.account_name,
            a.permission_set,
            f"{a.max_session_duration // 3600}h",
            a.via,
            a.role_arn,
        ]
        for a in found
    ]
    out.write(text_table(rows, ["ACCOUNT", "NAME", "PERMISSION SET", "MAX", "VIA", "ROLE ARN"]))
    return 0


# -- argparse -------------------------------------------------------------------------------


def _load() -> Directory:
    from broker.config import config_dir, data_dir
    from broker.config.loader import configured_database_url
    from broker.sts.directory_state import open_directory

    return open_directory(config_dir(), data_dir(), configured_database_url())


def _handle_validate(ns: argparse.Namespace) -> int:
    return run_validate(ValidateInput(ns.path, ns.json), sys.stdout, sys.stderr)


def _handle_schema(_ns: argparse.Namespace) -> int:
    return run_schema(sys.stdout)


def _handle_show(ns: argparse.Namespace) -> int:
    """Load the directory as every command does (a damaged snapshot of these files is refused
    here, naming the command that drops it), then list every stored snapshot."""
    from broker.commands.directory_snapshots import current_fingerprint, snapshot_summaries
    from broker.commands.opened_state import opened_state
    from broker.config import config_dir
    from broker.directory import load_directory

    with opened_state(pool_size=2) as state:
        database = state.shared.database
        directory = load_directory(config_dir(), database)
        try:
            summaries = snapshot_summaries(database, current_fingerprint())
            return run_show(ns.json, sys.stdout, directory, summaries)
        finally:
            directory.close()


def _handle_list(ns: argparse.Namespace) -> int:
    return run_list(ListInput(ns.kind, ns.json), sys.stdout, _load())


def _handle_no_subcommand(_ns: argparse.Namespace) -> int:
    from broker.errors import UsageError

    raise UsageError(
        "choose a subcommand: validate, schema, show, users, groups, accounts, "
        "permission-sets, mfa, snapshots (see `broker directory --help`)"
    )


def run_assertion_assignments(provider: str, as_json: bool, out: TextIO, err: TextIO) -> int:
    """The roles the stored sign-in to an ``aws_federation`` SAML provider grants."""
    from broker.client.assertion_roles import (
        account_names,
        assertion_roles,
        federated_saml_providers,
    )
    from broker.commands.opened_state import command_state
    from broker.config import load_config
    from broker.errors import UsageError
    from broker.store.credential_store import CredentialStore

    config = load_config()
    if provider not in federated_saml_providers(config):
        raise UsageError(
            f"provider {provider!r} is not a SAML provider with aws_federation = true; name the "
            "person with --user or --claims instead"
        )
    with command_state() as state:
        session = CredentialStore(state.data_dir).read_index().sessions.get(provider)
        if session is None:
            from broker.login_advice import capture_login_advice

            raise UsageError(f"not signed in to {provider}: {capture_login_advice(provider)}")
        roles = assertion_roles(session.claims, account_names(config, state))
    if as_json:
        _dump({"provider": provider, "assignments": [r.to_json() for r in roles]}, out)
        return 0
    if not roles:
        err.write(f"the {provider} sign-in's assertion grants no AWS role\n")
        return 0
    rows = [
        [
            r.account_id,
            r.account_name,
            r.role_name,
            f"{r.max_session_seconds // 3600}h",
            f"assertion:{provider}",
            r.role_arn,
        ]
        for r in roles
    ]
    out.write(text_table(rows, ["ACCOUNT", "NAME", "ROLE", "MAX", "VIA", "ROLE ARN"]))
    return 0


def _handle_assignments(ns: argparse.Namespace) -> int:
    if ns.provider is not None:
        if _is_identity_center(ns.provider):
            return _identity_center_assignments(ns.provider, ns.json)
        return run_assertion_assignments(ns.provider, ns.json, sys.stdout, sys.stderr)
    if ns.user is None and ns.claims is None:
        from broker.errors import UsageError

        raise UsageError("name the person: --user NAME, --claims FILE or --provider NAME")
    args = AssignmentsInput(ns.user, ns.claims, ns.json)
    return run_assignments(args, sys.stdout, sys.stderr, _load())


def _is_identity_center(provider: str) -> bool:
    from broker.config import load_config
    from broker.config.providers import provider_tables

    table = provider_tables(load_config()).get(provider, {})
    return table.get("type") == "aws-identity-center"


def _identity_center_assignments(provider: str, as_json: bool) -> int:
    """What the person signed in to an ``aws-identity-center`` provider holds, as the AWS
    access portal lists it (``broker.client.identity_center_portal``)."""
    from broker.client.identity_center_portal import portal_roles
    from broker.client.wiring import close_chain, open_chain
    from broker.commands.opened_state import command_state

    with command_state() as state:
        config, chain = open_chain(state=state)
        try:
            roles = portal_roles(config, chain, provider)
        finally:
            close_chain(chain)
    if as_json:
        _dump([dataclasses.asdict(r) for r in roles], sys.stdout)
        return 0
    if not roles:
        print(f"you hold no account assignments at {provider}", file=sys.stderr)
        return 0
    rows = [[r.account_id, r.account_name, r.role_name, r.email] for r in roles]
    sys.stdout.write(text_table(rows, ["ACCOUNT", "NAME", "ROLE", "EMAIL"]))
    return 0


def register(subparsers: Any) -> None:
    """Add ``directory`` (with its subcommands) and ``assignments``."""
    group = subparsers.add_parser("directory", help="users, groups, accounts, permission sets")
    group.set_defaults(handler=_handle_no_subcommand)
    sub = group.add_subparsers(dest="directory_command", metavar="SUBCOMMAND")

    def with_json(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--json", action="store_true", help="print JSON")
        return parser

    validate = with_json(sub.add_parser("validate", help="report every problem in the config"))
    validate.add_argument("path", nargs="?", type=Path, metavar="DIR", help="config directory")
    validate.set_defaults(handler=_handle_validate)
    sub.add_parser("schema", help="print the config's JSON Schema").set_defaults(
        handler=_handle_schema
    )
    with_json(sub.add_parser("show", help="the organization tree and counts")).set_defaults(
        handler=_handle_show
    )
    for kind in ("users", "groups", "accounts", "permission-sets"):
        listing = with_json(sub.add_parser(kind, help=f"list {kind.replace('-', ' ')}"))
        listing.set_defaults(handler=_handle_list, kind=kind)

    register_mfa(sub)
    register_snapshots(sub)

    assignments = with_json(
        subparsers.add_parser("assignments", help="what a person may use, and why")
    )
    who = assignments.add_mutually_exclusive_group()
    who.add_argument("--user", metavar="NAME", help="a directory user")
    who.add_argument(
        "--claims", type=Path, metavar="FILE", help="claims JSON an IdP returned (whoami --json)"
    )
    who.add_argument(
        "--provider",
        metavar="NAME",
        help="the roles your sign-in to an aws_federation SAML or aws-identity-center provider "
        "grants",
    )
    assignments.set_defaults(handler=_handle_assignments)
