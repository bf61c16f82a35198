"""The loopback Assertion Consumer Service: where the browser POSTs the response (Bindings §3.5).

Bound to 127.0.0.1 only, on a free port unless one is configured. It accepts exactly one POSTed
``SAMLResponse``, hands it to the caller's handler, shows a short page saying how it went, and
closes. Anything else (GETs, other paths, oversized bodies) is answered with an error and does
not count as the one response.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Generic, Self, TypeVar
from urllib.parse import parse_qs

from broker.errors import BrokerError, ProviderUnavailableError
from broker.tokens.saml.safe_xml import MAX_ENCODED_BYTES

__all__ = ["ACS_PATH", "LoopbackACS", "PostedResponse"]

ACS_PATH = "/saml/acs"
_MAX_BODY = 2 * MAX_ENCODED_BYTES + 4096  # form encoding grows base64 ('+' -> '%2B')

T = TypeVar("T")


@dataclass(frozen=True)
class PostedResponse:
    """The form the browser posted: the base64 response and its RelayState.

    ``saml_response`` is a bearer credential (AssumeRoleWithSAML accepts it as is): kept out of
    ``repr`` so a traceback or log line cannot carry it."""

    saml_response: str = field(repr=False)
    relay_state: str | None


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Access Broker</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{title}</h1><p>{body}</p></body></html>
"""


class _Server(HTTPServer, Generic[T]):
    def __init__(self, port: int, handle: Callable[[PostedResponse], T]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.handle_post = handle
        self.outcome: T | Exception | None = None
        self.received = threading.Event()  # the one response arrived: refuse any other
        self.finished = threading.Event()  # and its outcome is recorded


class _Handler(BaseHTTPRequestHandler):
    timeout = 15
    server: _Server[object]

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr access log (it would show request lines)."""

    def _page(self, status: int, title: str, body: str) -> None:
        data = _PAGE.format(title=html.escape(title), body=html.escape(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._page(405, "Waiting for sign-in", "This address only accepts the IdP's POST.")

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != ACS_PATH or self.server.received.is_set():
            self._page(404, "Not found", "This is not the sign-in address.")
            return
        form = self._read_form()
        if form is None:
            return
        self.server.received.set()
        try:
            self.server.outcome = self.server.handle_post(form)
        except BrokerError as exc:
            self.server.outcome = exc
            self._page(400, "Sign-in failed", f"{exc}. You can close this tab.")
            return
        except Exception as exc:  # a bug: surface it in the broker, not in the browser
            self.server.outcome = exc
            self._page(500, "Sign-in failed", "Internal error; see the broker's output.")
            return
        finally:
            self.server.finished.set()
        self._page(200, "Signed in", "You are signed in to Access Broker. You can close this tab.")

    def _read_form(self) -> PostedResponse | None:
        kind = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if kind != "application/x-www-form-urlencoded" or not 0 < length <= _MAX_BODY:
            self._page(400, "Bad request", "Expected one form-encoded SAMLResponse.")
            return None
        body = self.rfile.read(length).decode("ascii", errors="replace")
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=8)
        responses = fields.get("SAMLResponse", [])
        relay = fields.get("RelayState", [])
        if len(responses) != 1 or len(relay) > 1:
            self._page(400, "Bad request", "Expected one SAMLResponse.")
            return None
        return PostedResponse(responses[0], relay[0] if relay else None)


class LoopbackACS(Generic[T]):
    """A one-shot ACS on 127.0.0.1; use as a context manager, then ``wait``.

    Args:
        port: 0 for a free port, else the configured one.
        handle: validates the posted response; its result (or ``BrokerError``) is what
            ``wait`` returns (or raises). It runs on the listener's thread.
    """

    def __init__(self, port: int, handle: Callable[[PostedResponse], T]) -> None:
        try:
            self._server: _Server[T] = _Server(port, handle)
        except OSError as exc:
            raise ProviderUnavailableError(
                f"cannot listen on 127.0.0.1:{port} for the SAML response ({exc.strerror}); "
                "free the port or change acs_port"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{ACS_PATH}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout: float) -> T | None:
        """The handler's result, or None if no response came within ``timeout`` seconds.

        Raises:
            BrokerError: whatever the handler raised for the one posted response.
        """
        if not self._server.finished.wait(timeout):
            return None
        outcome = self._server.outcome
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
