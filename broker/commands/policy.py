"""``broker policy``: validate policy documents, simulate requests against policies."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from broker.errors import UsageError

__all__ = [
    "SimulateInput",
    "ValidateInput",
    "register",
    "run_simulate",
    "run_validate",
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


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if str(path) != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise UsageError(f"{path}: cannot read ({reason})") from None


def run_validate(options: ValidateInput, out: TextIO) -> int:
    """Print every finding of every file; 1 when any is an error, else 0."""
    from broker.policy import validate_policy

    errors = 0
    report: list[dict[str, Any]] = []
    for path in options.files:
        findings = validate_policy(_read(path), kind=options.kind)  # type: ignore[arg-type]
        errors += sum(f.severity == "error" for f in findings)
        if options.as_json:
            report.append({"file": str(path), "findings": [f.to_json() for f in findings]})
        elif not findings:
            print(f"{path}: ok", file=out)
        for finding in [] if options.as_json else findings:
            where = f"{finding.path}: " if finding.path else ""
            print(f"{path}: {finding.severity}: {where}{finding.message}", file=out)
    if options.as_json:
        json.dump(report, out, indent=2)
        out.write("\n")
    return 1 if errors else 0


def run_simulate(options: SimulateInput) -> Any:
    """Evaluate every request of every case; returns the JSON-ready result."""
    from broker.policy import compile_policy_set
    from broker.policy.cases import Unreadable, read_cases
    from broker.policy.limits import may_hold_bad_characters

    text = _read(options.input)
    try:
        data = json.loads(text)
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
    cases, as_list = read_cases(data, screened=not may_hold_bad_characters(text))
    results: list[Any] = []
    for case in cases:
        if isinstance(case, Unreadable):  # a refused case of a list carries its error
            results.append(case.to_json())
            continue
        compiled = compile_policy_set(case.policies)
        answers = [
            request.to_json()
            if isinstance(request, Unreadable)
            else compiled.evaluate(request, explain=options.explain).to_json()
            for request in case.requests
        ]
        results.append(answers[0] if case.single else answers)
    return results if as_list else results[0]


def refused_any(result: Any) -> bool:
    """Whether a ``run_simulate`` result holds a refused case or request (exit 1)."""
    if isinstance(result, list):
        return any(refused_any(item) for item in result)
    return isinstance(result, dict) and "error" in result


def _validate(args: argparse.Namespace) -> int:
    options = ValidateInput(tuple(Path(f) for f in args.files), args.kind, args.format == "json")
    return run_validate(options, sys.stdout)


def _simulate(args: argparse.Namespace) -> int:
    result = run_simulate(SimulateInput(Path(args.input), args.explain))
    json.dump(result, sys.stdout, indent=2 if args.explain else None)
    sys.stdout.write("\n")
    return 1 if refused_any(result) else 0


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
        "--explain", action="store_true", help="say per layer which statements matched and why"
    )
    simulate.set_defaults(handler=_simulate)
