"""The TUI's own small state file: favourites, recent roles, theme, first-run welcome.

It holds no secrets (role keys are ``account_id/role_name``). Written like every file the broker
owns: 0700 directory, 0600 file, temp file + fsync + rename, so a crash never leaves half a file.
A damaged file is set aside rather than trusted, and the app starts with defaults.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from broker.tui.portal_filter import MAX_RECENT

__all__ = ["MAX_FAVOURITES", "TuiState", "load_state", "save_state", "state_path"]

MAX_FAVOURITES = 9


@dataclass(frozen=True)
class TuiState:
    """What the app remembers between runs."""

    favourites: tuple[str, ...] = ()
    recent: tuple[str, ...] = ()
    theme: str | None = None
    welcome_seen: bool = False
    last_role: str | None = None

    def toggle_favourite(self, key: str) -> TuiState:
        """Add ``key`` as the next favourite (up to 9), or remove it; numbers close up."""
        if key in self.favourites:
            return replace(self, favourites=tuple(k for k in self.favourites if k != key))
        if len(self.favourites) >= MAX_FAVOURITES:
            return self
        return replace(self, favourites=(*self.favourites, key))

    def used(self, key: str) -> TuiState:
        """Record ``key`` as the most recently used role (last 10, newest first)."""
        recent = (key, *(k for k in self.recent if k != key))[:MAX_RECENT]
        return replace(self, recent=recent, last_role=key)

    def to_json(self) -> dict[str, Any]:
        return {
            "favourites": list(self.favourites),
            "recent": list(self.recent),
            "theme": self.theme,
            "welcome_seen": self.welcome_seen,
            "last_role": self.last_role,
        }


def state_path(data_dir: Path) -> Path:
    return data_dir / "tui-state.json"


def _strings(value: Any, limit: int) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))[:limit]


def load_state(data_dir: Path) -> TuiState:
    """The saved state, or defaults when there is none or it cannot be read."""
    path = state_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return TuiState()
    except (OSError, ValueError):
        return TuiState()
    if not isinstance(data, dict):
        return TuiState()
    theme = data.get("theme")
    last = data.get("last_role")
    return TuiState(
        favourites=_strings(data.get("favourites"), MAX_FAVOURITES),
        recent=_strings(data.get("recent"), MAX_RECENT),
        theme=theme if isinstance(theme, str) else None,
        welcome_seen=data.get("welcome_seen") is True,
        last_role=last if isinstance(last, str) else None,
    )


def save_state(data_dir: Path, state: TuiState) -> None:
    """Write the state atomically with owner-only permissions."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(dir=data_dir, prefix=".tui-state.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state.to_json(), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, state_path(data_dir))
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
