"""The AWS access portal's view of a person: the accounts and roles they hold.

ListAccounts, then ListAccountRoles for each account, both paginated with botocore's own
paginators (the ``sso`` model's ``nextToken``), with the person's access token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.errors import ProviderUnavailableError, ReauthenticationRequired
from broker.login_advice import plain_login_advice
from providers.identity_center.clients import error_code, error_text, one_line

__all__ = ["HeldRole", "held_roles"]


@dataclass(frozen=True)
class HeldRole:
    """One role (permission set) the person holds in one account."""

    account_id: str
    account_name: str
    email: str
    role_name: str


def held_roles(portal: Any, access_token: str, provider: str) -> list[HeldRole]:
    """Every role the person holds, by account id then role name.

    Raises:
        ReauthenticationRequired: the session has ended or was revoked.
        ProviderUnavailableError: Identity Center cannot be reached, or throttles still.
    """
    import botocore.exceptions

    try:
        accounts = [
            account
            for page in portal.get_paginator("list_accounts").paginate(accessToken=access_token)
            for account in page.get("accountList", [])
        ]
        found: list[HeldRole] = []
        for account in accounts:
            pages = portal.get_paginator("list_account_roles").paginate(
                accessToken=access_token, accountId=account["accountId"]
            )
            for page in pages:
                for role in page.get("roleList", []):
                    found.append(
                        HeldRole(
                            account_id=account["accountId"],
                            account_name=account.get("accountName", ""),
                            email=account.get("emailAddress", ""),
                            role_name=role["roleName"],
                        )
                    )
    except botocore.exceptions.ClientError as exc:
        code = error_code(exc)
        if code == "UnauthorizedException":
            raise ReauthenticationRequired(
                f"IAM Identity Center no longer accepts the {provider} session (ended or "
                "revoked): ",
                sign_in=plain_login_advice(provider),
            ) from None
        raise ProviderUnavailableError(
            f"IAM Identity Center could not list your accounts ({code}: {error_text(exc)}); "
            "retry later"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ProviderUnavailableError(
            f"IAM Identity Center cannot be reached: {one_line(str(exc))}; retry later"
        ) from None
    return sorted(found, key=lambda r: (r.account_id, r.role_name))
