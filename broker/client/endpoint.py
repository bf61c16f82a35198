"""``broker serve-credentials``: the container credentials endpoint, or an IMDSv2 look-alike.

Container mode (what ECS gives tasks): ``GET /creds/<profile>`` with ``Authorization: <token>``
answers ``{AccessKeyId, SecretAccessKey, Token, Expiration}``; SDKs find it through
``AWS_CONTAINER_CREDENTIALS_FULL_URI`` + ``AWS_CONTAINER_AUTHORIZATION_TOKEN``.

IMDS mode (what an instance profile gives EC2): ``PUT /latest/api/token`` with a TTL header
returns a session token; ``GET /latest/meta-data/iam/security-credentials/[<profile>]`` with
``X-aws-ec2-metadata-token`` answers the role name, then its credentials. SDKs find it through
``AWS_EC2_METADATA_SERVICE_ENDPOINT``. As IMDSv2 does, a token PUT carrying
``X-Forwarded-For`` is refused (a proxy must not be able to fetch tokens). Since a token PUT
needs no secret, every IMDS connection is first checked to come from a socket owned by our own
uid (``broker.client.peer_owner``); other local users get 403, and ``--imds`` is refused where
that check cannot be made.

Both listen on 127.0.0.1 only, on a random port, check the ``Host`` header against that
address (DNS rebinding), compare tokens in constant time, and mint through the same chain
as everything else, so credentials are refreshed before they expire.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from broker.errors import BrokerError, ServerError
from broker.minters.base import Credentials

__all__ = ["CredentialsServer", "start_server"]

_IMDS_CREDS = "/latest/meta-data/iam/security-credentials/"
_MAX_TOKENS = 1024
_OTHER_USER = "this endpoint serves only the user who started it"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CredentialsServer(ThreadingHTTPServer):
    """The listening server and its secrets (token, IMDS session tokens)."""

    daemon_threads = True

    def __init__(
        self,
        profiles: Sequence[str],
        fetch: Callable[[str], Credentials],
        *,
        imds: bool,
        log: Callable[[str], None],
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.profiles = tuple(profiles)
        self.fetch = fetch
        self.imds = imds
        self.log_line = log
        self.token = secrets.token_urlsafe(32)
        self.imds_tokens: dict[str, float] = {}
        self.lock = threading.Lock()
        self.owner_uid = os.geteuid()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def container_uri(self, profile: str) -> str:
        return f"{self.base_url}/creds/{profile}"

    def new_imds_token(self, ttl: int) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.monotonic()
            self.imds_tokens = {t: exp for t, exp in self.imds_tokens.items() if exp > now}
            if len(self.imds_tokens) >= _MAX_TOKENS:
                self.imds_tokens.pop(next(iter(self.imds_tokens)))
            self.imds_tokens[token] = now + ttl
        return token

    def imds_token_valid(self, token: str) -> bool:
        with self.lock:
            now = time.monotonic()
            return any(
                hmac.compare_digest(token, known) and exp > now
                for known, exp in self.imds_tokens.items()
            )


class _Handler(BaseHTTPRequestHandler):
    server: CredentialsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None  # request lines can carry tokens in odd clients; log decisions only

    def setup(self) -> None:
        super().setup()
        self._peer_refused: str | None = None
        if self.server.imds:  # once per connection, before any request is read
            from broker.client.peer_owner import same_owner

            ours, uids = same_owner(self.connection, self.server.owner_uid)
            if not ours:
                self._peer_refused = ", ".join(str(uid) for uid in sorted(uids)) or "unknown"

    def parse_request(self) -> bool:
        """Refuse every request of an IMDS connection that another user's socket opened."""
        if not super().parse_request():
            return False
        if self._peer_refused is None:
            return True
        self.server.log_line(
            f"refused an IMDS request from another user (uid {self._peer_refused})"
        )
        self.close_connection = True
        self._send(403, json.dumps({"Code": "Forbidden", "Message": _OTHER_USER}))
        return False

    def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _host_ok(self) -> bool:
        port = self.server.server_address[1]
        return self.headers.get("Host", "") in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _credentials(self, profile: str) -> Credentials | None:
        try:
            return self.server.fetch(profile)
        except BrokerError as exc:
            self.server.log_line(f"{profile}: cannot serve credentials: {exc}")
            self._send(503, json.dumps({"Code": "Unavailable", "Message": str(exc)}))
            return None

    def do_PUT(self) -> None:
        if not self.server.imds or not self._host_ok():
            return self._send(404, "{}")
        if self.path != "/latest/api/token":
            return self._send(404, "{}")
        if "X-Forwarded-For" in self.headers:
            return self._send(403, "{}")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            return self._send(400, "{}")
        self._send(200, self.server.new_imds_token(ttl), "text/plain")

    def do_GET(self) -> None:
        if not self._host_ok():
            return self._send(403, "{}")
        if self.server.imds:
            return self._imds_get()
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            return self._send(401, json.dumps({"Code": "Unauthorized"}))
        prefix = "/creds/"
        profile = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
        if profile not in self.server.profiles:
            return self._send(404, json.dumps({"Code": "NotFound"}))
        credentials = self._credentials(profile)
        if credentials is None:
            return None
        self._send(
            200,
            json.dumps(
                {
                    "AccessKeyId": credentials.access_key_id,
                    "SecretAccessKey": credentials.secret_access_key,
                    "Token": credentials.session_token,
                    "Expiration": _iso(credentials.expiration),
                }
            ),
        )

    def _imds_get(self) -> None:
        if not self.server.imds_token_valid(self.headers.get("X-aws-ec2-metadata-token", "")):
            return self._send(401, "", "text/plain")
        if self.path == _IMDS_CREDS:
            return self._send(200, self.server.profiles[0], "text/plain")
        if self.path != _IMDS_CREDS + self.server.profiles[0]:
            return self._send(404, "", "text/plain")
        credentials = self._credentials(self.server.profiles[0])
        if credentials is None:
            return None
        self._send(
            200,
            json.dumps(
                {
                    "Code": "Success",
                    "LastUpdated": _iso(datetime.now(UTC)),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": credentials.access_key_id,
                    "SecretAccessKey": credentials.secret_access_key,
                    "Token": credentials.session_token,
                    "Expiration": _iso(credentials.expiration),
                }
            ),
        )


def start_server(
    profiles: Sequence[str],
    fetch: Callable[[str], Credentials],
    *,
    imds: bool = False,
    log: Callable[[str], None] = lambda _line: None,
) -> CredentialsServer:
    """Bind on 127.0.0.1 (random port) and serve in a daemon thread; call ``shutdown()`` to stop.

    Raises:
        ServerError: the socket cannot be bound, ``--imds`` with other than one profile, or
            ``--imds`` where the peer's owner cannot be checked (not Linux).
    """
    if imds and len(profiles) != 1:
        raise ServerError("--imds serves exactly one profile (an instance has one role)")
    if imds:
        from broker.client.peer_owner import IMDS_UNSUPPORTED, imds_supported

        if not imds_supported():
            raise ServerError(IMDS_UNSUPPORTED)
    try:
        server = CredentialsServer(profiles, fetch, imds=imds, log=log)
    except OSError as exc:
        raise ServerError(f"cannot listen on 127.0.0.1: {exc.strerror}") from None
    threading.Thread(target=server.serve_forever, name="serve-credentials", daemon=True).start()
    return server
