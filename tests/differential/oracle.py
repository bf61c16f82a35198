"""Both evaluators on a batch of scenarios: the oracle (``@cloud-copilot/iam-simulate`` through
``tests/peers/iamsim/driver.mjs``, test-time only) and ours (in-process, the same path as
``broker policy simulate``: read the case, compile, evaluate)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from broker.errors import UsageError
from broker.policy import compile_policy_set
from broker.policy.cases import Unreadable, read_cases
from tests.differential.generator import Scenario, to_oracle, to_ours

__all__ = ["PEER", "oracle_available", "run_oracle", "run_ours"]

PEER = Path(__file__).resolve().parent.parent / "peers" / "iamsim"


def oracle_available() -> bool:
    return shutil.which("node") is not None and (PEER / "node_modules").is_dir()


def run_oracle(scenarios: list[Scenario], timeout: float = 300) -> list[dict[str, Any]]:
    """One answer per scenario: ``{"decision": ..., "ignored": [...]}`` or ``{"error": ...}``."""
    payload = json.dumps([to_oracle(s) for s in scenarios])
    done = subprocess.run(
        ["node", str(PEER / "driver.mjs")],
        input=payload,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        cwd=PEER,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    if len(answers) != len(scenarios):
        raise AssertionError(f"the oracle answered {len(answers)} of {len(scenarios)} cases")
    return answers


def run_ours(scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """One answer per scenario: ``{"decision": ...}`` or ``{"error": ...}`` (refused)."""
    cases, _ = read_cases([to_ours(s) for s in scenarios])
    out: list[dict[str, Any]] = []
    for case in cases:
        if isinstance(case, Unreadable):
            out.append(case.to_json())
            continue
        (request,) = case.requests
        if isinstance(request, Unreadable):
            out.append(request.to_json())
            continue
        try:
            out.append({"decision": compile_policy_set(case.policies).evaluate(request).decision})
        except UsageError as exc:  # pragma: no cover - read_cases refuses before this
            out.append({"error": str(exc)})
    return out
