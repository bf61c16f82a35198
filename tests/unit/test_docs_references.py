"""The repository explains itself: every document the code, tests and docs cite is in it.

Team notes kept outside the repository (a style or security note beside it) cannot be
followed by a reader of the repository alone, so a citation must name a file under ``docs/`` (or
the README) that exists. ``docs/style.md`` and ``docs/tui.md`` cite files of other public
projects by ``repo:path``; those are not ours to check.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"(?<![\w/.-])((?:docs/)?[A-Za-z0-9_-]+\.md)\b")
OTHER_PROJECTS = {"docs/style.md", "docs/tui.md"}


def _tracked_texts() -> list[Path]:
    listed = subprocess.run(
        [
            "git",
            "ls-files",
            "broker",
            "providers",
            "tests",
            "docs",
            "bench",
            "scripts",
            "config",
            "README.md",
            "pyproject.toml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        ROOT / name
        for name in listed
        if name.endswith((".py", ".md", ".toml", ".tcss"))
        and name not in OTHER_PROJECTS
        and "/node_modules/" not in name
        and (ROOT / name).is_file()
    ]


def _resolves(cited: str, source: Path) -> bool:
    return any(
        candidate.is_file()
        for candidate in (ROOT / cited, source.parent / cited, ROOT / "docs" / cited)
    )


def test_every_cited_document_is_in_the_repository() -> None:
    missing = [
        f"{path.relative_to(ROOT)}: {cited}"
        for path in _tracked_texts()
        for cited in CITATION.findall(path.read_text(encoding="utf-8"))
        if not _resolves(cited, path)
    ]
    assert missing == []


def test_the_team_documents_live_in_docs() -> None:
    for name in ("design.md", "security.md", "style.md", "tui.md", "architecture.md"):
        assert (ROOT / "docs" / name).is_file(), name
