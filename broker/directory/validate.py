"""Validating a directory configuration as a whole: shape, then cross-references."""

from __future__ import annotations

from dataclasses import dataclass

from broker.directory.model import DirectorySpec
from broker.directory.rules import Finding, check_rules, from_config_issue
from broker.directory.source import Source, read_source
from broker.errors import ConfigError

__all__ = ["InvalidDirectoryError", "Report", "validate"]


@dataclass(frozen=True)
class Report:
    """Every finding, and the spec when it could be read at all."""

    spec: DirectorySpec | None
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def ok(self) -> bool:
        return self.spec is not None and not self.errors


class InvalidDirectoryError(ConfigError):
    """The directory configuration has errors; ``findings`` holds all of them."""

    def __init__(self, report: Report, source: Source) -> None:
        self.findings = report.errors
        count = len(self.findings)
        head = str(self.findings[0]) if self.findings else "the directory cannot be read"
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(
            f"{source.config_dir}/{head}{more}; run `broker directory validate` for all"
        )


def validate(source: Source) -> Report:
    """Read and check the directory under ``source``, reporting every problem at once."""
    spec, issues, broken = read_source(source)
    findings = [from_config_issue(issue) for issue in issues]
    if spec is not None:
        findings += check_rules(spec, source, broken)
    return Report(spec, tuple(findings))
