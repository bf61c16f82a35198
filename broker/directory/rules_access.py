"""Rules for who may do what: users, groups, permission sets, assignments, roles, mappings."""

from __future__ import annotations

import re

from broker.directory.findings import RuleContext
from broker.directory.naming import (
    MAX_ROLE_SESSION,
    MIN_ROLE_SESSION,
    parse_iso_duration,
    valid_permission_set_name,
)
from broker.directory.policies import parse_document

__all__ = ["AccessRules"]

_IAM_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
_USER_CLAIM = re.compile(r"sub|email|name_id|attr:.+")


class AccessRules(RuleContext):
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
            for policy in user.policies:
                self.policy("users", f"{key}.policies", policy, "identity")
        for name, group in self.spec.groups.items():
            for policy in group.policies:
                self.policy("groups", f"groups.{name}.policies", policy, "identity")
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
            if ps.relay_state and not (
                ps.relay_state.startswith("https://") and len(ps.relay_state) <= 240
            ):
                self.error(
                    "permission_sets",
                    f"{key}.relay_state",
                    "the relay state is an https:// URL of at most 240 characters",
                )
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
                hint = " (it is a group: use group =)" if a.user in self.spec.groups else ""
                self.error("assignments", f"{key}.user", f"unknown user {a.user!r}{hint}")
            if a.group is not None and a.group not in self.names["groups"]:
                hint = " (it is a user: use user =)" if a.group in self.spec.users else ""
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
