"""The OS keyring, for the directory's own secrets (TOTP seeds), under service "access-broker".

This is the directory's one call site of ``keyring``. When ``broker/store/`` (issue 6's
allow-listed keyring) lands, this module should delegate to it; until then it applies the same
rule itself: only real OS keyrings are allowed, never a plaintext, null or failing backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.errors import KeyringUnavailableError

__all__ = ["ALLOWED_BACKENDS", "SERVICE", "KeyringSecrets"]

SERVICE = "access-broker"
ALLOWED_BACKENDS = frozenset(
    {
        "keyring.backends.SecretService",
        "keyring.backends.libsecret",
        "keyring.backends.kwallet",
        "keyring.backends.macOS",
        "keyring.backends.Windows",
    }
)

_FIX = "start a Secret Service (e.g. gnome-keyring) or use a desktop session, then retry"


@dataclass(frozen=True)
class KeyringSecrets:
    """Secrets in the OS keyring; refuses any backend not on ``ALLOWED_BACKENDS``."""

    service: str = SERVICE

    def _backend(self) -> object:
        import keyring

        backend = keyring.get_keyring()
        candidates = getattr(backend, "backends", [backend])  # a ChainerBackend wraps several
        allowed = [b for b in candidates if type(b).__module__ in ALLOWED_BACKENDS]
        if not allowed:
            raise KeyringUnavailableError(f"no OS keyring is available; {_FIX}")
        return allowed[0]

    def _call(self, method: str, *args: str) -> object:
        from keyring.errors import KeyringError

        backend = self._backend()
        try:
            return getattr(backend, method)(self.service, *args)
        except KeyringError as exc:
            raise KeyringUnavailableError(
                f"the OS keyring refused ({type(exc).__name__}); unlock it and retry"
            ) from None

    def get_secret(self, key: str) -> str | None:
        value = self._call("get_password", key)
        return value if isinstance(value, str) else None

    def set_secret(self, key: str, value: str) -> None:
        self._call("set_password", key, value)

    def delete_secret(self, key: str) -> None:
        from keyring.errors import KeyringError, PasswordDeleteError

        backend = self._backend()
        try:
            backend.delete_password(self.service, key)  # type: ignore[attr-defined]
        except PasswordDeleteError:
            pass  # already gone
        except KeyringError as exc:
            raise KeyringUnavailableError(
                f"the OS keyring refused ({type(exc).__name__}); unlock it and retry"
            ) from None
