"""Rules for the organization: management account, SCPs, the OU tree, accounts."""

from __future__ import annotations

import re

from broker.directory.findings import RuleContext
from broker.directory.naming import valid_account_id

__all__ = ["OrganizationRules"]

# AWS Organizations' id pattern (Organization.Id): "o-" then 10 to 32 lowercase letters/digits.
_ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")


class OrganizationRules(RuleContext):
    def organization(self) -> None:
        org = self.spec.organization
        if org.management_account not in self.names["accounts"]:
            self.error(
                "organization",
                "organization.management_account",
                f"unknown account {org.management_account!r}; name one under [accounts]",
            )
        if org.id and not _ORGANIZATION_ID.fullmatch(org.id):
            self.error(
                "organization",
                "organization.id",
                f"{org.id!r} is not an Organizations id ('o-' then 10-32 lowercase letters "
                "or digits, e.g. 'o-a1b2c3d4e5')",
            )
        self.scp_refs("organization", "organization.scps", org.scps)
        for name, scp in self.spec.scps.items():
            self.policy("scps", f"scps.{name}.policy", scp.policy, "scp")

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
        for name in set(self.spec.ous) - {"root"}:  # "root" is reported above
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
