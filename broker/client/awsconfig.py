"""``broker configure aws``: one AWS CLI profile per broker profile, in a managed block.

The block sits between two marker lines in ``~/.aws/config``; everything outside it is kept
byte for byte. Profiles already defined outside the block are never overwritten (the user's
own wins, and we say so). ``--prune`` drops block profiles no longer configured; without it
they are kept. The previous file is copied to ``config.broker-backup`` (0600) first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from broker.client.profiles import Profile

__all__ = ["BEGIN", "END", "AwsConfigPlan", "plan_aws_config", "profile_name"]

BEGIN = "# >>> access-broker managed profiles (edits inside are replaced) >>>"
END = "# <<< access-broker managed profiles <<<"
_SECTION = re.compile(r"^\s*\[\s*(?:profile\s+)?([^\]]+?)\s*\]\s*$")
_VALID = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")


def profile_name(template: str, profile: Profile) -> str:
    """The AWS profile name for ``profile`` from ``template`` (``{profile}``, ``{provider}``,
    ``{account}``, ``{role}``, ``{region}``)."""
    try:
        name = template.format(
            profile=profile.name,
            provider=profile.provider,
            account=profile.account,
            role=profile.role,
            region=profile.region or "",
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"bad name template {template!r}: {exc}") from None
    if not _VALID.match(name):
        raise ValueError(f"name template {template!r} gives an invalid profile name {name!r}")
    return name


@dataclass(frozen=True)
class AwsConfigPlan:
    """The new file text and what changes."""

    text: str
    written: tuple[str, ...]
    kept: tuple[str, ...]
    pruned: tuple[str, ...]
    skipped: tuple[str, ...]


def _split(text: str) -> tuple[str, str, str]:
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == END]
    if not starts and not ends:
        return text, "", ""
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError("the managed block markers are damaged; fix them by hand and retry")
    return (
        "".join(lines[: starts[0]]),
        "".join(lines[starts[0] + 1 : ends[0]]),
        "".join(lines[ends[0] + 1 :]),
    )


def _sections(text: str) -> dict[str, str]:
    """Profile name -> its whole section text, for sections in ``text``."""
    out: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines(keepends=True):
        match = _SECTION.match(line)
        if match:
            current = match.group(1)
            out[current] = ""
        if current is not None:
            out[current] += line
    return out


def _render(name: str, profile: Profile, command: str) -> str:
    header = "[default]" if name == "default" else f"[profile {name}]"
    lines = [header, f"credential_process = {command} credential-process --profile {profile.name}"]
    if profile.region:
        lines.append(f"region = {profile.region}")
    return "\n".join(lines) + "\n"


def plan_aws_config(
    existing: str,
    profiles: Iterable[Profile],
    *,
    template: str = "{profile}",
    prune: bool = False,
    command: str = "broker",
) -> AwsConfigPlan:
    """Compute the new ``~/.aws/config`` text; pure, so it is tested without files."""
    before, block, after = _split(existing)
    outside = set(_sections(before)) | set(_sections(after))
    old_block: Mapping[str, str] = _sections(block)
    rendered: dict[str, str] = {}
    skipped: list[str] = []
    for profile in profiles:
        name = profile_name(template, profile)
        if name in outside:
            skipped.append(name)
            continue
        rendered[name] = _render(name, profile, command)
    kept = {} if prune else {k: v for k, v in old_block.items() if k not in rendered}
    pruned = sorted(set(old_block) - set(rendered)) if prune else []
    body = "\n".join(
        section.rstrip("\n") + "\n" for section in [*rendered.values(), *kept.values()]
    )
    if before and not before.endswith("\n"):
        before += "\n"
    text = f"{before}{BEGIN}\n{body}{END}\n{after}"
    return AwsConfigPlan(
        text=text,
        written=tuple(sorted(rendered)),
        kept=tuple(sorted(kept)),
        pruned=tuple(pruned),
        skipped=tuple(sorted(skipped)),
    )
