"""RFC 8252 §7.3 loopback interface redirection for native apps (with RFC 9700's advice).

The listener binds 127.0.0.1 only (never ``localhost``, never all interfaces) on a port the
kernel picks, accepts exactly one callback on its path, answers it with a page the person can
close, and shuts down, so a second (replayed or forged) callback finds nothing listening.
The ``Host`` header must name the listener itself (DNS-rebinding defence); other paths
(``/favicon.ico``) get 404 and do not count as the callback.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from broker.errors import AuthenticationError
from broker.tokens.oidc.http import safe_code

__all__ = ["Callback", "LoopbackRedirect"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Access Broker</title>
<style>body{{font-family:system-ui,sans-serif;margin:4em auto;max-width:32em;color:#222}}</style>
</head><body><h1>{title}</h1><p>{body}</p></body></html>
"""


@dataclass(frozen=True)
class Callback:
    """The authorization response (RFC 6749 §4.1.2). ``code`` is a secret."""

    code: str = field(repr=False)


class _Server(HTTPServer):
    expected_path: str
    expected_state: str
    expected_issuer: str
    require_iss: bool
    outcome: Callback | AuthenticationError | None
    done: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "access-broker"
    timeout = 5  # a local process that connects and stalls cannot hold the listener
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the query string carries the authorization code."""

    def _page(self, status: int, title: str, body: str) -> None:
        content = _PAGE.format(title=title, body=body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(content)

    def do_GET(self) -> None:
        server = self.server
        host = f"127.0.0.1:{server.server_address[1]}"
        url = urlsplit(self.path)
        if self.headers.get("Host") != host or url.path != server.expected_path:
            self._page(404, "Not found", "Nothing here.")
            return
        if server.done.is_set():
            self._page(410, "Already used", "This sign-in has already finished.")
            return
        server.outcome = self._judge(parse_qs(url.query))
        if isinstance(server.outcome, Callback):
            self._page(200, "Signed in", "You are signed in. You can close this tab.")
        else:
            self._page(
                400,
                "Sign-in failed",
                "The sign-in did not complete. You can close this tab and try again.",
            )
        server.done.set()

    def _judge(self, query: dict[str, list[str]]) -> Callback | AuthenticationError:
        state = query.get("state", [""])
        if len(state) != 1 or not hmac.compare_digest(
            state[0].encode(), self.server.expected_state.encode()
        ):
            return AuthenticationError(
                "the sign-in callback carried the wrong state (a forged or stale response); "
                "sign in again",
                code="state_mismatch",
            )
        issuer = query.get("iss")
        if issuer is None and self.server.require_iss:
            # RFC 9207 §2.4: the issuer says it always sends iss; its absence is a mix-up sign.
            return AuthenticationError(
                "the sign-in response did not name its issuer, which this identity provider "
                "always does; sign in again",
                code="invalid_issuer",
            )
        if issuer is not None and issuer != [self.server.expected_issuer]:
            # RFC 9207: the response names another issuer than the one we asked (mix-up).
            return AuthenticationError(
                "the sign-in response came from another issuer; sign in again",
                code="invalid_issuer",
            )
        if "error" in query:
            error = safe_code(query["error"][0])
            return AuthenticationError(
                f"the identity provider refused the sign-in ({error})", code=error
            )
        code = query.get("code", [])
        if len(code) != 1 or not code[0]:
            return AuthenticationError("the sign-in callback carried no authorization code")
        return Callback(code=code[0])


class LoopbackRedirect:
    """A one-shot redirect listener on ``http://127.0.0.1:{port}{path}``.

    Use as a context manager; ``wait`` returns the single callback's result. When the response
    carries ``iss`` (RFC 9207), it must be ``issuer``; with ``require_iss`` (the issuer's
    metadata says ``authorization_response_iss_parameter_supported``) it must carry it.
    """

    def __init__(
        self, state: str, issuer: str, path: str = "/callback", *, require_iss: bool = False
    ) -> None:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.expected_path = path
        server.expected_state = state
        server.expected_issuer = issuer
        server.require_iss = require_iss
        server.outcome = None
        server.done = threading.Event()
        server.timeout = 0.2
        self._server = server
        self._path = path
        self._thread = threading.Thread(target=self._serve, name="oidc-loopback", daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        """The exact ``redirect_uri`` to send (RFC 8252 §7.3: the IP literal, with the port)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{self._path}"

    def _serve(self) -> None:
        while not self._server.done.is_set():
            self._server.handle_request()

    def wait(self, timeout: float) -> Callback:
        """Block until the callback arrives (or ``timeout`` seconds pass), then close.

        Raises:
            AuthenticationError: wrong state, an error response, no code, or timeout.
        """
        try:
            if not self._server.done.wait(timeout):
                raise AuthenticationError(
                    "no sign-in arrived from the browser in time; run the sign-in again",
                    code="timeout",
                )
            outcome = self._server.outcome
            if isinstance(outcome, AuthenticationError):
                raise outcome
            assert outcome is not None
            return outcome
        finally:
            self.close()

    def close(self) -> None:
        """Stop listening; idempotent."""
        self._server.done.set()
        self._thread.join(timeout=2)
        self._server.server_close()

    def __enter__(self) -> LoopbackRedirect:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
