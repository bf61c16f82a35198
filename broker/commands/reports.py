"""``broker analyze``: external access to roles and resources, proved by an SMT solver, and
``broker analyze compare``: does a new policy allow anything the old one did not?

Exit codes: 0 when nothing outside the zone gets in (or NEW is not broader), 1 when a finding
is printed (or NEW is broader) or something cannot be decided; errors as ``broker.errors``.

``broker report credentials``: IAM's credential report (CSV or JSON) for the directory.
``broker report last-accessed``: per granted service, when the principal last used it (exit 1
when a grant is unused for ``--days``), with a narrower policy.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, cast

from broker.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from broker.policy import PolicyKind

__all__ = [
    "AnalyzeInput",
    "CompareInput",
    "CredentialReportInput",
    "LastAccessedInput",
    "TargetSpec",
    "register",
    "run_analyze",
    "run_compare",
    "run_credential_report",
    "run_last_accessed",
]

_KINDS = ("identity", "resource", "trust", "scp", "boundary", "session", "key")


@dataclass(frozen=True)
class TargetSpec:
    kind: Literal["trust", "resource"]
    arn: str
    file: Path


@dataclass(frozen=True)
class AnalyzeInput:
    zone: Literal["organization", "account"]
    org_id: str | None
    zone_accounts: tuple[str, ...]
    targets: tuple[TargetSpec, ...]
    as_json: bool
    rlimit: int | None = None  # z3 resource units a query may spend; None: the analyzer's own


@dataclass(frozen=True)
class CompareInput:
    old: Path
    new: Path
    kind: PolicyKind
    as_json: bool
    rlimit: int | None = None  # as AnalyzeInput.rlimit


@dataclass(frozen=True)
class CredentialReportInput:
    format: Literal["csv", "json"]


@dataclass(frozen=True)
class LastAccessedInput:
    kind: Literal["user", "role", "permission-set"]
    name: str
    days: int
    as_json: bool


def run_credential_report(options: CredentialReportInput, out: TextIO) -> int:
    """Print the credential report: every account's root user, then every directory user,
    from the shared database with ``BROKER_DATABASE_URL`` (any replica host prints the same)."""
    import csv

    from broker.analyzer.credential_report import COLUMNS
    from broker.analyzer.deployment_reports import credential_rows
    from broker.commands.opened_state import command_state
    from broker.config.loader import config_dir

    with command_state() as state:
        rows = credential_rows(config_dir(), state)
    if options.format == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
    else:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return 0


def run_last_accessed(options: LastAccessedInput, out: TextIO) -> int:
    """Print when each granted service was last used; 1 when any grant is unused."""
    from broker.analyzer.deployment_reports import principal_access
    from broker.commands.opened_state import command_state
    from broker.config.loader import config_dir

    with command_state() as state:
        access = principal_access(options.kind, options.name, options.days, config_dir(), state)
    report = access.report
    assumed = access.last_assumed.isoformat(timespec="seconds") if access.last_assumed else None
    if options.as_json:
        json.dump(
            {"principal": options.name, "last_assumed": assumed, **report.to_json()}, out, indent=2
        )
        out.write("\n")
    else:
        if not access.is_user:
            print(f"last assumed: {assumed or 'never (in the audit log)'}", file=out)
        for use in report.services:
            when = use.last_used.isoformat(timespec="seconds") if use.last_used else "never"
            flag = f"  UNUSED for {options.days}+ days" if use.unused else ""
            print(f"{use.service}\t{when}{flag}", file=out)
        print("suggested policy:", file=out)
        print(json.dumps(report.suggested_policy, indent=2), file=out)
        for note in report.notes:
            print(f"note: {note}", file=out)
    return 1 if any(use.unused for use in report.services) else 0


def _require_z3() -> None:
    try:
        import z3  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the analyzer needs z3-solver: install it with `pip install z3-solver`"
        ) from None


def _document(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise UsageError(f"{path}: cannot read ({reason})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None


def _account_of(arn: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[0] == "arn":
        raise UsageError(f'"{arn}" is not an ARN (arn:partition:service:region:account:resource)')
    return parts[4]


def run_analyze(options: AnalyzeInput, out: TextIO) -> int:
    """Analyse every target; print findings (text or JSON); 1 if any finding or undecided."""
    _require_z3()
    from broker.analyzer.budget import SOLVER_RLIMIT
    from broker.analyzer.external import analyze
    from broker.analyzer.targets import Zone, target_from_document

    rlimit = options.rlimit or SOLVER_RLIMIT

    targets = []
    accounts = frozenset(options.zone_accounts)
    org_id = options.org_id
    if not options.targets:
        from broker.analyzer.configured import (
            directory_targets,
            organization_accounts,
            organization_id,
        )
        from broker.config import config_dir, data_dir
        from broker.config.loader import configured_database_url
        from broker.sts.directory_state import open_directory

        directory = open_directory(config_dir(), data_dir(), configured_database_url())
        try:
            targets = directory_targets(directory)
            accounts |= organization_accounts(directory)
            org_id = org_id or organization_id(directory)
        finally:
            directory.close()
    elif options.zone == "organization" and not options.org_id and not accounts:
        raise UsageError("--zone organization needs --org-id and/or --zone-account")
    zone = Zone(options.zone, accounts, org_id)
    results = [analyze(target, zone, rlimit=rlimit) for target in targets]
    for spec in options.targets:
        account = _account_of(spec.arn) or (options.zone_accounts or ("",))[0]
        if not account:
            raise UsageError(f"{spec.arn}: no account in the ARN; pass --zone-account")
        target = target_from_document(
            str(spec.file),
            spec.kind,
            spec.arn,
            account,
            _document(spec.file),
        )
        results.append(analyze(target, zone, rlimit=rlimit))
    if not results:
        print("no trust or resource policies to analyse", file=sys.stderr)
    if options.as_json:
        json.dump([r.to_json() for r in results], out, indent=2)
        out.write("\n")
    for result in [] if options.as_json else results:
        where = f"{result.target.name} ({result.target.kind} of {result.target.resource})"
        if result.status == "none":
            print(f"{where}: no external access", file=out)
        for witness in result.witnesses:
            w = witness.to_json()
            print(
                f"{where}: EXTERNAL ACCESS: {w['principal_kind']} {w['principal']} may "
                f"{w['action']} on {w['resource']} with context {json.dumps(w['context'])}",
                file=out,
            )
        for reason in result.reasons:
            print(f"{where}: {reason}", file=out)
    return 0 if all(r.status == "none" for r in results) else 1


def run_compare(options: CompareInput, out: TextIO) -> int:
    """Print whether NEW allows a request OLD does not (with the witness); 1 if so."""
    _require_z3()
    from broker.analyzer.budget import SOLVER_RLIMIT
    from broker.analyzer.compare import compare
    from broker.policy import parse_policy

    old = parse_policy(_document(options.old), kind=options.kind, name=str(options.old))
    new = parse_policy(_document(options.new), kind=options.kind, name=str(options.new))
    result = compare(old, new, rlimit=options.rlimit or SOLVER_RLIMIT)
    if options.as_json:
        json.dump(result.to_json(), out, indent=2)
        out.write("\n")
    elif result.status == "broader":
        print(f"{options.new} allows a request {options.old} does not:", file=out)
        print(json.dumps(result.to_json()["witness"], indent=2), file=out)
    elif result.status == "not_broader":
        print(f"{options.new} allows nothing that {options.old} does not", file=out)
    for reason in [] if options.as_json else result.reasons:
        print(reason, file=out)
    return 0 if result.status == "not_broader" else 1


def _target(kind: Literal["trust", "resource"]) -> Any:
    def parse(text: str) -> TargetSpec:
        arn, sep, file = text.partition("=")
        if not sep or not arn or not file:
            raise argparse.ArgumentTypeError(f"expected ARN=FILE, got {text!r}")
        return TargetSpec(kind, arn, Path(file))

    return parse


# broker.analyzer.budget's SOLVER_RLIMIT and MAX_RLIMIT, stated here so the parser loads no z3
DEFAULT_RLIMIT_TEXT = "100,000,000"
MAX_RLIMIT = 4_294_967_295
_RLIMIT_HELP = (
    "z3 resource units each solver query may spend (default "
    + DEFAULT_RLIMIT_TEXT
    + "); counted, not timed, so the answer does not depend on the machine's load; a query "
    "that runs out is reported as cannot decide"
)


def _rlimit(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        value = 0
    if not 0 < value <= MAX_RLIMIT:
        raise argparse.ArgumentTypeError(
            f"expected a positive whole number of z3 resource units, at most {MAX_RLIMIT:,} "
            f"(z3's largest), got {text!r}"
        )
    return value


def _analyze(args: argparse.Namespace) -> int:
    if getattr(args, "analyze_command", None) == "compare":
        kind = cast("PolicyKind", args.kind)
        options = CompareInput(Path(args.old), Path(args.new), kind, args.json, args.solver_rlimit)
        return run_compare(options, sys.stdout)
    targets = tuple(args.trust or ()) + tuple(args.resource or ())
    analyze_options = AnalyzeInput(
        args.zone,
        args.org_id,
        tuple(args.zone_account or ()),
        targets,
        args.json,
        args.solver_rlimit,
    )
    return run_analyze(analyze_options, sys.stdout)


def _report(args: argparse.Namespace) -> int:
    if args.report_command == "credentials":
        return run_credential_report(CredentialReportInput(args.format), sys.stdout)
    if args.report_command == "last-accessed":
        kind, name = next(
            (k, v)
            for k, v in (("user", args.user), ("role", args.role), ("permission-set", args.ps))
            if v
        )
        principal = cast('Literal["user", "role", "permission-set"]', kind)
        options = LastAccessedInput(principal, name, args.days, args.json)
        return run_last_accessed(options, sys.stdout)
    raise UsageError("give a report: `broker report credentials` or `broker report last-accessed`")


def _register_report(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="credential report, last accessed")
    parser.set_defaults(handler=_report, report_command=None)
    sub = parser.add_subparsers(dest="report_command", metavar="REPORT")
    credentials = sub.add_parser("credentials", help="IAM's credential report for the directory")
    credentials.add_argument("--format", choices=("csv", "json"), default="csv")
    last = sub.add_parser("last-accessed", help="when each granted service was last used")
    who = last.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="NAME")
    who.add_argument("--role", metavar="NAME", help="a role name or ARN from roles.toml")
    who.add_argument("--permission-set", dest="ps", metavar="NAME")
    last.add_argument("--days", type=int, default=90, help="unused for this many days (90)")
    last.add_argument("--json", action="store_true", help="print JSON")


def register(subparsers: Any) -> None:
    """Add ``broker analyze`` (+ ``compare``) and ``broker report``."""
    _register_report(subparsers)
    parser = subparsers.add_parser(
        "analyze", help="prove whether anyone outside the zone of trust can reach a policy"
    )
    parser.add_argument("--zone", choices=("organization", "account"), default="organization")
    parser.add_argument("--org-id", help="the organization id (o-...) inside the zone")
    parser.add_argument(
        "--zone-account", action="append", metavar="ID", help="an account inside the zone"
    )
    parser.add_argument(
        "--trust",
        action="append",
        type=_target("trust"),
        metavar="ROLE_ARN=FILE",
        help="a role's trust policy",
    )
    parser.add_argument(
        "--resource",
        action="append",
        type=_target("resource"),
        metavar="ARN=FILE",
        help="a resource-based policy and the resource it is attached to",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--solver-rlimit", type=_rlimit, metavar="UNITS", help=_RLIMIT_HELP)
    parser.set_defaults(handler=_analyze)
    sub = parser.add_subparsers(dest="analyze_command", metavar="SUBCOMMAND")
    compare = sub.add_parser("compare", help="does NEW allow any request OLD does not?")
    compare.add_argument("old", metavar="OLD.json")
    compare.add_argument("new", metavar="NEW.json")
    compare.add_argument("--kind", choices=_KINDS, default="resource")
    compare.add_argument("--json", action="store_true", help="print JSON")
    # SUPPRESS: given after `compare` it is set; otherwise the one given before stays.
    compare.add_argument(
        "--solver-rlimit",
        type=_rlimit,
        metavar="UNITS",
        default=argparse.SUPPRESS,
        help=_RLIMIT_HELP,
    )
