"""Queries about access: permission sets, a user's assignments, roles and their documents."""

from __future__ import annotations

import json
from typing import Any

from broker.directory.handle import DatabaseHandle, held_by, tags_of
from broker.directory.naming import SSO_ROLE_PATH, role_arn, sso_role_name, sso_trust_policy
from broker.directory.values import Assignment, PermissionSet, Role, User
from broker.errors import DirectoryError

__all__ = ["AccessQueries"]


class AccessQueries(DatabaseHandle):
    def permission_sets(self) -> list[PermissionSet]:
        out = []
        for row in self._rows("SELECT * FROM permission_sets ORDER BY name"):
            name, description, managed, customer, inline, boundary, duration, relay, tags = row
            out.append(
                PermissionSet(
                    name,
                    description,
                    tuple(json.loads(managed)),
                    tuple(json.loads(customer)),
                    inline is not None,
                    boundary,
                    duration,
                    relay,
                    tags_of(tags),
                )
            )
        return out

    def assignments_of(self, user: User) -> list[Assignment]:
        """``user``'s assignments: direct ones plus those of each of ``user.groups``."""
        where, params = held_by(user, "a")  # placeholders only: values stay parameters
        sql = (
            "SELECT a.account_id, acc.name, a.permission_set, ps.session_duration, "  # noqa: S608
            "a.principal_type, a.principal FROM assignments a "
            "JOIN accounts acc ON acc.id = a.account_id "
            "JOIN permission_sets ps ON ps.name = a.permission_set WHERE " + where
        )
        out = []
        for account_id, account_name, ps, duration, kind, principal in self._rows(sql, params):
            name = sso_role_name(ps, account_id)
            out.append(
                Assignment(
                    account_id,
                    account_name,
                    ps,
                    name,
                    role_arn(account_id, name, SSO_ROLE_PATH),
                    duration,
                    principal if kind == "group" else None,
                )
            )
        return sorted(out, key=lambda a: (a.account_name, a.permission_set, a.via_group or ""))

    def role(self, account_id: str, role_name: str) -> Role:
        """The role ``role_name`` in ``account_id``: a configured one, or a permission set's."""
        rows = self._rows(
            "SELECT * FROM roles WHERE account_id = ? AND name = ?", (account_id, role_name)
        )
        if rows:
            _acc, name, path, _desc, trust, policies, boundary, max_duration, tags = rows[0]
            return Role(
                account_id,
                name,
                path,
                role_arn(account_id, name, path),
                self._policy(trust),
                tuple(self._policy(p) for p in json.loads(policies)),
                self._policy(boundary) if boundary else None,
                max_duration,
                tags_of(tags),
            )
        return self._sso_role(account_id, role_name)

    def _sso_role(self, account_id: str, role_name: str) -> Role:
        ps_name = role_name.removeprefix("AWSReservedSSO_").rpartition("_")[0]
        rows = self._rows(
            "SELECT ps.* FROM permission_sets ps WHERE ps.name = ? AND EXISTS "
            "(SELECT 1 FROM assignments a WHERE a.permission_set = ps.name AND a.account_id = ?)",
            (ps_name, account_id),
        )
        if not rows or sso_role_name(ps_name, account_id) != role_name:
            raise DirectoryError(
                f"no role {role_name!r} in account {account_id}; see `broker assignments`"
            )
        _n, _d, managed, customer, inline, boundary, duration, _relay, tags = rows[0]
        docs = [self._policy(p) for p in [*json.loads(managed), *json.loads(customer)]]
        if inline is not None:
            docs.append(json.loads(inline))
        return Role(
            account_id,
            role_name,
            SSO_ROLE_PATH,
            role_arn(account_id, role_name, SSO_ROLE_PATH),
            sso_trust_policy(account_id),
            tuple(docs),
            self._policy(boundary) if boundary else None,
            duration,
            tags_of(tags),
            ps_name,
        )

    def managed_policy(self, owner: str, name: str) -> dict[str, Any] | None:
        """The managed policy ``name`` as STS's ``PolicyArns`` may name it, or ``None``.

        ``owner == "aws"``: a document a permission set attaches as AWS managed
        (``managed_policies``). Otherwise ``owner`` is an account id and the policy must be
        customer managed in that account: a permission set assigned there lists it in
        ``customer_policies`` (Identity Center requires it to exist in each such account), a
        role of that account attaches it, or — in the management account, where service
        users live — a user or group attaches it.
        """
        if owner == "aws":
            sql = (
                "SELECT 1 FROM permission_sets ps, json_each(ps.managed_policies) m "
                "WHERE m.value = ?"
            )
            declared = self._rows(sql, (name,))
        else:
            declared = self._rows(
                "SELECT 1 FROM permission_sets ps, json_each(ps.customer_policies) c "
                "JOIN assignments a ON a.permission_set = ps.name "
                "WHERE c.value = ? AND a.account_id = ? "
                "UNION SELECT 1 FROM roles r, json_each(r.policies) p "
                "WHERE p.value = ? AND r.account_id = ? "
                "UNION SELECT 1 FROM principal_policies pp JOIN accounts acc "
                "ON acc.management = 1 WHERE pp.policy = ? AND acc.id = ?",
                (name, owner, name, owner, name, owner),
            )
        if not declared or not self._rows("SELECT 1 FROM policies WHERE name = ?", (name,)):
            return None
        return self._policy(name)
