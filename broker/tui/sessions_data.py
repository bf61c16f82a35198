"""The Sessions view's rows: cached profiles from the store's index (no keyring, no secrets).

The facts come from ``broker.client.sessions.cached_sessions``, which ``broker sessions``
prints too, so the view and the command never disagree. No Textual here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from broker.client.sessions import cached_sessions, role_label
from broker.tui.model import SessionRow

if TYPE_CHECKING:
    from broker.sts.state_handle import StateHandle

__all__ = ["role_label", "session_rows"]


def session_rows(config_dir: Path, state: StateHandle) -> list[SessionRow]:
    """Every cached profile, from the store's index (no secrets, no keyring read).

    Account names come from the directory where it knows the account (a machine with only
    ``[profiles]`` tables and no directory shows account ids); an assignment profile shows its
    permission set (as the portal does), not the ``AWSReservedSSO_…`` role.
    """
    return [
        SessionRow(
            profile=cached.profile,
            account_id=cached.account_id,
            account_name=cached.account_name,
            role_name=cached.role,
            expiration=cached.expiration,
            refreshable=cached.refreshable,
        )
        for cached in cached_sessions(config_dir, state)
    ]
