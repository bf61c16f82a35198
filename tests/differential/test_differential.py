"""Differential check: our engine against an independent evaluator, ``@cloud-copilot/iam-simulate``
(pinned in ``tests/peers/iamsim``, installed by ``scripts/setup``; test-time only), on a fixed
seed of generated well-formed cases. Ours runs as a user runs it: one ``broker policy simulate``
process on the whole list. Every disagreement must be a reviewed divergence
(``divergences.toml``), confirmed by the two agreeing once its construct is taken out; fresh seeds:
``python bench/differential.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.differential.compare import compare
from tests.differential.divergences import load_divergences, neutralizer_names
from tests.differential.generator import generate, to_ours
from tests.differential.oracle import PEER, oracle_available, run_oracle

SEED = 20261206
CASES = 2000

pytestmark = pytest.mark.slow


def _require_oracle() -> None:
    if not oracle_available():
        pytest.fail(f"the oracle is not installed: run scripts/setup (npm ci in {PEER})")


def test_engine_agrees_with_iam_simulate_on_a_fixed_seed(run_broker, tmp_path: Path) -> None:
    _require_oracle()
    scenarios = generate(SEED, CASES)
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([to_ours(s) for s in scenarios]))
    done = run_broker("policy", "simulate", "--input", str(path), timeout=240)
    assert done.returncode in (0, 1), done.stderr  # 1: some case refused (counted below)
    ours = json.loads(done.stdout)
    report = compare(scenarios, ours, run_oracle(scenarios))
    print(report.summary())
    shown = [
        f"ours {a}, oracle {b}, tags {sorted(s.tags)}: {json.dumps(to_ours(s))}"
        for s, a, b in report.unexplained[:3]
    ]
    assert not report.unexplained, "\n".join(shown)
    assert not report.refused_oracle, report.refused_oracle[:3]
    # Well-formed generated policies: we refuse at most 1% (the issue's bar).
    assert report.refused_ours_rate <= 0.01, report.refused_ours[:3]
    # The check must have teeth: nearly all cases are decided and agree, with all three answers.
    assert report.agreed >= CASES * 0.98
    decisions = {answer["decision"] for answer in ours if "decision" in answer}
    assert decisions == {"Allow", "ImplicitDeny", "ExplicitDeny"}


def test_generator_covers_the_families_the_issue_lists() -> None:
    scenarios = generate(SEED, CASES)
    tags = set().union(*(s.tags for s in scenarios))
    for wanted in (
        "short-arn",
        "action-case",
        "resource-case",
        "ifexists-missing",
        "ForAnyValue-missing",
        "ForAllValues-missing",
        "ForAnyValue-missing-ifexists",
        "var-absent-resource",
        "var-absent-condition",
        "var-absent-notresource-allow",
        "boundary",
        "session",
        "scp",
        "rcp",
        "cross-account",
        "resource-policy",
        "trust",
        "key",
        "federated",
        "anonymous",
        "not-principal",
        "focused",
    ):
        assert wanted in tags, wanted
    text = json.dumps([to_ours(s) for s in scenarios])
    operators = set(re.findall(r'"((?:ForAnyValue:|ForAllValues:)?[A-Z][A-Za-z]+)": \{"aws:', text))
    bases = {re.sub(r"^For\w+:|IfExists$", "", op) for op in operators}
    for family in (
        "StringEquals",
        "StringNotLike",
        "StringEqualsIgnoreCase",
        "ArnLike",
        "ArnNotEquals",
        "IpAddress",
        "NotIpAddress",
        "Bool",
        "NumericLessThan",
        "DateGreaterThan",
        "Null",
    ):
        assert family in bases, family
    assert "NotAction" in text and "NotResource" in text and "${aws:" in text
    assert ", '" in text  # variables with defaults


def test_divergence_list_is_reviewed_and_complete() -> None:
    entries = load_divergences()
    assert len({e.tag for e in entries}) == len(entries)
    for entry in entries:
        assert entry.source.startswith(("IAM User Guide", "AWS Organizations User Guide")), entry
        assert len(entry.decides) > 40 and entry.ours and entry.oracle, entry
        assert entry.neutralize in neutralizer_names(), entry
        assert (entry.neutralize != "none") == entry.generated, entry
