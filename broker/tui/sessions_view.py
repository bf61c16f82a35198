"""What the sessions view shows for each cached profile, and in which order (no Textual)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from broker.tui.expiry import Level, describe, format_remaining, glyph, level_for
from broker.tui.model import SessionRow, format_account_id

if TYPE_CHECKING:
    from broker.client.refresher_status import StatusView

__all__ = ["ordered", "refresher_line", "revoke_question", "row_cells"]

_START = "start it with `broker refresh --watch`"


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
    """The confirm text with the exact scope (docs/tui.md §7)."""
    users = sum(1 for r in rows if (r.account_id, r.role_name) == (row.account_id, row.role_name))
    plural = "profile uses" if users == 1 else "profiles use"
    return (
        f"Revoke {row.role_name} @ {row.account_name} ({format_account_id(row.account_id)})? "
        f"{users} {plural} it."
    )


def refresher_line(
    view: StatusView | None, now: datetime, *, problem: str | None = None, ascii_only: bool = False
) -> str:
    """One line on ``broker refresh --watch``: running (next round countdown, what the last
    round refreshed), stopped (why), or never started; a glyph and words, never colour alone.
    ``problem``: the status record could not be read (shown instead)."""
    from broker.client.refresher_status import RefresherState

    ok, warn, bad = (
        glyph(lv, ascii_only=ascii_only) for lv in (Level.OK, Level.WARN, Level.EXPIRED)
    )
    if problem is not None:
        return f"{warn} Refresher status unreadable: {problem}"
    if view is None:
        return "Refresher: reading its status…"
    status = view.status
    if view.state is RefresherState.NEVER or status is None:
        return f"Refresher: never started here — {_START} to keep these fresh"
    last = status.last_error_for_app  # its fix worded for the app (`s`), not the command
    error = f" · last error: {last}" if last else ""
    if view.state is RefresherState.STOPPED:
        return f"{bad} Refresher stopped ({view.reason}) — {_START}{error}"
    left = (status.next_round - now).total_seconds() if status.next_round else None
    if left is None:
        when = "refreshing now"
    else:
        when = f"next round in {format_remaining(left)}" if left >= 1 else "next round due now"
    done = f" · refreshed {', '.join(status.refreshed)}" if status.refreshed else ""
    lead = warn if status.last_error else ok
    return f"{lead} Refresher running (pid {status.pid}) · {when}{done}{error}"
