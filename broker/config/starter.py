"""Writing a starter configuration for ``broker init``, all or nothing.

The starter is the packaged demo's directory tree (directory/, policies/, idp/) with a commented
``broker.toml`` for the chosen kind of sign-in; for an outside provider, also an
``[identity.<name>]`` mapping in ``directory/identity.toml``. Files are first written to a
temporary directory beside the target and moved in only when every one of them was written, so
a failure never leaves half a configuration; existing files are replaced only when asked.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from broker.config.loader import packaged_config_dir
from broker.errors import ConfigError

__all__ = ["StarterKind", "StarterResult", "write_starter"]

StarterKind = Literal["demo", "oidc", "saml"]

# Parts of the packaged demo copied into every starter (service/ is install documentation).
_DEMO_PARTS = ("directory", "policies", "idp")


@dataclass(frozen=True)
class StarterResult:
    """What ``write_starter`` wrote, and what the person should edit next."""

    directory: Path
    files: tuple[Path, ...]
    next_steps: tuple[str, ...]


def _template(name: str) -> str:
    return resources.files("broker.config").joinpath("starters", name).read_text("utf-8")


def _planned_files(kind: StarterKind) -> dict[Path, bytes]:
    """Relative path -> content of every file the starter holds."""
    source = packaged_config_dir()
    files: dict[Path, bytes] = {}
    for part in _DEMO_PARTS:
        for path in sorted((source / part).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(source)] = path.read_bytes()
    files[Path("broker.toml")] = _template(f"{kind}.toml").encode()
    if kind != "demo":
        identity = Path("directory/identity.toml")
        files[identity] = files[identity] + b"\n" + _template("identity-corp.toml").encode()
    return files


def _next_steps(kind: StarterKind, directory: Path) -> tuple[str, ...]:
    toml = directory / "broker.toml"
    validate = "run `broker config validate` until it reports no errors"
    if kind == "demo":
        return (
            f"the demo signs in the demo users of {directory / 'idp/demo-users.toml'}",
            "try `broker assignments --user alice`, then `broker login demo --user-hint alice`",
            f"to use your own IdP later: `broker init --provider oidc --force` or edit {toml}",
        )
    what = "issuer and client_id" if kind == "oidc" else "idp_entity_id, sso_url, sp_entity_id"
    steps = [f"edit {what} in [providers.corp] of {toml}"]
    if kind == "saml":
        steps.append(
            f"save the IdP's signing certificate (or metadata XML) as {directory / 'idp-corp.pem'}"
            "; run `broker saml metadata corp` for what to give the IdP administrator"
        )
    steps += [
        f"map the IdP's groups to directory groups in [identity.corp] of "
        f"{directory / 'directory/identity.toml'}",
        f"describe your organization, permission sets and assignments in {directory / 'directory'}",
        validate,
        "then `broker login corp`",
    ]
    return tuple(steps)


def write_starter(target: Path, kind: StarterKind, *, force: bool) -> StarterResult:
    """Write the starter configuration for ``kind`` into ``target``.

    Raises:
        ConfigError: a file would be replaced and ``force`` is false, or the target cannot be
            written (nothing is changed in either case).
    """
    files = _planned_files(kind)
    existing = sorted(str(rel) for rel in files if os.path.lexists(target / rel))
    if existing and not force:
        shown = ", ".join(existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise ConfigError(
            f"{target} already holds a configuration ({shown}); edit it, or run "
            "`broker init --force` to replace those files"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".init-", dir=target))
    except OSError as exc:
        raise ConfigError(
            f"cannot create the configuration directory {target} ({exc.strerror}); "
            "fix its permissions or set XDG_CONFIG_HOME"
        ) from None
    try:
        for rel, content in files.items():
            staged = staging / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_bytes(content)
        for rel in files:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target / rel)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the configuration in {target} ({exc.strerror}); fix its "
            "permissions and retry"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return StarterResult(
        directory=target,
        files=tuple(target / rel for rel in files),
        next_steps=_next_steps(kind, target),
    )
