"""Reading ``config/directory/*.toml`` into a ``DirectorySpec``, collecting every problem.

Each section lives in exactly one file (``model.FILES``), so each issue can name the file to
edit. This step checks shapes and types only; cross-references are ``rules.py``'s job.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from broker.config import ConfigIssue, from_table
from broker.directory.model import (
    FILES,
    AccountSpec,
    AssignmentSpec,
    DirectorySpec,
    GroupSpec,
    IdentityMappingSpec,
    OrganizationSpec,
    OUSpec,
    PermissionSetSpec,
    RoleSpec,
    ScpSpec,
    UserSpec,
)

__all__ = ["SECTION_FILE", "UNREADABLE", "Source", "fingerprint", "read_source"]

T = TypeVar("T")

SECTION_FILE: Mapping[str, str] = {
    section: file for file, sections in FILES.items() for section in sections
}


@dataclass(frozen=True)
class Source:
    """Where the directory config lives: ``<config>/directory`` and ``<config>/policies``."""

    config_dir: Path

    @property
    def directory(self) -> Path:
        return self.config_dir / "directory"

    @property
    def policies(self) -> Path:
        return self.config_dir / "policies"

    def file(self, section: str) -> str:
        """The path shown in issues for ``section`` (relative to the config directory)."""
        return f"directory/{SECTION_FILE[section]}"


def fingerprint(source: Source) -> str:
    """A digest of every file the directory is built from: it changes when any of them does."""
    digest = hashlib.sha256()
    paths = [source.directory / name for name in sorted(FILES)]
    if source.policies.is_dir():
        paths += sorted(source.policies.glob("*.json"))
    for path in paths:
        digest.update(str(path.relative_to(source.config_dir)).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except FileNotFoundError:
            digest.update(b"\0missing\0")
        digest.update(b"\0")
    return digest.hexdigest()


# In ``broken``: every name of a section whose whole file could not be read.
UNREADABLE = "*"


def _load_tables(
    source: Source, issues: list[ConfigIssue], broken: dict[str, set[str]]
) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    if not source.directory.is_dir():
        issues.append(
            ConfigIssue(source.directory.name, "", "no directory configuration here; create it")
        )
        return sections
    for name, allowed in FILES.items():
        path = source.directory / name
        shown = f"directory/{name}"
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            if name == "organization.toml":
                issues.append(ConfigIssue(shown, "", "missing: the organization is required"))
            continue
        except tomllib.TOMLDecodeError as exc:
            issues.append(ConfigIssue(shown, "", f"invalid TOML: {exc}"))
            for section in allowed:
                broken.setdefault(section, set()).add(UNREADABLE)
            continue
        for key, value in data.items():
            if key not in allowed:
                home = SECTION_FILE.get(key)
                fix = f"move it to directory/{home}" if home else f"known: {', '.join(allowed)}"
                issues.append(ConfigIssue(shown, key, f"unknown key here ({fix})"))
            else:
                sections[key] = value
    return sections


def _one(cls: type[T], value: Any, file: str, prefix: str, issues: list[ConfigIssue]) -> T | None:
    if not isinstance(value, dict):
        issues.append(ConfigIssue(file, prefix, f"expected a table, got {type(value).__name__}"))
        return None
    made, found = from_table(cls, value, file=file, prefix=prefix)
    issues.extend(found)
    return made


def _named(
    cls: type[T],
    sections: Mapping[str, Any],
    section: str,
    issues: list[ConfigIssue],
    broken: dict[str, set[str]],
) -> dict[str, T]:
    file = f"directory/{SECTION_FILE[section]}"
    table = sections.get(section, {})
    if not isinstance(table, dict):
        issues.append(ConfigIssue(file, section, "expected a table of named entries"))
        return {}
    out: dict[str, T] = {}
    for name, value in table.items():
        made = _one(cls, value, file, f"{section}.{name}", issues)
        if made is not None:
            out[name] = made
        else:
            broken.setdefault(section, set()).add(name)
    return out


def _listed(
    cls: type[T], sections: Mapping[str, Any], section: str, issues: list[ConfigIssue]
) -> tuple[T, ...]:
    file = f"directory/{SECTION_FILE[section]}"
    items = sections.get(section, [])
    if not isinstance(items, list):
        issues.append(ConfigIssue(file, section, f"expected [[{section}]] entries"))
        return ()
    made = [_one(cls, value, file, f"{section}[{i}]", issues) for i, value in enumerate(items)]
    return tuple(m for m in made if m is not None)


def read_source(
    source: Source,
) -> tuple[DirectorySpec | None, list[ConfigIssue], dict[str, set[str]]]:
    """Every section parsed strictly; None when the organization itself is unusable.

    Returns the spec, every shape problem, and per section the names whose tables were
    invalid (left out of the spec).
    """
    issues: list[ConfigIssue] = []
    broken: dict[str, set[str]] = {}
    sections = _load_tables(source, issues, broken)
    organization = None
    if "organization" in sections:
        organization = _one(
            OrganizationSpec,
            sections["organization"],
            source.file("organization"),
            "organization",
            issues,
        )
    elif (source.directory / "organization.toml").is_file():
        issues.append(
            ConfigIssue(source.file("organization"), "organization", "required table is missing")
        )
    spec = DirectorySpec(
        organization=organization or OrganizationSpec(management_account=""),
        scps=_named(ScpSpec, sections, "scps", issues, broken),
        ous=_named(OUSpec, sections, "ous", issues, broken),
        accounts=_named(AccountSpec, sections, "accounts", issues, broken),
        users=_named(UserSpec, sections, "users", issues, broken),
        groups=_named(GroupSpec, sections, "groups", issues, broken),
        permission_sets=_named(PermissionSetSpec, sections, "permission_sets", issues, broken),
        assignments=_listed(AssignmentSpec, sections, "assignments", issues),
        roles=_listed(RoleSpec, sections, "roles", issues),
        identity=_named(IdentityMappingSpec, sections, "identity", issues, broken),
    )
    return (spec if organization is not None else None), issues, broken
