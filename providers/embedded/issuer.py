"""Running the embedded IdP: in-process, its browser pages on 127.0.0.1 only, in a thread.

Any other bind address is refused: this issuer signs anyone in as any demo user without a
password, which is only acceptable when nobody but this machine's user can reach it.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import httpx

from broker.errors import ConfigError
from providers.base import ProviderContext
from providers.embedded.app import EmbeddedApp, StartResponse
from providers.embedded.authorization_server import EmbeddedAuthorizationServer
from providers.embedded.public_jwks import publish_public_key
from providers.embedded.refresh_store import RefreshStore
from providers.embedded.signing_key import load_or_create_key
from providers.embedded.users import load_users

__all__ = ["EmbeddedIssuer", "check_bind_address"]


def check_bind_address(host: str) -> None:
    """Refuse anything but the IPv4 loopback address.

    Raises:
        ConfigError: ``host`` is not ``127.0.0.1`` (``0.0.0.0``, a LAN address, a host name).
    """
    try:
        loopback = ipaddress.ip_address(host) == ipaddress.ip_address("127.0.0.1")
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"the embedded development IdP may only listen on 127.0.0.1, not {host!r}; "
            "it signs anyone in without a password"
        )


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet: request lines carry codes and tokens."""


class EmbeddedIssuer:
    """The embedded IdP for one process: keys from the keyring, refresh hashes on disk."""

    def __init__(
        self,
        context: ProviderContext,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_bind_address(host)
        users = load_users(context.config_dir)
        key = load_or_create_key(context.secrets)
        publish_public_key(context.data_dir, key)
        refresh = RefreshStore(context.data_dir / "embedded-idp", clock)
        # Bound now (the port is part of the endpoint URLs), listening only once ``start``
        # runs: a process that only refreshes never accepts a connection.
        self._httpd = _ThreadingServer((host, port), _QuietHandler, bind_and_activate=False)
        try:
            self._httpd.server_bind()
        except OSError as exc:
            self._httpd.server_close()
            raise ConfigError(
                f"the embedded IdP cannot listen on {host}:{port} ({exc.strerror}); "
                "pick another port or leave it at 0"
            ) from None
        self._httpd.set_app(self._dispatch)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.server = EmbeddedAuthorizationServer(key, users, refresh, self.base_url)
        self.app = EmbeddedApp(self.server, clock)
        self._thread: threading.Thread | None = None

    def _dispatch(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return self.app(environ, start_response)

    def start(self) -> None:
        """Listen and serve the browser pages in a daemon thread (idempotent)."""
        if self._thread is None:
            self._httpd.server_activate()
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.2},
                name="embedded-idp",
                daemon=True,
            )
            self._thread.start()

    def transport(self) -> httpx.BaseTransport:
        """How the broker's OIDC client reaches the issuer without the network."""
        return httpx.WSGITransport(app=self.app)

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=2)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> EmbeddedIssuer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
