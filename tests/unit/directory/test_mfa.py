"""TOTP MFA devices: enrol, verify, refuse replays, keep the seed out of SQLite."""

from __future__ import annotations

import base64

import pyotp
import pytest

from broker.directory.mfa import disable_mfa, enable_mfa, qr_text, secret_key, verify_code
from broker.errors import DirectoryError
from tests.unit.oidc.fakes import MemorySecrets


class KeyringDouble(MemorySecrets):
    """Stands in for the OS keyring at its boundary (the real one is tested in integration)."""

    @property
    def items(self) -> dict[str, str]:
        return self.values

    def delete_secret(self, key: str) -> None:
        self.values.pop(key, None)


NOW = 1_800_000_000.0


def test_enrolment_puts_the_seed_in_the_keyring_only(open_directory, data_dir) -> None:
    directory, keyring = open_directory(), KeyringDouble()
    enrolled = enable_mfa(directory, keyring, "alice")
    assert keyring.items == {secret_key("alice", "totp"): enrolled.secret}
    assert len(base64.b32decode(enrolled.secret)) == 20  # 160-bit seed
    assert enrolled.uri.startswith("otpauth://totp/")
    assert "alice%40example.com" in enrolled.uri and f"secret={enrolled.secret}" in enrolled.uri
    assert enrolled.secret not in repr(enrolled)
    for stored in data_dir.glob("broker.db*"):  # the state database, its WAL included
        assert enrolled.secret.encode() not in stored.read_bytes()
    assert directory.mfa_devices("alice") == ["totp"]


def test_valid_code_is_accepted_once(open_directory) -> None:
    directory, keyring = open_directory(), KeyringDouble()
    enrolled = enable_mfa(directory, keyring, "bob")
    code = pyotp.TOTP(enrolled.secret).at(NOW)
    assert verify_code(directory, keyring, "bob", code, now=NOW)
    assert not verify_code(directory, keyring, "bob", code, now=NOW)  # replay
    later = pyotp.TOTP(enrolled.secret).at(NOW + 30)
    assert verify_code(directory, keyring, "bob", later, now=NOW + 30)
    assert not verify_code(directory, keyring, "bob", code, now=NOW + 30)  # older step


def test_wrong_and_stale_codes_are_refused(open_directory) -> None:
    directory, keyring = open_directory(), KeyringDouble()
    enrolled = enable_mfa(directory, keyring, "carol")
    totp = pyotp.TOTP(enrolled.secret)
    wrong = f"{(int(totp.at(NOW)) + 1) % 1_000_000:06d}"
    assert not verify_code(directory, keyring, "carol", wrong, now=NOW)
    assert not verify_code(directory, keyring, "carol", totp.at(NOW - 90), now=NOW)
    assert verify_code(directory, keyring, "carol", totp.at(NOW - 30), now=NOW)  # one step skew


def test_re_enrolment_needs_replace_and_changes_the_seed(open_directory) -> None:
    directory, keyring = open_directory(), KeyringDouble()
    first = enable_mfa(directory, keyring, "erin")
    with pytest.raises(DirectoryError, match="--replace"):
        enable_mfa(directory, keyring, "erin")
    second = enable_mfa(directory, keyring, "erin", replace=True)
    assert second.secret != first.secret
    assert not verify_code(directory, keyring, "erin", pyotp.TOTP(first.secret).at(NOW), now=NOW)


def test_disable_removes_device_and_seed(open_directory) -> None:
    directory, keyring = open_directory(), KeyringDouble()
    enable_mfa(directory, keyring, "judy")
    disable_mfa(directory, keyring, "judy")
    assert keyring.items == {} and directory.mfa_devices("judy") == []
    with pytest.raises(DirectoryError, match="mfa enable judy"):
        verify_code(directory, keyring, "judy", "123456", now=NOW)


def test_unknown_user_cannot_enrol(open_directory) -> None:
    keyring = KeyringDouble()
    with pytest.raises(DirectoryError, match="no user 'zed'"):
        enable_mfa(open_directory(), keyring, "zed")
    assert keyring.items == {}


def test_qr_code_is_drawn_for_the_terminal() -> None:
    text = qr_text("otpauth://totp/Access%20Broker:alice%40example.com?secret=JBSWY3DPEHPK3PXP")
    lines = text.splitlines()
    assert len(lines) > 10 and len({len(line) for line in lines}) == 1
    assert set(text) - {"\n", " "} <= {"█", "▀", "▄"}
