"""The portal of an OIDC sign-in at an ``aws_federation`` provider: an ID token names no roles,
so the portal lists that provider's ``aws-web-identity`` profiles — and nothing for any other
sign-in, which the directory (or the assertion, or Identity Center) serves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from broker.errors import ConfigError
from broker.sts.state_handle import StateHandle
from broker.tui.directory_data import web_identity_roles
from providers.base import Claims, SignInResult

if TYPE_CHECKING:
    from broker.sts.state import StsState

CONFIG = """\
[broker]
default_provider = "web"

[providers.web]
type = "oidc"
issuer = "https://idp.example.com"
client_id = "broker"
aws_federation = true

[providers.other]
type = "oidc"
issuer = "https://other.example.com"
client_id = "broker"

[profiles.deploy]
minter = "aws-web-identity"
role_arn = "arn:aws:iam::111122223333:role/Deployer"

[profiles.audit]
provider = "web"
minter = "aws-web-identity"
role_arn = "arn:aws:iam::444455556666:role/Audit"

[profiles.elsewhere]
provider = "other"
minter = "aws-web-identity"
role_arn = "arn:aws:iam::777788889999:role/Other"
"""


def _unopened(data: Path) -> StateHandle:
    """A state handle that fails if opened: with no directory, nothing needs the state."""

    def refuse(_url: str | None, _data: Path) -> StsState:
        raise AssertionError("the state was opened without a directory to read")

    return StateHandle(data, None, refuse)


def _signed_in(provider: str, **extra: object) -> SignInResult:
    claims = Claims(provider=provider, issuer="https://idp.example.com", subject="alice")
    return SignInResult(claims=claims, expires_at=datetime.now(UTC) + timedelta(hours=1), **extra)  # type: ignore[arg-type]


def test_the_providers_web_identity_profiles_are_its_portal(tmp_path: Path) -> None:
    (tmp_path / "broker.toml").write_text(CONFIG)
    roles = web_identity_roles(
        tmp_path, _unopened(tmp_path / "data"), _signed_in("web", id_token="t")
    )
    listed = sorted((r.profile, r.account_id, r.role_name, r.account_name) for r in roles)
    assert listed == [
        ("audit", "444455556666", "Audit", "444455556666"),  # no directory: named by id
        ("deploy", "111122223333", "Deployer", "111122223333"),  # the default provider's
    ]
    assert {r.role_arn for r in roles} == {
        "arn:aws:iam::111122223333:role/Deployer",
        "arn:aws:iam::444455556666:role/Audit",
    }


def test_other_sign_ins_are_left_to_their_own_source(tmp_path: Path) -> None:
    (tmp_path / "broker.toml").write_text(CONFIG)
    data = tmp_path / "data"
    assert web_identity_roles(tmp_path, _unopened(data), _signed_in("other", id_token="t")) == []
    assert (
        web_identity_roles(tmp_path, _unopened(data), _signed_in("web", saml_response="PD94")) == []
    )


def test_without_profiles_or_a_directory_the_line_says_what_to_add(tmp_path: Path) -> None:
    (tmp_path / "broker.toml").write_text(CONFIG.split("[profiles.deploy]")[0])
    with pytest.raises(ConfigError) as refused:
        web_identity_roles(tmp_path, _unopened(tmp_path / "data"), _signed_in("web", id_token="t"))
    line = str(refused.value)
    assert line.startswith("no role to list for web: add a [profiles.NAME] with minter = ")
    assert "\n" not in line
