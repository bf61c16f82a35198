"""Read what a running app shows, as plain text lines (for assertions on the visible screen)."""

from __future__ import annotations

from textual.app import App


def screen_lines(app: App[object]) -> list[str]:
    """Every visible line of the current screen, trailing spaces removed."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip).rstrip() for strip in strips]


def screen_text(app: App[object]) -> str:
    return "\n".join(screen_lines(app))


def flat_text(app: App[object]) -> str:
    """The screen's words as one line: borders dropped, wrapped lines joined by one space."""
    words: list[str] = []
    for line in screen_lines(app):
        words.extend(line.strip(" │█▌▐▊▎▕▏╭╮╰╯─").split())
    return " ".join(words)
