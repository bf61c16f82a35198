"""``broker serve``'s ASGI application: the STS Query API, health, metrics, authorize.

Routes:
    POST / (and GET /)   the STS Query API (form-encoded, Version 2011-06-15, XML answers)
    POST /authorize      decisions on the caller's effective permissions (SigV4-signed;
                         403 AccessDenied naming what to configure when no directory backs
                         the service)
    GET  /health         ``{"status": "ok"}``, or a JSON 503 naming what is down (the state
                         store, this replica's clock); run off the event loop
    GET  /metrics        Prometheus text: requests per action and outcome

The Query API, the hot path, is a plain ASGI callable (``_query_app``): each request is
decided on a pool thread, and its audit event is handed to the log's group commit, whose writer
thread writes and fsyncs while the event loop serves other connections; the answer is sent
when that write has returned. The other routes are Starlette's, their blocking work in its
thread pool.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from broker.errors import AuditError, ConfigError
from broker.server.decision_pool import DecisionPool
from broker.server.limits import MAX_BODY_BYTES, too_large
from broker.server.query_api import REQUEST_DEADLINE_SECONDS, StsService
from broker.server.sigv4 import SignedRequest

__all__ = [
    "WorkerSettings",
    "create_app",
    "service_for",
    "worker_app",
]


def _signed_request(scope: Scope, body: bytes) -> SignedRequest:
    """The request as SigV4 verification sees it (header names are lower-case in ASGI)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return SignedRequest(
        method=scope["method"],
        path=scope["path"],
        query=scope["query_string"].decode("latin-1"),
        headers=headers,
        body=body,
    )


class _TooLarge(Exception):
    """The request's body (or query string) is over ``MAX_BODY_BYTES``."""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    """The body, read only while it stays within ``MAX_BODY_BYTES``.

    A declared ``Content-Length`` over the cap is refused before a byte of the body is read,
    and a chunked body as soon as it passes the cap, so a huge request costs the server no more
    than the cap in memory (the server's flow control stops reading the socket meanwhile).
    """
    if len(scope["query_string"]) > MAX_BODY_BYTES:
        raise _TooLarge
    declared = _declared_length(scope)
    if declared is not None and declared > MAX_BODY_BYTES:
        raise _TooLarge
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_xml(
    send: Send, status: int, body_text: str, request_id: str, *, close: bool
) -> None:
    body = body_text.encode()
    headers = [
        (b"content-type", b"text/xml; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    if close:  # the rest of an oversized body is never read: end the connection after this
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _query_app(service: StsService) -> ASGIApp:
    """``POST /`` and ``GET /``, the STS Query API: the hot path, as a plain ASGI callable.

    The request is decided on a pool thread (it may read files or a database, or fetch an
    issuer's JWKS, none of which may stall the event loop; ``broker.server.decision_pool``
    hands results back to the loop in batches), then its audit event is awaited
    through the log's group commit, whose writer thread does the write and fsync: no thread
    sits waiting for the disk, and the answer is sent only after the write returned; if it
    failed, the answer becomes ``InternalFailure`` and no credentials leave.
    """

    decisions = DecisionPool()

    async def query(scope: Scope, receive: Receive, send: Send) -> None:
        arrived = time.monotonic()
        client = scope.get("client")
        source_ip = client[0] if client else None
        oversized = False
        try:
            signed = _signed_request(scope, await _read_body(scope, receive))
        except ConnectionError:
            return
        except _TooLarge:
            oversized = True
            signed = _signed_request(scope, b"")
        user_agent = signed.headers.get("user-agent")
        if oversized:
            decision = service.refuse(signed, too_large(), source_ip=source_ip)
        else:
            decision = await decisions.run(
                partial(
                    service.decide,
                    signed,
                    source_ip=source_ip,
                    user_agent=user_agent,
                    deadline=arrived + REQUEST_DEADLINE_SECONDS,
                )
            )
        try:
            await service.audit.append_async(decision.event)
        except AuditError as exc:
            answer = service.finish(decision, exc)
        else:
            answer = service.finish(decision)
        await _send_xml(send, answer.status, answer.body, answer.request_id, close=oversized)

    return query


def create_app(service: StsService) -> ASGIApp:
    """The application around ``service`` (one per process; the service holds no request state).

    The Query API is served by ``_query_app`` directly; the other routes by Starlette.
    """
    query = _query_app(service)

    async def authorize(request: Request) -> Response:
        try:
            signed = _signed_request(
                request.scope, await _read_body(request.scope, request.receive)
            )
        except ConnectionError:
            return Response(status_code=400)  # the client went away: no one reads this
        except _TooLarge:
            return JSONResponse(
                {"error": "RequestEntityTooLarge", "message": str(too_large())},
                status_code=413,
                headers={"connection": "close"},
            )
        status, answer = await run_in_threadpool(
            service.authorize, signed, source_ip=request.client.host if request.client else None
        )
        return JSONResponse(answer, status_code=status)

    async def health(_request: Request) -> Response:
        # Off the event loop: the probe reads the database, which may be slow or down, and
        # must never hold up the Query API or /metrics of this replica.
        status, answer = await run_in_threadpool(service.health)
        return JSONResponse(answer, status_code=status)

    async def metrics(_request: Request) -> Response:
        lines = [
            "# HELP broker_sts_requests_total STS requests by action and outcome.",
            "# TYPE broker_sts_requests_total counter",
        ]
        for (raw_action, outcome), count in sorted(service.counts.items()):
            action = re.sub(r"[^A-Za-z0-9]", "_", raw_action)[:64]
            lines.append(
                f'broker_sts_requests_total{{action="{action}",outcome="{outcome}"}} {count}'
            )
        return PlainTextResponse("\n".join(lines) + "\n")

    others = Starlette(
        routes=[
            Route("/authorize", authorize, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] in ("GET", "POST"):
            await query(scope, receive, send)
        else:
            await others(scope, receive, send)

    return app


@dataclass(frozen=True)
class WorkerSettings:
    """Everything one ``broker serve`` worker needs, resolved once by the serve front end.

    Frozen and made of plain values so it pickles: the front end hands it to each worker
    process it starts (``broker.server.workers``) as an argument, never through the
    environment.
    """

    data_dir: Path
    """The data directory: the embedded SQLite state when no database is configured."""
    database_url: str | None = None
    """PostgreSQL shared by replicas (schema made current by ``broker db upgrade``), or None."""
    directory_config: Path | None = None
    """The configuration directory whose ``directory/`` backs the service, or None: none."""
    regions: tuple[str, ...] = ()
    """Accepted regions; empty: any."""
    audit_sync: str = "fsync"
    """``fsync`` (each commit waits for the disk) or ``interval`` (SQLite only)."""


def service_for(settings: WorkerSettings) -> StsService:
    """The STS service for one ``broker serve`` worker, over the one state.

    The state is the database ``settings.database_url`` names (PostgreSQL shared by replicas
    on other hosts), else the embedded SQLite in the data directory; ``audit_sync=interval``
    (SQLite only) commits without waiting for the disk.

    Workers share nothing in memory: tokens verify statelessly, and the signing keys, access
    keys, revocations, session policies, MFA devices, one-time values and audit chain are the
    database's. ``/metrics`` counts per worker.
    """
    from broker.directory import load_directory
    from broker.storage.clock_skew import ClockGuard
    from broker.sts.directory_source import DirectoryPrincipals
    from broker.sts.state import open_sts_state

    if settings.audit_sync not in ("fsync", "interval"):
        raise ConfigError(f"audit sync {settings.audit_sync!r}: expected fsync or interval")
    data = settings.data_dir
    state = open_sts_state(
        settings.database_url, data, durable_commits=settings.audit_sync == "fsync"
    )
    principals = None
    if settings.directory_config is not None:
        principals = DirectoryPrincipals(
            load_directory(settings.directory_config, state.shared.database)
        )
    guard = None
    if settings.database_url:  # replicas on several hosts: clocks checked against the database's
        guard = ClockGuard(state.shared.database)
        guard.start()
    return StsService.over(
        state,
        regions=list(settings.regions) or None,
        data=data,
        principals=principals,
        clock_guard=guard,
    )


def worker_app(settings: WorkerSettings) -> ASGIApp:
    """The app for one ``broker serve`` worker (``service_for``)."""
    return create_app(service_for(settings))
