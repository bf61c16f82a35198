"""The solver's budget is counted (z3's resource limit), not timed: a spent budget is reported
as undecided through the real commands, and the same input gets the same answer however busy
the machine is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import z3

from broker.analyzer.budget import (
    MAX_RLIMIT,
    SOLVER_RLIMIT,
    bounded_solver,
    own_context,
    units_spent,
)
from broker.analyzer.compare import compare
from broker.analyzer.encode import decision, is_one_of
from broker.analyzer.external import analyze
from broker.analyzer.symbolic import PrincipalShape, SymbolicRequest
from broker.analyzer.targets import Zone, target_from_document
from broker.commands import reports
from broker.policy import parse_policy
from tests.unit.analyzer.universe import BUCKET_NEW, BUCKET_OLD, HOME, ORG, ROLE_ARN, SIBLING

OPEN_TRUST = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
ORG_TRUST = {**OPEN_TRUST, "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}
ZONE_ARGS = ("--org-id", ORG, "--zone-account", HOME, "--zone-account", SIBLING)


def write(tmp_path: Path, name: str, *statements: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return path


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_analyze_reports_a_spent_budget_as_undecided(run_broker: Any, tmp_path: Path) -> None:
    role = f"{ROLE_ARN}={write(tmp_path, 'org.json', ORG_TRUST)}"
    closed = run_broker("analyze", *ZONE_ARGS, "--trust", role)
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.strip().endswith("no external access")

    starved = run_broker("analyze", *ZONE_ARGS, "--trust", role, "--solver-rlimit", "10")
    assert starved.returncode == 1, starved.stderr
    assert "no external access" not in starved.stdout
    lines = starved.stdout.splitlines()
    assert lines and all(
        line.endswith("(its budget of 10 resource units ran out; raise --solver-rlimit)")
        and ": cannot decide: the solver gave up on " in line
        for line in lines
    ), starved.stdout
    as_json = run_broker("analyze", *ZONE_ARGS, "--trust", role, "--solver-rlimit", "10", "--json")
    assert as_json.returncode == 1, as_json.stderr
    (answer,) = json.loads(as_json.stdout)
    assert answer["status"] == "undecided" and answer["findings"] == []
    assert any("root callers" in reason for reason in answer["cannot_decide"])


def test_compare_reports_a_spent_budget_as_undecided(run_broker: Any, tmp_path: Path) -> None:
    wider = write(tmp_path, "open.json", OPEN_TRUST)
    narrower = write(tmp_path, "org.json", ORG_TRUST)
    decided = run_broker("analyze", "compare", "--kind", "trust", str(wider), str(narrower))
    assert decided.returncode == 0, decided.stderr
    assert "allows nothing that" in decided.stdout

    # the option is taken before or after `compare`
    for args in (
        ("analyze", "--solver-rlimit", "10", "compare", "--kind", "trust"),
        ("analyze", "compare", "--kind", "trust", "--solver-rlimit", "10"),
    ):
        starved = run_broker(*args, str(wider), str(narrower))
        assert starved.returncode == 1, starved.stderr
        assert "allows nothing" not in starved.stdout
        assert "cannot decide: the solver gave up on root callers (its budget of 10" in (
            starved.stdout
        )
    as_json = run_broker(
        "analyze", "compare", "--kind", "trust", "--json", "--solver-rlimit", "10",
        str(wider), str(narrower),
    )  # fmt: skip
    answer = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and answer["status"] == "undecided", answer


def test_a_bad_budget_is_refused_in_one_line(run_broker: Any, tmp_path: Path) -> None:
    policy = write(tmp_path, "org.json", ORG_TRUST)
    for bad in ("0", "-5", "lots", "4294967296"):
        result = run_broker("analyze", "compare", str(policy), str(policy), "--solver-rlimit", bad)
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert "--solver-rlimit" in line and "positive whole number" in line and bad in line
        assert result.stdout == ""


@contextmanager
def busy_machine() -> Iterator[None]:
    """Child processes that keep every core busy while the block runs."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(min(len(os.sched_getaffinity(0)), 4))
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def test_the_same_input_gets_the_same_answer_on_a_busy_machine(
    run_broker: Any, tmp_path: Path
) -> None:
    """A budget between what two caller shapes need (root callers run out of it, IAM users
    do not): the split is where a wall-clock budget would move with the load."""
    old = write(tmp_path, "old.json", BUCKET_OLD)
    new = write(tmp_path, "new.json", BUCKET_NEW)
    args = ("analyze", "compare", "--json", "--solver-rlimit", "2000000", str(old), str(new))
    first = run_broker(*args, timeout=240)
    with busy_machine():
        second = run_broker(*args, timeout=240)
    assert first.returncode == second.returncode == 1, (first.stderr, second.stderr)
    assert first.stdout == second.stdout
    answer = json.loads(first.stdout)
    assert answer["status"] == "broader"
    assert answer["cannot_decide"], "the budget should be too small for some caller shape"


def _units_for_root_callers() -> int:
    old = parse_policy(document(BUCKET_OLD), kind="resource")
    new = parse_policy(document(BUCKET_NEW), kind="resource")
    with own_context():
        request = SymbolicRequest(PrincipalShape("root"), {})
        solver = bounded_solver(SOLVER_RLIMIT)
        solver.add(decision(new, request), z3.Not(decision(old, request)), *request.constraints)
        solver.add(z3.Not(is_one_of(request.account, ["000000000000"])))  # as compare() asks
        assert solver.check() == z3.sat
        return units_spent(solver)


def test_a_query_costs_the_same_whatever_the_process_solved_before() -> None:
    """Each query has a z3 context of its own: what ran before cannot change its count."""
    first = _units_for_root_callers()
    zone = Zone("organization", frozenset({HOME, SIBLING}), ORG)
    for statement in (OPEN_TRUST, ORG_TRUST):
        analyze(target_from_document("t", "trust", ROLE_ARN, HOME, document(statement)), zone)
    old = parse_policy(document(BUCKET_OLD), kind="resource")
    new = parse_policy(document(BUCKET_NEW), kind="resource")
    assert compare(old, new).status == "broader"
    assert compare(new, old).status == "not_broader"
    assert _units_for_root_callers() == first
    assert 0 < first < SOLVER_RLIMIT


def test_the_command_states_the_analyzers_own_limits() -> None:
    """The parser keeps z3 unimported, so it states the default and the maximum itself."""
    assert reports.DEFAULT_RLIMIT_TEXT == f"{SOLVER_RLIMIT:,}"
    assert reports.MAX_RLIMIT == MAX_RLIMIT
