"""Differential run on fresh seeds: our policy engine against ``@cloud-copilot/iam-simulate``
(test-time peer in ``tests/peers/iamsim``; run ``scripts/setup`` first).

Usage: ``python bench/differential.py [--seed S] [--cases N] [--rounds R] [--no-shrink]``

For each round, N generated well-formed cases (``tests/differential/generator.py``) go to both
evaluators. It prints agreements, disagreements explained by a reviewed divergence
(``tests/differential/divergences.toml``, confirmed on the neutralized case), unexplained ones
(each shrunk to a small case, ready for a unit test), and how often each side refused a
well-formed case (target for us: at most 1%). Exit 1 when anything is unexplained or we refuse
more than 1%.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.differential.compare import compare
from tests.differential.generator import generate, to_ours
from tests.differential.oracle import PEER, oracle_available, run_oracle, run_ours
from tests.differential.shrink import shrink


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="first seed (default: fresh)")
    parser.add_argument("--cases", type=int, default=5000, help="cases per round")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-shrink", action="store_true", help="print unexplained cases whole")
    args = parser.parse_args()
    if not oracle_available():
        print(f"the oracle is not installed: run scripts/setup (npm ci in {PEER})", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    failed = False
    for round_ in range(args.rounds):
        current = seed + round_
        scenarios = generate(current, args.cases)
        started = time.perf_counter()
        ours = run_ours(scenarios)
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        oracle = run_oracle(scenarios)
        oracle_s = time.perf_counter() - started
        report = compare(scenarios, ours, oracle)
        print(f"seed {current}: {report.summary()}")
        print(f"  time: ours {ours_s:.1f} s, oracle {oracle_s:.1f} s (loaded machines vary)")
        print(f"  well-formed cases we refused: {report.refused_ours_rate:.2%} (target <= 1%)")
        for _scenario, error in report.refused_ours[:5]:
            print(f"  refused: {error}")
        for scenario, a, b in report.unexplained:
            small = scenario if args.no_shrink else shrink(scenario)
            print(f"  UNEXPLAINED ours {a} oracle {b} tags {sorted(scenario.tags)}")
            print("   ", json.dumps(to_ours(small)))
        failed |= bool(report.unexplained) or report.refused_ours_rate > 0.01
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
