"""The directory's cross-reference rules: everything ``broker directory validate`` reports.

Each finding names the file, the key and the fix. ``error`` findings make the directory
unusable (exit 1, nothing is loaded); ``warning`` findings are reported (a root user without
MFA, a duplicated assignment) but do not block loading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from broker.config import ConfigIssue
from broker.directory.model import DirectorySpec
from broker.directory.naming import (
    MAX_ROLE_SESSION,
    MIN_ROLE_SESSION,
    parse_iso_duration,
    valid_account_id,
    valid_permission_set_name,
)
from broker.directory.policies import PolicyKind, check_policy, parse_document, read_policy
from broker.directory.source import Source

__all__ = ["Finding", "check_rules", "from_config_issue"]

_IAM_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
_USER_CLAIM = re.compile(r"sub|email|name_id|attr:.+")
_TAG_KEY = re.compile(r"[\w .:/=+\-@]{1,128}")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in the directory configuration."""

    file: str
    key: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.severity}: {self.message}"


def _allows(doc: Mapping[str, Any] | None) -> bool:
    """Whether a policy document has at least one Allow statement."""
    if doc is None:
        return True  # reported as missing elsewhere
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return any(isinstance(s, dict) and s.get("Effect") == "Allow" for s in statements)


def from_config_issue(issue: ConfigIssue) -> Finding:
    return Finding(issue.file, issue.key, issue.message)


class _Checker:
    def __init__(self, spec: DirectorySpec, source: Source, broken: Mapping[str, set[str]]) -> None:
        self.spec = spec
        self.source = source
        # Names that exist, including entries whose own table failed to parse (already
        # reported), so references to them do not produce a second, misleading error.
        self.names: dict[str, set[str]] = {
            section: set(getattr(spec, section)) | set(broken.get(section, ()))
            for section in ("users", "groups", "ous", "scps", "permission_sets", "accounts")
        }
        self.findings: list[Finding] = []
        self._policy_cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.account_ids = {a.id: name for name, a in spec.accounts.items()}

    def error(self, section: str, key: str, message: str) -> None:
        self.findings.append(Finding(self.source.file(section), key, message))

    def warn(self, section: str, key: str, message: str) -> None:
        self.findings.append(Finding(self.source.file(section), key, message, "warning"))

    def account_ref(self, ref: str) -> bool:
        return ref in self.names["accounts"] or ref in self.account_ids

    def policy(self, section: str, key: str, name: str, kind: PolicyKind) -> None:
        """Report a missing or invalid policy file ``name`` used at ``key``."""
        cached = self._policy_cache.get((name, kind))
        if cached is None:
            doc, why = read_policy(self.source.policies, name)
            if doc is None:
                cached = [("error", f"policy {name!r}: {why}; create policies/{name}.json")]
            else:
                cached = self._document_problems(f"policies/{name}.json", doc, kind)
            self._policy_cache[(name, kind)] = cached
        for severity, message in cached:
            (self.error if severity == "error" else self.warn)(section, key, message)

    @staticmethod
    def _document_problems(
        label: str, doc: Mapping[str, Any], kind: PolicyKind
    ) -> list[tuple[str, str]]:
        out = []
        for problem in check_policy(doc, kind):
            if problem.severity in ("error", "security_warning"):
                severity = "error" if problem.severity == "error" else "warning"
                out.append((severity, f"{label} {problem.path}: {problem.message}"))
        return out

    # -- sections -------------------------------------------------------------------------

    def organization(self) -> None:
        org = self.spec.organization
        if org.management_account not in self.names["accounts"]:
            self.error(
                "organization",
                "organization.management_account",
                f"unknown account {org.management_account!r}; name one under [accounts]",
            )
        self.scp_refs("organization", "organization.scps", org.scps)
        for name, scp in self.spec.scps.items():
            self.policy("scps", f"scps.{name}.policy", scp.policy, "scp")

    def scp_refs(self, section: str, key: str, names: Iterable[str]) -> None:
        names = list(names)
        for name in names:
            if name not in self.names["scps"]:
                self.error(section, key, f"unknown SCP {name!r}; define it under [scps.{name}]")
        known = [self.spec.scps[n].policy for n in names if n in self.spec.scps]
        if known and not any(_allows(read_policy(self.source.policies, p)[0]) for p in known):
            self.warn(
                section,
                key,
                "these SCPs allow nothing, so every action beneath is denied; add FullAWSAccess",
            )

    def ous(self) -> None:
        for name, ou in self.spec.ous.items():
            key = f"ous.{name}"
            if name == "root":
                self.error("ous", key, "'root' is the organization root; rename this OU")
            if ou.parent != "root" and ou.parent not in self.names["ous"]:
                self.error(
                    "ous", f"{key}.parent", f"unknown OU {ou.parent!r}; use 'root' or an OU name"
                )
            self.scp_refs("ous", f"{key}.scps", ou.scps)
        for name in self.spec.ous:
            seen = [name]
            parent = self.spec.ous[name].parent
            while parent in self.spec.ous and parent not in seen:
                seen.append(parent)
                parent = self.spec.ous[parent].parent
            if parent == name and name == min(seen):  # report each cycle once
                cycle = " -> ".join([*seen, name])
                self.error("ous", f"ous.{name}.parent", f"OUs form a cycle ({cycle}); break it")

    def accounts(self) -> None:
        by_id: dict[str, str] = {}
        for name, account in self.spec.accounts.items():
            key = f"accounts.{name}"
            if not valid_account_id(account.id):
                self.error("accounts", f"{key}.id", f"{account.id!r} is not a 12-digit account id")
            elif account.id in by_id:
                self.error(
                    "accounts",
                    f"{key}.id",
                    f"duplicate account id {account.id} (also {by_id[account.id]}); ids are unique",
                )
            by_id.setdefault(account.id, name)
            if "@" not in account.email:
                self.error("accounts", f"{key}.email", f"{account.email!r} is not an email address")
            if account.ou != "root" and account.ou not in self.names["ous"]:
                self.error(
                    "accounts",
                    f"{key}.ou",
                    f"account is outside the organization: unknown OU {account.ou!r}; "
                    "use 'root' or an OU under [ous]",
                )
            self.scp_refs("accounts", f"{key}.scps", account.scps)
            if not account.root_user.mfa:
                self.warn(
                    "accounts",
                    f"{key}.root_user.mfa",
                    "the root user has no MFA device; enable MFA on the root user",
                )
            if account.root_user.access_keys:
                self.warn(
                    "accounts",
                    f"{key}.root_user.access_keys",
                    "the root user has access keys; delete them and use roles",
                )
            self.tags("accounts", f"{key}.tags", account.tags)

    def tags(self, section: str, key: str, tags: Mapping[str, str]) -> None:
        for tag in tags:
            if not _TAG_KEY.fullmatch(tag) or tag.lower().startswith("aws:"):
                self.error(section, f"{key}.{tag}", "invalid tag key (1-128 chars, not 'aws:')")

    def users_and_groups(self) -> None:
        emails: dict[str, str] = {}
        for name, user in self.spec.users.items():
            key = f"users.{name}"
            if not _IAM_NAME.fullmatch(name):
                self.error("users", key, "user names are 1-64 of letters, digits and _+=,.@-")
            if "@" not in user.email:
                self.error("users", f"{key}.email", f"{user.email!r} is not an email address")
            lowered = user.email.lower()
            if lowered in emails:
                self.error(
                    "users",
                    f"{key}.email",
                    f"duplicate email {user.email} (also users.{emails[lowered]}); "
                    "emails identify users and must be unique",
                )
            emails.setdefault(lowered, name)
            if name in self.spec.groups:
                self.error("users", key, f"{name!r} is both a user and a group; rename one of them")
            self.tags("users", f"{key}.tags", user.tags)
        for name, group in self.spec.groups.items():
            key = f"groups.{name}.members"
            seen: set[str] = set()
            for member in group.members:
                if member in self.names["groups"]:
                    self.error(
                        "groups",
                        key,
                        f"group {name!r} contains group {member!r}: groups cannot contain "
                        f"groups; list {member!r}'s users instead",
                    )
                elif member not in self.names["users"]:
                    self.error("groups", key, f"unknown user {member!r}; add it to users.toml")
                if member in seen:
                    self.warn("groups", key, f"{member!r} is listed twice; remove one")
                seen.add(member)

    def permission_sets(self) -> None:
        for name, ps in self.spec.permission_sets.items():
            key = f"permission_sets.{name}"
            if not valid_permission_set_name(name):
                self.error("permission_sets", key, "names are 1-32 of letters, digits and _+=,.@-")
            for field_name, names in (
                ("managed_policies", ps.managed_policies),
                ("customer_policies", ps.customer_policies),
            ):
                for policy in names:
                    self.policy("permission_sets", f"{key}.{field_name}", policy, "identity")
            if ps.inline_policy is not None:
                self.inline(f"{key}.inline_policy", ps.inline_policy)
            if ps.permissions_boundary is not None:
                self.policy(
                    "permission_sets",
                    f"{key}.permissions_boundary",
                    ps.permissions_boundary,
                    "boundary",
                )
            seconds = parse_iso_duration(ps.session_duration)
            if seconds is None:
                self.error(
                    "permission_sets",
                    f"{key}.session_duration",
                    f"{ps.session_duration!r} is not an ISO 8601 duration; write e.g. 'PT8H'",
                )
            elif not MIN_ROLE_SESSION <= seconds <= MAX_ROLE_SESSION:
                self.error(
                    "permission_sets",
                    f"{key}.session_duration",
                    f"{ps.session_duration} is out of range; use PT1H to PT12H",
                )
            if not (ps.managed_policies or ps.customer_policies or ps.inline_policy):
                self.warn("permission_sets", key, "grants nothing; attach a policy")
            self.tags("permission_sets", f"{key}.tags", ps.tags)

    def inline(self, key: str, text: str) -> None:
        doc, why = parse_document(text)
        if doc is None:
            self.error("permission_sets", key, f"{why}; fix the inline policy JSON")
            return
        for severity, message in self._document_problems("inline policy", doc, "identity"):
            (self.error if severity == "error" else self.warn)("permission_sets", key, message)

    def assignments(self) -> None:
        seen: dict[tuple[str, str, str], int] = {}
        for i, a in enumerate(self.spec.assignments):
            key = f"assignments[{i}]"
            if (a.user is None) == (a.group is None):
                self.error("assignments", key, "set exactly one of user or group")
                continue
            if a.user is not None and a.user not in self.names["users"]:
                hint = " (it is a group: use group =)" if a.user in self.names["groups"] else ""
                self.error("assignments", f"{key}.user", f"unknown user {a.user!r}{hint}")
            if a.group is not None and a.group not in self.names["groups"]:
                hint = " (it is a user: use user =)" if a.group in self.names["users"] else ""
                self.error("assignments", f"{key}.group", f"unknown group {a.group!r}{hint}")
            if a.permission_set not in self.names["permission_sets"]:
                self.error(
                    "assignments",
                    f"{key}.permission_set",
                    f"unknown permission set {a.permission_set!r}; define it in "
                    "permission-sets.toml",
                )
            if not a.accounts:
                self.error("assignments", f"{key}.accounts", "list at least one account")
            principal = f"user:{a.user}" if a.user else f"group:{a.group}"
            for ref in a.accounts:
                if not self.account_ref(ref):
                    self.error(
                        "assignments",
                        f"{key}.accounts",
                        f"account {ref!r} is not in the organization; use an account name or id",
                    )
                    continue
                account_id = self.spec.accounts[ref].id if ref in self.spec.accounts else ref
                ident = (principal, a.permission_set, account_id)
                if ident in seen:
                    self.warn(
                        "assignments",
                        key,
                        f"duplicates assignments[{seen[ident]}] on {ref}; remove one",
                    )
                seen.setdefault(ident, i)

    def roles(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for i, role in enumerate(self.spec.roles):
            key = f"roles[{i}]"
            if not self.account_ref(role.account):
                self.error(
                    "roles",
                    f"{key}.account",
                    f"account {role.account!r} is not in the organization",
                )
            if not _IAM_NAME.fullmatch(role.name):
                self.error("roles", f"{key}.name", "role names are 1-64 of [A-Za-z0-9_+=,.@-]")
            if role.name.startswith("AWSReservedSSO_"):
                self.error(
                    "roles", f"{key}.name", "AWSReservedSSO_ is reserved for permission sets"
                )
            if not (role.path.startswith("/") and role.path.endswith("/")):
                self.error("roles", f"{key}.path", "a path starts and ends with '/'")
            account = self.spec.accounts.get(role.account)
            ident = (account.id if account else role.account, role.name.lower())
            if ident in seen:
                self.error(
                    "roles", f"{key}.name", f"duplicate role name (also roles[{seen[ident]}])"
                )
            seen.setdefault(ident, i)
            self.policy("roles", f"{key}.trust_policy", role.trust_policy, "trust")
            for policy in role.policies:
                self.policy("roles", f"{key}.policies", policy, "identity")
            if role.permissions_boundary is not None:
                self.policy(
                    "roles", f"{key}.permissions_boundary", role.permissions_boundary, "boundary"
                )
            if not MIN_ROLE_SESSION <= role.max_session_duration <= MAX_ROLE_SESSION:
                self.error(
                    "roles",
                    f"{key}.max_session_duration",
                    f"{role.max_session_duration} s is out of range; use 3600 to 43200",
                )
            self.tags("roles", f"{key}.tags", role.tags)

    def identity(self) -> None:
        for provider, mapping in self.spec.identity.items():
            key = f"identity.{provider}"
            if not _USER_CLAIM.fullmatch(mapping.user_claim):
                self.error(
                    "identity",
                    f"{key}.user_claim",
                    f"{mapping.user_claim!r}: use sub, email, name_id or attr:NAME",
                )
            for idp_group, group in mapping.group_map.items():
                if group not in self.names["groups"]:
                    self.error(
                        "identity",
                        f"{key}.group_map.{idp_group}",
                        f"unknown directory group {group!r}; add it to groups.toml",
                    )
            self.tags("identity", f"{key}.principal_tags", mapping.principal_tags)


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
