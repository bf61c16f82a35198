"""IAM identity provider entries in the directory snapshot: their tables and how they are filled.

An account trusts an outside IdP only through an entry like IAM's ``CreateOpenIDConnectProvider``
(issuer URL + accepted client ids) or ``CreateSAMLProvider`` (name + IdP metadata). The SAML
metadata file's text is copied into the snapshot, so the entry and its pinned certificates
change together, when the configuration's fingerprint does.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from urllib.parse import urlsplit

from broker.directory.model import DirectorySpec
from broker.directory.source import Source
from broker.errors import DirectoryError

__all__ = [
    "FEDERATION_SCHEMA",
    "fill_federation",
    "oidc_provider_arn",
    "oidc_provider_path",
    "saml_provider_arn",
]

FEDERATION_SCHEMA = """
CREATE TABLE oidc_providers (
    arn TEXT PRIMARY KEY, account_id TEXT NOT NULL, url TEXT NOT NULL, client_ids TEXT NOT NULL,
    jwks_uri TEXT NOT NULL, algorithms TEXT NOT NULL, tags TEXT NOT NULL
);
CREATE TABLE saml_providers (
    arn TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL, entity_id TEXT NOT NULL,
    metadata TEXT NOT NULL, audience TEXT NOT NULL, acs_url TEXT NOT NULL, tags TEXT NOT NULL
);
"""


def oidc_provider_path(url: str) -> str:
    """``HOST[:PORT]/PATH`` of an issuer URL: what IAM puts in the ARN and condition keys."""
    parts = urlsplit(url)
    return (parts.netloc + parts.path).rstrip("/")


def oidc_provider_arn(account_id: str, url: str) -> str:
    return f"arn:aws:iam::{account_id}:oidc-provider/{oidc_provider_path(url)}"


def saml_provider_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:saml-provider/{name}"


def _j(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def fill_federation(
    conn: sqlite3.Connection, spec: DirectorySpec, source: Source, ids: Mapping[str, str]
) -> None:
    """Insert every provider entry of ``spec`` (account names resolved to ids through ``ids``)."""
    conn.executemany(
        "INSERT INTO oidc_providers VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                oidc_provider_arn(ids.get(p.account, p.account), p.url),
                ids.get(p.account, p.account),
                p.url,
                _j(list(p.client_ids)),
                p.jwks_uri,
                _j(list(p.algorithms)),
                _j(dict(p.tags)),
            )
            for p in spec.oidc_providers
        ],
    )
    rows = []
    for p in spec.saml_providers:
        path = source.saml_metadata / f"{p.metadata}.xml"
        try:
            metadata = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise DirectoryError(
                f"SAML metadata {p.metadata!r} is unreadable; run `broker directory validate`"
            ) from None
        account = ids.get(p.account, p.account)
        rows.append(
            (
                saml_provider_arn(account, p.name),
                account,
                p.name,
                p.entity_id,
                metadata,
                p.audience,
                p.acs_url,
                _j(dict(p.tags)),
            )
        )
    conn.executemany("INSERT INTO saml_providers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
