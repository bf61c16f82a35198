"""The guided provider setup's work, without Textual: check an OIDC issuer's discovery live or
read a SAML IdP's metadata, show our SP metadata, sign in once with the draft provider, preview
what the identity mapping would give the person, and write both tables with backups.

Nothing is written until ``write_setup``: the test sign-in and the preview run against an
in-memory configuration (and, for the preview, a scratch copy of the directory). The write
keeps a backup of each file it changes, then runs the same validation as ``broker config
validate``; if that finds an error the backups are put back, so a failed setup leaves the
configuration as it was.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from broker.errors import ConfigError

if TYPE_CHECKING:
    from providers.base import Claims, SignInResult, SignInUI

__all__ = [
    "BACKUP_SUFFIX",
    "Draft",
    "IdentityMapping",
    "OidcDiscovery",
    "SamlIdp",
    "discover_oidc",
    "preview_assignments",
    "read_saml_metadata",
    "sign_in_once",
    "sp_metadata_for",
    "write_setup",
]

BACKUP_SUFFIX = ".broker-backup"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_SAML_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


@dataclass(frozen=True)
class OidcDiscovery:
    """What the issuer's discovery document says, checked."""

    issuer: str
    authorization_endpoint: str
    device_endpoint: str | None
    scopes_supported: tuple[str, ...] = ()


@dataclass(frozen=True)
class SamlIdp:
    """The IdP a metadata document describes."""

    entity_id: str
    sso_url: str
    certificates: int
    xml: bytes = field(repr=False)


@dataclass(frozen=True)
class Draft:
    """A provider being set up: its name, type and ``[providers.<name>]`` table.

    ``metadata``: a SAML IdP's metadata, written to ``saml/<name>.xml`` beside broker.toml.
    """

    name: str
    kind: Literal["oidc", "saml"]
    table: Mapping[str, Any]
    metadata: bytes | None = None


@dataclass(frozen=True)
class IdentityMapping:
    """``[identity.<name>]``: which claim names the user and how IdP groups map."""

    user_claim: str = "email"
    match_on: Literal["email", "name"] = "email"
    groups_claim: str = "groups"
    group_map: Mapping[str, str] = field(default_factory=dict)
    unknown_users: Literal["refuse", "jit"] = "refuse"


def check_name(name: str, config_dir: Path) -> str:
    """``name`` if it is a usable new provider name.

    Raises:
        ConfigError: not lowercase letters, digits and dashes, or already configured.
    """
    from broker.config import load_config
    from broker.config.providers import provider_tables

    if not _NAME.match(name):
        raise ConfigError(
            f"provider name {name!r}: use lowercase letters, digits and dashes (at most 40), "
            "starting with a letter"
        )
    if name in provider_tables(load_config(config_dir)):
        raise ConfigError(f"provider {name!r} is already configured; pick another name")
    return name


def discover_oidc(issuer: str, timeout: float = 10.0) -> OidcDiscovery:
    """Fetch and check ``issuer``'s discovery document now (the same checks sign-in makes).

    Raises:
        ProviderUnavailableError: the issuer cannot be reached. ProviderError: the document
        fails a check (wrong issuer, plain http off loopback, missing endpoints).
    """
    from broker.tokens.oidc.discovery import discover
    from broker.tokens.oidc.http import make_client

    with make_client(timeout) as client:
        found = discover(client, issuer.strip())
    return OidcDiscovery(
        found.issuer,
        found.authorization_endpoint,
        found.device_authorization_endpoint,
        found.scopes_supported,
    )


def read_saml_metadata(source: str, timeout: float = 10.0) -> SamlIdp:
    """The IdP described by the metadata at ``source`` (an http(s) URL or a file).

    Raises:
        ConfigError: unreachable, unreadable, unsafe or not IdP metadata, or no signing
        certificate, or no HTTP-Redirect single sign-on service.
    """
    source = source.strip()
    if source.startswith(("https://", "http://")):
        import httpx

        from broker.tokens.oidc.discovery import is_allowed_url

        if not is_allowed_url(source):  # the metadata is the trust anchor: never plain http
            raise ConfigError(
                f"{source}: fetch IdP metadata over https (plain http only on loopback), "
                "or download it and give the file"
            )

        try:
            answer = httpx.get(source, timeout=timeout, follow_redirects=False, trust_env=False)
        except httpx.HTTPError as exc:
            raise ConfigError(f"{source}: cannot fetch the IdP metadata ({exc})") from None
        if answer.status_code != 200:
            raise ConfigError(f"{source}: the IdP metadata answered HTTP {answer.status_code}")
        data = answer.content
    else:
        try:
            data = Path(source).expanduser().read_bytes()
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the IdP metadata: {exc.strerror}") from None
    from broker.errors import BrokerError
    from broker.tokens.saml.metadata import signing_certificates_from_idp_metadata
    from broker.tokens.saml.safe_xml import parse_document

    try:
        root = parse_document(data)
    except BrokerError as exc:
        raise ConfigError(f"{source}: not usable IdP metadata ({exc})") from None
    entity = root if root.tag == f"{{{_SAML_MD}}}EntityDescriptor" else None
    if entity is None:
        entity = next(root.iter(f"{{{_SAML_MD}}}EntityDescriptor"), None)
    idp = None if entity is None else entity.find(f"{{{_SAML_MD}}}IDPSSODescriptor")
    if entity is None or idp is None:
        raise ConfigError(f"{source}: no IdP (IDPSSODescriptor) in this metadata")
    entity_id = entity.get("entityID") or ""
    sso = [
        node.get("Location") or ""
        for node in idp.iter(f"{{{_SAML_MD}}}SingleSignOnService")
        if node.get("Binding") == _REDIRECT
    ]
    if not sso or not sso[0]:
        raise ConfigError(f"{source}: the IdP offers no HTTP-Redirect single sign-on service")
    certificates = signing_certificates_from_idp_metadata(data, source=source, entity_id=entity_id)
    return SamlIdp(entity_id, sso[0], len(certificates), data)


def sp_metadata_for(sp_entity_id: str, acs_port: int = 0) -> str:
    """Our SP metadata for the IdP's administrator (the ACS is on loopback; port 0 means the
    port is chosen per sign-in, which the AuthnRequest names)."""
    from providers.saml.acs import ACS_PATH
    from providers.saml.metadata import sp_metadata

    host = f"127.0.0.1:{acs_port}" if acs_port else "127.0.0.1"
    return sp_metadata(sp_entity_id, f"http://{host}{ACS_PATH}")


def _with_draft(config_dir: Path, draft: Draft, scratch: Path) -> Any:
    """The configuration as it would be with ``draft`` added (in memory; a SAML draft's
    metadata goes to ``scratch``, by absolute path)."""
    from broker.config import BrokerConfig, load_config

    config = load_config(config_dir)
    table = dict(draft.table)
    if draft.metadata is not None:
        path = scratch / f"{draft.name}.xml"
        path.write_bytes(draft.metadata)
        table["idp_certificate"] = str(path)
    sections = dict(config.sections)
    sections["providers"] = {**sections.get("providers", {}), draft.name: table}
    return BrokerConfig(directory=config.directory, file=config.file, sections=sections)


def sign_in_once(config_dir: Path, data_dir: Path, draft: Draft, ui: SignInUI) -> SignInResult:
    """Sign in through the draft provider (nothing is kept: no session, no config written).

    Raises:
        ConfigError: the draft's table is rejected. ProviderError: the sign-in failed.
    """
    from broker.signin import build_provider
    from broker.store import CredentialStore
    from providers.base import SignInOptions

    with tempfile.TemporaryDirectory(prefix="broker-setup-") as scratch:
        config = _with_draft(config_dir, draft, Path(scratch))
        provider = build_provider(config, draft.name, CredentialStore(data_dir))
        try:
            return provider.sign_in(SignInOptions(ui=ui))
        finally:
            close = getattr(provider, "close", None)
            if callable(close):
                close()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        import json

        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def render_table(header: str, table: Mapping[str, Any]) -> str:
    """``[header]`` and its keys, TOML (values: strings, integers, booleans, string lists)."""
    lines = [f"[{header}]"]
    lines += [f"{_key(k)} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _identity_text(name: str, mapping: IdentityMapping) -> str:
    table = {
        "user_claim": mapping.user_claim,
        "match_on": mapping.match_on,
        "groups_claim": mapping.groups_claim,
        "unknown_users": mapping.unknown_users,
    }
    text = render_table(f"identity.{name}", table)
    if mapping.group_map:
        text += "\n" + render_table(f"identity.{name}.group_map", dict(mapping.group_map))
    return text


def _written(draft: Draft) -> Mapping[str, Any]:
    table = dict(draft.table)
    if draft.metadata is not None:
        table["idp_certificate"] = f"saml/{draft.name}.xml"
    return table


def preview_assignments(
    config_dir: Path, draft: Draft, mapping: IdentityMapping, claims: Claims
) -> list[str]:
    """What the signed-in person would get with ``mapping``: ``"<permission set> @ <account>
    (via …)"`` lines, from a scratch copy of the configuration with both tables added.

    Raises:
        BrokerError: the mapping does not resolve the person (the message says why).
    """
    from broker.sts.directory_state import open_directory

    with tempfile.TemporaryDirectory(prefix="broker-preview-") as scratch:
        copy = Path(scratch) / "config"
        shutil.copytree(config_dir, copy)
        _append(copy, draft, mapping)
        data = Path(scratch) / "data"
        data.mkdir(mode=0o700)
        directory = open_directory(copy, data, None)  # a scratch state, never the real one
        try:
            person = dataclasses.replace(claims, provider=draft.name)
            held = directory.assignments_for(person)
            user = directory.resolve_user(person)
        finally:
            directory.close()
    lines = [f"directory user {user.name} · groups: {', '.join(user.groups) or 'none'}"]
    lines += sorted({f"{a.permission_set} @ {a.account_id}" for a in held}) or [
        "nothing assigned to this person or their mapped groups"
    ]
    return lines


def _append(config_dir: Path, draft: Draft, mapping: IdentityMapping) -> list[Path]:
    """Add both tables (and a SAML draft's metadata) to ``config_dir``; the files changed."""
    broker_toml = config_dir / "broker.toml"
    identity = config_dir / "directory" / "identity.toml"
    changed = [broker_toml, identity]
    for path, extra in (
        (broker_toml, render_table(f"providers.{draft.name}", _written(draft))),
        (identity, _identity_text(draft.name, mapping)),
    ):
        before = path.read_text(encoding="utf-8") if path.exists() else ""
        joiner = "\n" if before.endswith("\n") else ("\n\n" if before else "")
        _replace_text(path, before + joiner + extra)
    if draft.metadata is not None:
        saml = config_dir / "saml"
        saml.mkdir(exist_ok=True)
        (saml / f"{draft.name}.xml").write_bytes(draft.metadata)
        changed.append(saml / f"{draft.name}.xml")
    return changed


def _replace_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temp file, fsync, rename), keeping the
    file's mode."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_setup(config_dir: Path, draft: Draft, mapping: IdentityMapping) -> list[Path]:
    """Write ``[providers.<name>]`` and ``[identity.<name>]`` into the configuration; each
    changed file is first copied to ``<file>.broker-backup``. The result is validated as
    ``broker config validate`` does; on any error the files are restored. The backups made.

    Raises:
        ConfigError: the name is taken or invalid, or the written configuration has errors
        (each named; nothing is left changed).
    """
    from broker.tui.config_check import check_config

    check_name(draft.name, config_dir)
    before = {e.where for e in check_config(config_dir) if e.severity == "error"}
    targets = [config_dir / "broker.toml", config_dir / "directory" / "identity.toml"]
    backups = []
    for path in targets:
        if path.exists():
            backup = path.with_name(path.name + BACKUP_SUFFIX)
            shutil.copy2(path, backup)
            os.chmod(backup, 0o600)
            backups.append(backup)
    metadata_file = config_dir / "saml" / f"{draft.name}.xml"
    if draft.metadata is not None and metadata_file.exists():
        raise ConfigError(f"{metadata_file} exists already; remove it or pick another name")
    try:
        _append(config_dir, draft, mapping)
        errors = [
            e for e in check_config(config_dir) if e.severity == "error" and e.where not in before
        ]
    except BaseException:
        _restore(targets, backups, metadata_file if draft.metadata is not None else None)
        raise
    if errors:
        _restore(targets, backups, metadata_file if draft.metadata is not None else None)
        raise ConfigError("the setup was not written: " + "; ".join(str(e) for e in errors))
    return backups


def _restore(targets: Sequence[Path], backups: Sequence[Path], metadata: Path | None) -> None:
    """Put every target back as it was: its backup, or no file where there was none."""
    for path in targets:
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        if backup in backups:
            shutil.copy2(backup, path)
        else:
            path.unlink(missing_ok=True)
    if metadata is not None:
        metadata.unlink(missing_ok=True)
