"""Compare our answers with the oracle's on generated scenarios: agreements, disagreements
explained by a reviewed divergence (confirmed on the neutralized case), unexplained ones, and
how often each side refused a case."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.differential.divergences import Divergence, load_divergences, neutralized
from tests.differential.generator import Scenario
from tests.differential.oracle import run_oracle, run_ours

__all__ = ["Report", "compare"]


@dataclass
class Report:
    cases: int = 0
    agreed: int = 0
    excused: Counter[str] = field(default_factory=Counter)
    unexplained: list[tuple[Scenario, str, str]] = field(default_factory=list)
    refused_ours: list[tuple[Scenario, str]] = field(default_factory=list)
    refused_oracle: list[tuple[Scenario, str]] = field(default_factory=list)

    @property
    def refused_ours_rate(self) -> float:
        return len(self.refused_ours) / self.cases if self.cases else 0.0

    def summary(self) -> str:
        excused = ", ".join(f"{tag} {n}" for tag, n in sorted(self.excused.items())) or "none"
        return (
            f"{self.cases} cases: {self.agreed} agreed; known divergences: {excused}; "
            f"unexplained: {len(self.unexplained)}; refused by us: {len(self.refused_ours)} "
            f"({self.refused_ours_rate:.2%}); refused by the oracle: {len(self.refused_oracle)}"
        )


def _decision(answer: dict[str, Any]) -> str | None:
    value = answer.get("decision")
    return value if isinstance(value, str) else None


def compare(
    scenarios: list[Scenario],
    ours: list[dict[str, Any]],
    oracle: list[dict[str, Any]],
    divergences: list[Divergence] | None = None,
) -> Report:
    entries = [d for d in (divergences or load_divergences()) if d.generated]
    report = Report(cases=len(scenarios))
    suspects: list[tuple[Scenario, list[Divergence], str, str]] = []
    for scenario, mine, theirs in zip(scenarios, ours, oracle, strict=True):
        a, b = _decision(mine), _decision(theirs)
        if a is None:
            report.refused_ours.append((scenario, str(mine.get("error"))))
        if b is None:
            report.refused_oracle.append((scenario, str(theirs.get("error"))))
        if a is None or b is None:
            continue
        if a == b:
            report.agreed += 1
            continue
        matching = [d for d in entries if d.tag in scenario.tags]
        if not matching:
            report.unexplained.append((scenario, a, b))
        else:
            suspects.append((scenario, matching, a, b))
    if suspects:
        rewritten = [neutralized(s, m) for s, m, _, _ in suspects]
        again = zip(run_ours(rewritten), run_oracle(rewritten), strict=True)
        for (scenario, matching, a, b), (mine, theirs) in zip(suspects, again, strict=True):
            if _decision(mine) is not None and _decision(mine) == _decision(theirs):
                for entry in matching:
                    report.excused[entry.tag] += 1
            else:
                report.unexplained.append((scenario, a, b))
    return report
