"""Sign in through the embedded IdP (real OIDC code flow on loopback), then ask the directory.

The claims the IdP really issues (email, groups, amr) must resolve to the directory's users
and their assignments: the seam between providers and the directory, end to end.
"""

from __future__ import annotations

import dataclasses

import pytest

from broker.sts.directory_state import open_directory
from providers.base import SignInOptions
from providers.embedded.provider import EmbeddedProvider
from tests.conftest import CONFIG
from tests.unit.embedded.conftest import LoginPagePerson
from tests.unit.oidc.fakes import MemorySecrets, make_context

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    data = tmp_path_factory.mktemp("idp")
    context = dataclasses.replace(make_context(data, MemorySecrets()), config_dir=CONFIG)
    provider = EmbeddedProvider.from_config("demo", {"type": "embedded"}, context)
    yield provider
    provider.close()


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    home.chmod(0o700)
    loaded = open_directory(CONFIG, home, None)
    yield loaded
    loaded.close()


def sign_in(idp, username):
    result = idp.sign_in(SignInOptions(ui=LoginPagePerson(username), timeout=30))
    return result.claims


def test_mallory_signs_in_and_sees_only_the_contractor_role(idp, directory) -> None:
    claims = sign_in(idp, "mallory")
    assert claims.groups == ("contractors",) and not claims.mfa
    (only,) = directory.assignments_for(claims)
    assert (only.account_name, only.permission_set) == ("contractor-sandbox", "ContractorDeveloper")


def test_alice_signs_in_with_mfa_and_administers_every_account(idp, directory) -> None:
    claims = sign_in(idp, "alice")
    assert claims.mfa
    admin = {
        a.account_id
        for a in directory.assignments_for(claims)
        if a.permission_set == "AdministratorAccess"
    }
    assert admin == {a.id for a in directory.accounts()}


def test_oscar_signs_in_and_sees_nothing(idp, directory) -> None:
    claims = sign_in(idp, "oscar")
    assert directory.resolve_user(claims).name == "oscar"
    assert directory.assignments_for(claims) == []
