"""Only real secure keyrings: plaintext, null and failing backends are refused with a fix."""

from __future__ import annotations

import contextlib

import pytest

from broker.errors import KeyringUnavailableError
from broker.keyring_gate.gate import ALLOWED_BACKENDS
from broker.store.keyring_store import KeyringStore


@pytest.fixture(autouse=True)
def _fresh_keyring_choice():
    import keyring.backend
    import keyring.core

    def forget() -> None:
        with contextlib.suppress(KeyError):
            keyring.backend.get_all_keyring.reset()
        keyring.core._keyring_backend = None

    forget()  # detect afresh, in this test's environment
    yield
    forget()


@pytest.mark.parametrize(
    "backend", ["keyring.backends.null.Keyring", "keyring.backends.fail.Keyring"]
)
def test_null_and_fail_backends_are_refused(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    store = KeyringStore()
    with pytest.raises(KeyringUnavailableError) as caught:
        store.set("profile:dev", "secret-value")
    message = str(caught.value)
    assert backend in message and "never used" in message
    assert "secret-value" not in message and "\n" not in message


def test_a_plaintext_backend_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A stand-in for keyrings.alt's PlaintextKeyring: a real backend that writes a file."""
    import sys
    import types

    from keyring.backend import KeyringBackend

    class PlaintextKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            (tmp_path / "plain").write_text(password)

        def delete_password(self, service, username):
            return None

    module = types.ModuleType("plaintext_for_test")
    PlaintextKeyring.__module__ = module.__name__
    PlaintextKeyring.__qualname__ = "PlaintextKeyring"
    module.PlaintextKeyring = PlaintextKeyring  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "plaintext_for_test.PlaintextKeyring")
    with pytest.raises(KeyringUnavailableError, match=r"plaintext_for_test\.PlaintextKeyring"):
        KeyringStore().set("profile:dev", "secret-value")
    assert not (tmp_path / "plain").exists()


def test_no_dbus_message_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(KeyringUnavailableError, match=r"no D-Bus session bus.*dbus-run-session"):
        KeyringStore().get("profile:dev")


def test_allow_list_names_only_os_keyrings() -> None:
    assert all(name.startswith("keyring.backends.") for name in ALLOWED_BACKENDS)
    assert not any("null" in n or "fail" in n or "chainer" in n for n in ALLOWED_BACKENDS)


def test_a_chainer_without_a_secure_member_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # no Secret Service to chain
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.chainer.ChainerBackend")
    with pytest.raises(KeyringUnavailableError, match="no secure OS keyring"):
        KeyringStore().set("profile:dev", "secret-value")


@pytest.mark.keyring
def test_a_chainer_is_unwrapped_to_its_secure_member(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.fail("needs the Secret Service: run under scripts/with-keyring")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.chainer.ChainerBackend")
    backend = KeyringStore().backend
    assert type(backend).__module__ == "keyring.backends.SecretService"


class _FakeConnection:
    def close(self) -> None:
        pass


class _Backend:
    """A Secret Service client as the store sees it, answering every read."""

    def get_password(self, service: str, key: str) -> str:
        return "value"


def patch_secret_service(
    monkeypatch: pytest.MonkeyPatch, collection: object, backend: object
) -> None:
    """The gate's Secret Service collection look-ups go to ``collection``, ``backend`` counts
    as a Secret Service client, and retries do not pause."""
    import secretstorage

    from broker.keyring_gate import gate

    monkeypatch.setattr(secretstorage, "dbus_init", lambda: _FakeConnection())
    monkeypatch.setattr(secretstorage, "Collection", collection)
    monkeypatch.setattr(gate, "_pause", lambda attempt: None)
    monkeypatch.setattr(gate, "_SECRET_SERVICE_CLIENTS", {gate.qualname(backend)})


def _store_over(monkeypatch: pytest.MonkeyPatch, collection: object):
    """A store whose Secret Service collection look-ups go to ``collection`` (no pauses)."""
    from broker.store import keyring_store

    patch_secret_service(monkeypatch, collection, _Backend())
    store = keyring_store.KeyringStore()
    store.gate._backend = _Backend()
    return store


def collection_failing_with(errors: list[Exception], *, locked: bool = False):
    """A stand-in for secretstorage.Collection whose look-ups raise ``errors`` in turn, then
    answer ``locked``."""

    class _Collection:
        def __init__(self, connection: object) -> None:
            if errors:
                raise errors.pop(0)

        def is_locked(self) -> bool:
            return locked

    return _Collection


def test_a_secret_service_that_does_not_answer_is_retried_not_called_collectionless(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NoReply from a busy daemon is transient; it once failed a run as "no default collection"."""
    from secretstorage.exceptions import SecretServiceNotAvailableException

    errors: list[Exception] = [SecretServiceNotAvailableException("no reply")] * 2
    store = _store_over(monkeypatch, collection_failing_with(errors))
    assert store._call("get_password", "k") == "value"
    assert errors == []


def test_a_default_collection_missing_on_every_attempt_is_reported_as_such(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from secretstorage.exceptions import ItemNotFoundException

    from broker.errors import KeyringUnavailableError
    from broker.keyring_gate import gate

    calls: list[int] = []

    def _no_collection(connection: object) -> None:
        calls.append(1)
        raise ItemNotFoundException("Item does not exist!")

    store = _store_over(monkeypatch, _no_collection)
    missing = r"^the Secret Service has no default keyring"
    with pytest.raises(KeyringUnavailableError, match=missing):
        store._call("get_password", "k")
    assert len(calls) == gate._ATTEMPTS


def test_a_collection_gone_for_a_moment_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """gnome-keyring drops the collection's object while it reloads its file under load."""
    from secretstorage.exceptions import ItemNotFoundException

    errors: list[Exception] = [ItemNotFoundException("Item does not exist!")]
    store = _store_over(monkeypatch, collection_failing_with(errors))
    assert store._call("get_password", "k") == "value"
    assert errors == []
