"""Queries about the organization: accounts, OUs, SCPs per level."""

from __future__ import annotations

import json
from typing import Any

from broker.directory.handle import DatabaseHandle, tags_of
from broker.directory.naming import FULL_AWS_ACCESS
from broker.directory.values import Account
from broker.errors import DirectoryError

__all__ = ["OrganizationQueries"]


class OrganizationQueries(DatabaseHandle):
    def _account_from_row(self, row: tuple[Any, ...]) -> Account:
        account_id, name, email, ou, tags, management, root_mfa, root_keys = row
        return Account(
            account_id,
            name,
            email,
            tuple(self._ou_path(ou)),
            tags_of(tags),
            bool(management),
            bool(root_mfa),
            bool(root_keys),
        )

    def _ou_path(self, ou: str) -> list[str]:
        """OU names from the root down to ``ou`` (empty for an account under the root)."""
        path: list[str] = []
        while ou != "root" and ou not in path:
            path.insert(0, ou)
            rows = self._rows("SELECT parent FROM ous WHERE name = ?", (ou,))
            ou = rows[0][0] if rows else "root"
        return path

    def accounts(self) -> list[Account]:
        return [
            self._account_from_row(r) for r in self._rows("SELECT * FROM accounts ORDER BY name")
        ]

    def account(self, ref: str) -> Account:
        """The account with id or name ``ref``."""
        rows = self._rows("SELECT * FROM accounts WHERE id = ? OR name = ?", (ref, ref))
        if not rows:
            raise DirectoryError(
                f"no account {ref!r} in the organization; see `broker directory accounts`"
            )
        return self._account_from_row(rows[0])

    def is_management_account(self, account_id: str) -> bool:
        rows = self._rows("SELECT management FROM accounts WHERE id = ?", (account_id,))
        return bool(rows and rows[0][0])

    def organization_id(self, account_id: str) -> str | None:
        """The Organizations id (``o-…``) when ``account_id`` is one of the organization's
        accounts and the organization declares its id; else None (``aws:PrincipalOrgID``)."""
        if not self._rows("SELECT 1 FROM accounts WHERE id = ?", (account_id,)):
            return None
        rows = self._rows("SELECT value FROM meta WHERE key = 'organization_id'")
        return str(rows[0][0]) if rows else None

    def management_account_id(self) -> str:
        (row,) = self._rows("SELECT id FROM accounts WHERE management = 1")
        account_id: str = row[0]
        return account_id

    def user_arn(self, name: str) -> str:
        """The IAM ARN of directory user ``name``: users live in the management account, as
        service users with long-term keys do (``arn:aws:iam::<management>:user/<name>``)."""
        return f"arn:aws:iam::{self.management_account_id()}:user/{name}"

    def ous(self) -> list[tuple[str, str]]:
        """(OU, parent) pairs."""
        return [(r[0], r[1]) for r in self._rows("SELECT name, parent FROM ous ORDER BY name")]

    def _scp_docs(self, target_type: str, target: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT p.document FROM scp_attachments a JOIN scps s ON s.name = a.scp "
            "JOIN policies p ON p.name = s.policy "
            "WHERE a.target_type = ? AND a.target = ? ORDER BY a.position",
            (target_type, target),
        )
        if not rows:  # nothing attached: AWS's default FullAWSAccess applies
            return [dict(FULL_AWS_ACCESS)]
        return [json.loads(r[0]) for r in rows]

    def scp_hierarchy(self, account_id: str) -> list[list[dict[str, Any]]]:
        """SCP documents per level, root first, then each OU down, then the account itself.

        A level with nothing attached holds AWS's default ``FullAWSAccess``.
        Every level must allow an action for it to be allowed (AWS's SCP rule). The management
        account is never limited by SCPs: callers check ``is_management_account`` first.
        """
        account = self.account(account_id)
        levels = [self._scp_docs("root", "root")]
        levels += [self._scp_docs("ou", ou) for ou in account.ou_path]
        levels.append(self._scp_docs("account", account.id))
        return levels
