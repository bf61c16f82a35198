"""The directory's keyring seam refuses any backend that is not a real OS keyring."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail, null

from broker.directory.keyring_store import KeyringSecrets
from broker.errors import KeyringUnavailableError


@pytest.fixture
def backend():
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


@pytest.mark.parametrize("refused", [fail.Keyring, null.Keyring])
def test_non_os_keyrings_are_refused(backend, refused) -> None:
    backend(refused())
    secrets = KeyringSecrets()
    with pytest.raises(KeyringUnavailableError, match="no OS keyring is available"):
        secrets.set_secret("mfa/alice/totp", "JBSWY3DPEHPK3PXP")
    with pytest.raises(KeyringUnavailableError):
        secrets.get_secret("mfa/alice/totp")
