"""The base of every modal: keeps the too-small guard working while a dialog is open (a
terminal resize reaches only the top screen)."""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.screen import ModalScreen

__all__ = ["BrokerModal"]

T = TypeVar("T")


class BrokerModal(ModalScreen[T]):
    def on_resize(self, event: events.Resize) -> None:
        check = getattr(self.app, "check_size", None)
        if check is not None:
            check(event.size.width, event.size.height)
