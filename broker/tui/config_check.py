"""The configuration's errors for the start-up check, each with its file, line and column (no
Textual here).

``broker config validate`` names a problem by file and dotted key; a person fixing it needs the
place in the file, so each key is found in the file's text (its table header, then the key
inside that table). A file that is not TOML at all has one error, where the parser stopped.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ConfigIssue", "check_config", "editor_command", "locate_key"]

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


@dataclass(frozen=True)
class ConfigIssue:
    """One problem, where it is, and what to do."""

    file: str
    line: int  # 1-based; 0 when the key cannot be placed (it is missing from the file)
    column: int
    severity: str
    key: str
    message: str

    @property
    def where(self) -> str:
        """``file:line:column``, as editors and compilers write it."""
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file

    def __str__(self) -> str:
        key = f" {self.key}:" if self.key else ""
        return f"{self.where}:{key} {self.severity}: {self.message}"


def _unquote(part: str) -> str:
    return part.strip().strip("\"'")


def locate_key(text: str, key: str) -> tuple[int, int]:
    """``(line, column)`` (1-based) of the dotted ``key`` in TOML ``text``.

    The deepest table header that prefixes the key is found, then the rest of the key as an
    assignment inside that table; when the key itself is absent (a required key is missing),
    its table's header is the place to add it. ``(0, 0)`` when nothing of it is in the file.
    """
    parts = [_unquote(p) for p in key.split(".") if p]
    lines = text.splitlines()
    best: tuple[int, int, int] | None = None  # (depth, header line index, column)
    tables: list[tuple[int, list[str]]] = [(-1, [])]
    for index, line in enumerate(lines):
        found = _HEADER.match(line)
        if found:
            name = [_unquote(p) for p in found.group(1).split(".")]
            tables.append((index, name))
            if parts[: len(name)] == name and (best is None or len(name) > best[0]):
                best = (len(name), index, line.index("[") + 1)
    depth, header, column = best if best is not None else (0, -1, 1)
    rest = parts[depth:]
    if rest:
        end = next((i for i, _name in tables if i > header), len(lines))
        wanted = re.compile(
            r"^(\s*)" + r"\s*\.\s*".join(f"[\"']?{re.escape(p)}[\"']?" for p in rest) + r"\s*="
        )
        for index in range(header + 1, end):
            match = wanted.match(lines[index])
            if match:
                return index + 1, len(match.group(1)) + 1
    if header < 0:
        return 0, 0
    return header + 1, column


def _decode_issue(file: Path) -> ConfigIssue | None:
    """The TOML syntax error of ``file``, placed, or None when it parses."""
    try:
        tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        at = _AT.search(str(exc))
        line, column = (int(at.group(1)), int(at.group(2))) if at else (0, 0)
        message = _AT.sub("", str(exc)).strip()
        return ConfigIssue(
            str(file), line, column, "error", "", f"not valid TOML: {message}; fix the file"
        )
    except (OSError, UnicodeDecodeError) as exc:
        return ConfigIssue(str(file), 0, 0, "error", "", f"cannot read: {exc}")
    return None


def check_config(config_dir: Path) -> list[ConfigIssue]:
    """Every problem ``broker config validate`` reports for ``config_dir``, placed in its file.

    Validation reads the configuration ``BROKER_CONFIG`` names (the shipped one without it),
    which is the directory the app was started on; anything else is refused rather than the
    process environment changed under other threads.

    Raises:
        ConfigError: ``config_dir`` is not the configured directory.
    """
    broken = _decode_issue(config_dir / "broker.toml")
    if broken is not None:
        return [broken]
    from broker.commands.config import ValidateInput, run_validate
    from broker.config import config_dir as configured_dir
    from broker.errors import ConfigError

    if configured_dir().resolve() != config_dir.resolve():
        raise ConfigError(
            f"{config_dir} is not the configuration BROKER_CONFIG names; check that one instead"
        )
    try:
        problems = run_validate(ValidateInput())
    except ConfigError as exc:
        return [ConfigIssue(str(config_dir / "broker.toml"), 0, 0, "error", "", str(exc))]
    texts: dict[str, str] = {}
    issues = []
    for problem in problems:
        path = Path(problem.file)
        if problem.file not in texts:
            try:
                texts[problem.file] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                texts[problem.file] = ""
        line, column = locate_key(texts[problem.file], problem.key) if problem.key else (0, 0)
        issues.append(
            ConfigIssue(problem.file, line, column, problem.severity, problem.key, problem.message)
        )
    return issues


def editor_command(environ: Mapping[str, str], issue: ConfigIssue) -> Sequence[str]:
    """The command that opens ``issue``'s file at its line in the person's editor.

    ``$VISUAL``, else ``$EDITOR``, else ``vi``. Editors that take a column get it (``nano
    +L,C``, ``code --goto F:L:C``, ``subl F:L:C``); the vi and emacs families take ``+L``.
    """
    import shlex

    editor = shlex.split(environ.get("VISUAL") or environ.get("EDITOR") or "vi")
    name = Path(editor[0]).name
    if not issue.line:
        return [*editor, issue.file]
    if name in ("code", "codium"):
        return [*editor, "--goto", issue.where]
    if name in ("subl", "zed"):
        return [*editor, issue.where]
    if name == "nano":
        return [*editor, f"+{issue.line},{issue.column}", issue.file]
    return [*editor, f"+{issue.line}", issue.file]
