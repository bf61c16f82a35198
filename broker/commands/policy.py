"""``broker policy``: validate policy documents, simulate requests against policies."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from broker.errors import UsageError

if TYPE_CHECKING:
    from broker.policy.cases import Case, Unreadable

__all__ = [
    "SimulateInput",
    "ValidateInput",
    "register",
    "run_simulate",
    "run_validate",
    "write_simulation",
]

KINDS = ("identity", "resource", "trust", "scp", "boundary", "session", "key", "rcp")


@dataclass(frozen=True)
class ValidateInput:
    files: tuple[Path, ...]
    kind: str
    as_json: bool


@dataclass(frozen=True)
class SimulateInput:
    input: Path
    explain: bool
    full: bool = False  # with explain: also the statements whose Action did not match


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if str(path) != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise UsageError(f"{path}: cannot read ({reason})") from None


def _findings(text: str, kind: str) -> list[Any]:
    """The grammar's findings, then (for a document that is JSON) the service reference's."""
    from broker.policy import validate_policy
    from broker.policy.reference_checks import reference_findings

    findings = validate_policy(text, kind=kind)  # type: ignore[arg-type]
    if any(f.code == "invalid_json" for f in findings):
        return findings
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return findings
    return findings + reference_findings(data, kind)  # type: ignore[arg-type]


def run_validate(options: ValidateInput, out: TextIO) -> int:
    """Print every finding of every file; 1 when any is an error, else 0."""
    errors = 0
    report: list[dict[str, Any]] = []
    for path in options.files:
        findings = _findings(_read(path), options.kind)
        errors += sum(f.severity == "error" for f in findings)
        if options.as_json:
            report.append({"file": str(path), "findings": [f.to_json() for f in findings]})
        elif not findings:
            print(f"{path}: ok", file=out)
        for finding in [] if options.as_json else findings:
            where = f"{finding.path}: " if finding.path else ""
            fix = f" (fix: {finding.fix})" if finding.fix else ""
            print(f"{path}: {finding.severity}: {where}{finding.message}{fix}", file=out)
    if options.as_json:
        json.dump(report, out, indent=2)
        out.write("\n")
    return 1 if errors else 0


def _load_cases(options: SimulateInput) -> tuple[list[Case | Unreadable], bool]:
    """Every case of the input, each checked whole before anything is evaluated or written."""
    from broker.policy.cases import read_cases
    from broker.policy.json_input import loads
    from broker.policy.limits import may_hold_bad_characters

    text = _read(options.input)
    try:
        data = loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{options.input}: not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise UsageError(
            f"{options.input}: not valid JSON (nested too deeply); flatten the input"
        ) from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise UsageError(
            f"{options.input}: not valid JSON (a number has too many digits)"
        ) from None
    return read_cases(data, screened=not may_hold_bad_characters(text))


def _answers(case: Case, options: SimulateInput) -> Iterator[dict[str, Any]]:
    from broker.policy import compile_policy_set
    from broker.policy.cases import Unreadable

    compiled = compile_policy_set(case.policies)
    for request in case.requests:
        if isinstance(request, Unreadable):  # a refused request of a list carries its error
            yield request.to_json()
        else:
            yield compiled.evaluate(request, explain=options.explain, full=options.full).to_json()


def run_simulate(options: SimulateInput) -> Any:
    """Evaluate every request of every case; returns the JSON-ready result (a refused case or
    request of a list is ``{"error": ...}`` in its place)."""
    from broker.policy.cases import Unreadable

    cases, as_list = _load_cases(options)
    results: list[Any] = []
    for case in cases:
        if isinstance(case, Unreadable):
            results.append(case.to_json())
            continue
        answers = list(_answers(case, options))
        results.append(answers[0] if case.single else answers)
    return results if as_list else results[0]


# Unexplained answers are one of three fixed texts (what ``json.dumps`` would write).
_PLAIN = {
    name: json.dumps({"decision": name, "explanation": []})
    for name in ("Allow", "ImplicitDeny", "ExplicitDeny")
}


def write_simulation(options: SimulateInput, out: TextIO) -> bool:
    """Write the answers as ``run_simulate`` returns them, as they are computed; True when a
    case or request of a list was refused (it carries its error in its place).

    The input is checked whole first, so a malformed file or single case writes nothing. A
    single explained answer is indented for reading; in a batch each answer is one line,
    written as soon as it is decided, so memory stays flat however many requests are
    explained."""
    from broker.policy import Request, compile_policy_set
    from broker.policy.cases import Unreadable

    cases, as_list = _load_cases(options)
    if not options.explain:
        parts = []
        refused = False
        for case in cases:
            if isinstance(case, Unreadable):
                parts.append(json.dumps(case.to_json()))
                refused = True
                continue
            decide = compile_policy_set(case.policies).decide
            texts = [
                _PLAIN[decide(r)] if isinstance(r, Request) else json.dumps(r.to_json())
                for r in case.requests
            ]
            refused = refused or any(type(r) is Unreadable for r in case.requests)
            parts.append(texts[0] if case.single else "[" + ", ".join(texts) + "]")
        out.write(("[" + ", ".join(parts) + "]" if as_list else parts[0]) + "\n")
        return refused
    refused = any(
        isinstance(c, Unreadable) or any(isinstance(r, Unreadable) for r in c.requests)
        for c in cases
    )
    first = cases[0]
    if not as_list and not isinstance(first, Unreadable) and first.single:
        out.write(json.dumps(next(_answers(first, options)), indent=2) + "\n")
        return refused
    out.write("[\n" if as_list else "")
    for number, case in enumerate(cases):
        if number:
            out.write(",\n")
        if isinstance(case, Unreadable):
            out.write(json.dumps(case.to_json()))
            continue
        if case.single:
            out.write(json.dumps(next(_answers(case, options))))
            continue
        out.write("[\n")
        for index, answer in enumerate(_answers(case, options)):
            out.write((",\n" if index else "") + json.dumps(answer))
        out.write("\n]")
    out.write("\n]\n" if as_list else "\n")
    return refused


def _validate(args: argparse.Namespace) -> int:
    options = ValidateInput(tuple(Path(f) for f in args.files), args.kind, args.format == "json")
    return run_validate(options, sys.stdout)


def _simulate(args: argparse.Namespace) -> int:
    explain = args.explain is not None
    # A batch is hundreds of thousands of small acyclic objects (the parsed JSON, requests,
    # answers): the cyclic garbage collector would rescan them again and again and free
    # nothing, a quarter of the command's time. The process ends right after.
    gc.disable()
    try:
        refused = write_simulation(
            SimulateInput(Path(args.input), explain, full=args.explain == "full"), sys.stdout
        )
    finally:
        gc.enable()
    return 1 if refused else 0


def register(subparsers: Any) -> None:
    """Add ``broker policy validate`` and ``broker policy simulate``."""
    parser = subparsers.add_parser("policy", help="validate IAM policies, simulate requests")
    sub = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)
    validate = sub.add_parser(
        "validate", help="report every error, security warning and suggestion in policy files"
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="policy JSON files (- = stdin)")
    validate.add_argument(
        "--kind", choices=KINDS, default="identity", help="policy type (default: identity)"
    )
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.set_defaults(handler=_validate)
    simulate = sub.add_parser(
        "simulate", help="evaluate requests against policies exactly as IAM does"
    )
    simulate.add_argument(
        "--input", required=True, metavar="FILE", help="a case or a list of cases (JSON; - = stdin)"
    )
    simulate.add_argument(
        "--explain",
        nargs="?",
        const="brief",
        choices=("brief", "full"),
        help="say per layer which statements about the action applied and why, and which "
        "decided; `full` also lists the statements whose Action did not match",
    )
    simulate.set_defaults(handler=_simulate)
