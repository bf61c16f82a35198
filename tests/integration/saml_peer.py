"""Starting the pysaml2 test IdP (tests/peers/saml/idp.py) on 127.0.0.1, and a browser for it."""

from __future__ import annotations

import base64
import json
import os
import re
import selectors
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from lxml import etree

from providers.saml.metadata import sp_metadata
from tests.conftest import REPO
from tests.saml_forge import AWS_ROLE, KeyPair

IDP_SCRIPT = REPO / "tests" / "peers" / "saml" / "idp.py"
IDP_ENTITY = "https://idp.example.test/saml/metadata"
SP_ENTITY = "urn:example:access-broker"
START_TIMEOUT = 30.0
MFA = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken"
PASSWORD_CTX = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

USERS = {
    "alice": {
        "password": "alice-password",
        "name_id": "alice@example.com",
        "authn_context": MFA,
        "session_hours": 4,
        "attributes": {
            "groups": ["engineering", "admins"],
            "email": ["alice@example.com"],
            "name": ["Alice Example"],
            AWS_ROLE: [
                "arn:aws:iam::111122223333:role/Dev,arn:aws:iam::111122223333:saml-provider/Example"
            ],
            "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["alice"],
            "https://aws.amazon.com/SAML/Attributes/SessionDuration": ["3600"],
            "https://aws.amazon.com/SAML/Attributes/PrincipalTag:team": ["platform"],
            "https://aws.amazon.com/SAML/Attributes/SourceIdentity": ["alice"],
        },
    },
    "bob": {
        "password": "bob-password",
        "name_id": "bob@example.com",
        "authn_context": PASSWORD_CTX,
        "attributes": {"groups": ["staff"], "email": ["bob@example.com"]},
    },
    "dana": {  # one AWS role in moto's default account (moto files SAML sessions there)
        "password": "dana-password",
        "name_id": "dana@example.com",
        "authn_context": MFA,
        "attributes": {
            "email": ["dana@example.com"],
            AWS_ROLE: [
                "arn:aws:iam::123456789012:role/Dev,arn:aws:iam::123456789012:saml-provider/Example"
            ],
            "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["dana"],
            "https://aws.amazon.com/SAML/Attributes/SessionDuration": ["3600"],
        },
    },
    "trudy": {  # a legitimate account whose name hides another one's (comment injection)
        "password": "trudy-password",
        "name_id": "user@example.com.evil.test",
        "authn_context": PASSWORD_CTX,
        "attributes": {"groups": ["admins.evil.test"]},
    },
}


@dataclass
class RunningIdP:
    base_url: str
    keys: KeyPair
    cert_path: Path
    process: subprocess.Popen[str] = field(repr=False)

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/sso/redirect"


@contextmanager
def start_idp(
    workdir: Path,
    keys: KeyPair,
    *,
    algorithm: str = "sha256",
    sign_response: bool = False,
    sp_entity_id: str = SP_ENTITY,
    sp_acs: str = "http://127.0.0.1/saml/acs",
) -> Iterator[RunningIdP]:
    """Run the IdP until the block ends; fail (never skip) if it does not come up in time.

    ``sp_entity_id``/``sp_acs``: the one SP it knows (AWS's entity id and sign-in endpoint for
    an IdP whose AWS application posts to AWS)."""
    workdir.mkdir(parents=True, exist_ok=True)
    key_path = workdir / "idp.key"
    key_path.touch(mode=0o600)
    key_path.write_bytes(keys.key_pem)
    cert_path = workdir / "idp.pem"
    cert_path.write_bytes(keys.cert_pem)
    metadata = workdir / "sp-metadata.xml"
    metadata.write_text(sp_metadata(sp_entity_id, sp_acs))
    settings = {
        "entity_id": IDP_ENTITY,
        "key_file": str(key_path),
        "cert_file": str(cert_path),
        "sp_metadata": str(metadata),
        "sp_entity_id": sp_entity_id,
        "users": USERS,
        "algorithm": algorithm,
        "sign_response": sign_response,
    }
    config = workdir / "idp.json"
    config.write_text(json.dumps(settings))
    process = subprocess.Popen(
        [sys.executable, str(IDP_SCRIPT), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=workdir,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        port = _wait_for_port(process)
        yield RunningIdP(f"http://127.0.0.1:{port}", keys, cert_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def _wait_for_port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if selector.select(timeout=START_TIMEOUT):
        line = process.stdout.readline()
        match = re.fullmatch(r"PORT (\d+)\n", line)
        if match:
            return int(match.group(1))
    process.kill()
    _, err = process.communicate(timeout=10)
    raise RuntimeError(f"the pysaml2 test IdP did not start within {START_TIMEOUT}s: {err[-2000:]}")


class _Forms(HTMLParser):
    """The first form on a page: its action and its named inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action") or ""
        elif tag == "input" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


def parse_form(page: str) -> tuple[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(page)
    assert parser.action is not None, page[:500]
    return parser.action, parser.fields


@dataclass
class Browser:
    """Plays the person's browser against the IdP: logs in and yields the POST for the ACS."""

    idp: RunningIdP
    username: str = "alice"
    password: str | None = None

    def login(self, url: str) -> tuple[str, dict[str, str]]:
        """Follow ``url`` (the provider's redirect), sign in, return (ACS URL, form to POST)."""
        with httpx.Client(base_url=self.idp.base_url, timeout=20) as client:
            page = client.get(url)
            page.raise_for_status()
            action, fields = parse_form(page.text)
            fields["username"] = self.username
            fields["password"] = self.password or USERS[self.username]["password"]
            answer = client.post(action, data=fields)
            answer.raise_for_status()
        return parse_form(answer.text)

    def unsolicited(self, acs: str) -> tuple[str, dict[str, str]]:
        params = {
            "username": self.username,
            "password": USERS[self.username]["password"],
            "acs": acs,
        }
        page = httpx.get(f"{self.idp.base_url}/unsolicited", params=params, timeout=20)
        page.raise_for_status()
        return parse_form(page.text)


def request_id_of(url: str) -> str:
    query = parse_qs(urlsplit(url).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    return etree.fromstring(xml).get("ID") or ""
