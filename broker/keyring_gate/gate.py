"""The keyring gate: ``keyring`` restricted to an allow-list of real secure backends, with the
lock check and the retries every caller needs.

Why an allow-list: ``keyring`` happily picks a plaintext file backend (the keyrings-alt
package), a null backend, or a chainer that ends in one; a broker holding cloud keys must
refuse those and say what to install or start instead. Why the lock check: ``keyring``'s
Secret Service backend unlocks a locked collection by raising a GUI prompt, once per call — a
prompt storm for parallel helpers and a hang for headless ones. We look first and fail with
one line. Why one process at a time: gnome-keyring-daemon aborts (a GLib assertion in
``invoke_get_property_in_idle_cb``, after ``gkd_secret_service_get_pkcs11_session: assertion
'client' failed``) when many clients talk to it at once — seen with fifty helpers minting
together — and its abort empties the user's whole session keyring until it is restarted. The
broker's own processes therefore take turns with the Secret Service (an ``flock`` in the user's
private runtime directory), which costs a parallel burst a few milliseconds per caller.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from broker.errors import KeyringUnavailableError
from broker.private_files import PrivateFiles

__all__ = ["ALLOWED_BACKENDS", "LOCKED_MESSAGE", "SERVICE", "KeyringGate", "qualname", "what_to_do"]

SERVICE = "access-broker"

# module.qualname of every backend we trust with secrets.
ALLOWED_BACKENDS: frozenset[str] = frozenset(
    {
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
    }
)

_ATTEMPTS = 4
LOCKED_MESSAGE = (
    "the OS keyring is locked: unlock it (log in to the desktop, open Seahorse, or "
    "`gnome-keyring-daemon --unlock`) and retry"
)

# Backends that talk to a Secret Service daemon (whose collection we check for a lock first).
_SECRET_SERVICE_CLIENTS = frozenset(
    {"keyring.backends.SecretService.Keyring", "keyring.backends.libsecret.Keyring"}
)


_TURN_WAIT = 60.0  # seconds a caller waits for its turn before saying who holds it
_files = PrivateFiles(KeyringUnavailableError)


@contextlib.contextmanager
def _one_caller_at_a_time() -> Iterator[None]:
    """Hold this user's turn with the Secret Service (see the module docstring); nothing to
    hold where there is no private runtime directory to keep the lock in."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        yield
        return
    turn = Path(runtime) / "access-broker" / "secret-service"
    with _files.locked(turn, timeout=_TURN_WAIT, what="its turn with the Secret Service"):
        yield


def qualname(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def what_to_do() -> str:
    if sys.platform.startswith("linux") and not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return (
            "there is no D-Bus session bus: start one with a Secret Service, e.g. "
            "`dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock --components=secrets; "
            "exec $SHELL'`"
        )
    return (
        "install and start a Secret Service (gnome-keyring or KWallet) on Linux; macOS Keychain "
        "and Windows Credential Locker work out of the box"
    )


def _pause(attempt: int) -> None:
    """Back off before retrying: a busy session bus (dozens of helpers at once on two cores)
    can miss jeepney's 1-second authentication deadline."""
    import random
    import time

    time.sleep((0.1 * 2**attempt) * (1 + random.random()))  # noqa: S311 (jitter only)


def _select_backend() -> Any:
    """The highest-priority allowed backend ``keyring`` would use, or a clear error.

    Detection is retried when a session bus exists: ``keyring`` drops the Secret Service
    backend from its choice if one probe of the bus times out under load.
    """
    import keyring
    import keyring.backend
    import keyring.core
    from keyring.backends.chainer import ChainerBackend

    probing = os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.environ.get(
        "PYTHON_KEYRING_BACKEND"  # an explicit choice is not a probe that can time out
    )
    attempts = _ATTEMPTS if probing else 1
    for attempt in range(attempts):
        if attempt:  # ``keyring`` remembers the viable backends once per process: forget them
            with contextlib.suppress(KeyError, AttributeError):
                keyring.backend.get_all_keyring.reset()
        keyring.core.init_backend()
        chosen = keyring.get_keyring()
        candidates = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
        for backend in candidates:
            if qualname(backend) in ALLOWED_BACKENDS:
                return backend
        if attempt + 1 < attempts:
            _pause(attempt)
    found = ", ".join(qualname(b) for b in candidates) or "none"
    raise KeyringUnavailableError(
        f"no secure OS keyring is available (found: {found}; plaintext and null backends are "
        f"never used): {what_to_do()}"
    )


def _refuse_if_locked() -> None:
    """Fail at once when the Secret Service's default collection is locked (no prompt)."""
    try:
        import secretstorage
        from secretstorage.exceptions import ItemNotFoundException, SecretStorageException
    except ImportError:  # libsecret without secretstorage: nothing to look with
        return

    try:
        connection = secretstorage.dbus_init()
    except (SecretStorageException, OSError):  # TimeoutError is an OSError
        raise _Transient(f"cannot reach the Secret Service: {what_to_do()}") from None
    try:
        collection = secretstorage.Collection(connection)
        locked = collection.is_locked()
    except ItemNotFoundException:
        # gnome-keyring drops a file-backed collection's object for a moment while it reloads
        # the file under many concurrent writers: retried, and only a collection still absent
        # after every attempt is reported as missing.
        raise _NoCollection(
            "the Secret Service has no default keyring collection: create and unlock one "
            "(e.g. with Seahorse, or `gnome-keyring-daemon --unlock`)"
        ) from None
    except SecretStorageException:
        # NoReply / ServiceUnknown from a daemon too busy to answer in time (many helpers on
        # two cores) say nothing about the collection: retried like any transient failure.
        raise _Transient(
            f"cannot reach the Secret Service (it did not answer in time): {what_to_do()}"
        ) from None
    finally:
        connection.close()
    if locked:
        raise KeyringUnavailableError(LOCKED_MESSAGE)


class _Transient(Exception):
    """A failure worth retrying (the bus or daemon did not answer in time)."""


class _NoCollection(_Transient):
    """No default collection: retried, then reported in its own words."""


class KeyringGate:
    """Every keyring call of one service name goes through ``call``: the backend is chosen and
    checked on first use, a locked Secret Service is refused at once, and transient failures
    (a busy bus or daemon) are retried with backoff. Every failure is a
    ``KeyringUnavailableError`` with one line that names the fix and no secret."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self._backend: Any = None

    @property
    def backend(self) -> Any:
        if self._backend is None:
            self._backend = _select_backend()
        return self._backend

    def call(self, op: str, *args: str) -> Any:
        """``backend.<op>(service, *args)``; a delete of a missing entry answers False."""
        backend = self.backend
        from keyring.errors import KeyringLocked, PasswordDeleteError

        failure = "failed"
        missing: str | None = None
        for attempt in range(_ATTEMPTS):
            try:
                if qualname(backend) not in _SECRET_SERVICE_CLIENTS:
                    return getattr(backend, op)(self.service, *args)
                with _one_caller_at_a_time():
                    _refuse_if_locked()
                    return getattr(backend, op)(self.service, *args)
            except PasswordDeleteError:
                return False
            except KeyringLocked:
                raise KeyringUnavailableError(LOCKED_MESSAGE) from None
            except KeyringUnavailableError:
                raise  # locked: retrying will not help
            except _NoCollection as exc:
                missing = str(exc)
                failure = ""
            except _Transient as exc:
                missing, failure = None, str(exc)
            except Exception as exc:  # backends raise their own types (D-Bus, OSError, ...)
                missing = None
                failure = f"failed to {op.split('_')[0]} an entry ({type(exc).__name__})"
            if attempt + 1 < _ATTEMPTS:
                _pause(attempt)
        if missing is not None:
            raise KeyringUnavailableError(missing)
        raise KeyringUnavailableError(
            f"the OS keyring {failure} after {_ATTEMPTS} attempts; check that it is running "
            "and unlocked, then retry"
            if not failure.startswith("cannot reach")
            else failure
        )

    def keys_with_prefix(self, prefix: str) -> list[str] | None:
        """Every key of this service starting with ``prefix``, read from the keyring itself;
        None where the backend cannot list its items."""
        if qualname(self.backend) not in _SECRET_SERVICE_CLIENTS:
            return None
        try:
            import secretstorage  # noqa: F401 - only whether it can be imported
        except ImportError:
            return None
        with _one_caller_at_a_time():
            _refuse_if_locked()
            found = self._usernames()
        return sorted({name for name in found if name.startswith(prefix)})

    def _usernames(self) -> list[str]:
        """The ``username`` of every item of this service in the default collection."""
        import secretstorage
        from secretstorage.exceptions import SecretStorageException

        try:
            connection = secretstorage.dbus_init()
        except (SecretStorageException, OSError):
            raise KeyringUnavailableError(
                f"cannot reach the Secret Service: {what_to_do()}"
            ) from None
        try:
            collection = secretstorage.Collection(connection)
            return [
                item.get_attributes().get("username", "")
                for item in collection.search_items({"service": self.service})
            ]
        except SecretStorageException:
            raise KeyringUnavailableError(
                "the OS keyring failed to list its entries; check that it is running and "
                "unlocked, then retry"
            ) from None
        finally:
            connection.close()
