"""The directory's cross-reference rules: everything ``broker directory validate`` reports.

The rules live in ``rules_organization`` and ``rules_access``; findings and the context they
report through in ``findings``.
"""

from __future__ import annotations

from collections.abc import Mapping

from broker.directory.findings import Finding, from_config_issue
from broker.directory.model import DirectorySpec
from broker.directory.rules_access import AccessRules
from broker.directory.rules_organization import OrganizationRules
from broker.directory.source import Source

__all__ = ["Finding", "check_rules", "from_config_issue"]


class _Checker(OrganizationRules, AccessRules):
    """Every rule, run over one spec."""


def check_rules(
    spec: DirectorySpec, source: Source, broken: Mapping[str, set[str]] | None = None
) -> list[Finding]:
    """Every cross-reference problem in ``spec``, sorted by file and key.

    ``broken``: per section, names whose tables failed to parse (their problems are reported
    already); references to them count as resolved.
    """
    checker = _Checker(spec, source, broken or {})
    checker.organization()
    checker.ous()
    checker.accounts()
    checker.users_and_groups()
    checker.permission_sets()
    checker.assignments()
    checker.roles()
    checker.identity()
    return sorted(set(checker.findings), key=lambda f: (f.file, f.key, f.message))
