"""What the sessions view shows for each cached profile, and in which order (no Textual)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from broker.tui.expiry import Level, describe, level_for
from broker.tui.model import SessionRow, format_account_id

__all__ = ["ordered", "revoke_question", "row_cells"]


def ordered(rows: Sequence[SessionRow], now: datetime) -> list[SessionRow]:
    """Live sessions by profile name (stable), expired ones last (aws-sso-cli)."""
    return sorted(
        rows, key=lambda r: ((r.expiration - now).total_seconds() <= 0, r.profile.lower())
    )


def row_cells(row: SessionRow, now: datetime, *, ascii_only: bool = False) -> tuple[str, ...]:
    """Profile, account (name and id), role, countdown with glyph, local expiry clock time,
    and whether the refresher keeps it fresh."""
    left = (row.expiration - now).total_seconds()
    return (
        row.profile,
        f"{row.account_name} ({format_account_id(row.account_id)})",
        row.role_name,
        describe(left, ascii_only=ascii_only),
        row.expiration.astimezone().strftime("%H:%M"),
        "auto" if row.refreshable else "manual",
    )


def level_of(row: SessionRow, now: datetime) -> Level:
    return level_for((row.expiration - now).total_seconds())


def revoke_question(row: SessionRow, rows: Sequence[SessionRow]) -> str:
    """The confirm text with the exact scope (TUI.md §7)."""
    users = sum(1 for r in rows if (r.account_id, r.role_name) == (row.account_id, row.role_name))
    plural = "profile uses" if users == 1 else "profiles use"
    return (
        f"Revoke {row.role_name} @ {row.account_name} ({format_account_id(row.account_id)})? "
        f"{users} {plural} it."
    )
