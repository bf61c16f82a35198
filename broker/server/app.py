"""``broker serve``'s ASGI application: the STS Query API, health, metrics, authorize.

Routes:
    POST / (and GET /)   the STS Query API (form-encoded, Version 2011-06-15, XML answers)
    POST /authorize      decisions on the caller's effective permissions (SigV4-signed;
                         501 "not yet available" until a directory backs the service)
    GET  /health         ``{"status": "ok"}`` when keys load and the audit log is writable
    GET  /metrics        Prometheus text: requests per action and outcome

The blocking work (ES256, fsync) runs in Starlette's thread pool so the event loop keeps
accepting connections.
"""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from broker.server.query_api import StsService
from broker.server.sigv4 import SignedRequest
from providers.base import ReplayCache

__all__ = ["app_from_environment", "create_app", "service_from_environment", "shared_replay_cache"]


async def _signed(request: Request) -> SignedRequest:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return SignedRequest(
        method=request.method,
        path=request.url.path,
        query=request.url.query,
        headers=headers,
        body=await request.body(),
    )


def create_app(service: StsService) -> Starlette:
    """The application around ``service`` (one per process; the service holds no request state)."""

    async def query(request: Request) -> Response:
        signed = await _signed(request)
        answer = await run_in_threadpool(
            service.handle,
            signed,
            source_ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
        return Response(
            answer.body,
            status_code=answer.status,
            media_type="text/xml",
            headers={"x-amzn-RequestId": answer.request_id},
        )

    async def authorize(request: Request) -> Response:
        signed = await _signed(request)
        status, answer = await run_in_threadpool(
            service.authorize, signed, source_ip=request.client.host if request.client else None
        )
        return JSONResponse(answer, status_code=status)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "signingKey": service.ring.active.kid})

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

    return Starlette(
        routes=[
            Route("/", query, methods=["GET", "POST"]),
            Route("/authorize", authorize, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )


def shared_replay_cache() -> ReplayCache:
    """One-time values (SAML assertion ids) shared by every worker and replica; MFA codes are
    refused once used through the device store in the same database (``broker.sts.mfa``).

    Kept in the shared-state database: ``BROKER_DATABASE_URL`` (PostgreSQL, whose schema
    `broker db upgrade` must have made current) or the embedded SQLite in the data directory,
    which is brought up to date here.
    """
    from broker.storage.migrations import open_current
    from broker.storage.replay import SqlReplayCache

    return SqlReplayCache(open_current())


def service_from_environment() -> StsService:
    """The STS service for one ``broker serve`` worker: keys and state from the data directory
    (``BROKER_HOME``), one-time values in the shared-state database, accepted regions from
    ``BROKER_SERVE_REGIONS`` (comma-separated).

    Workers share nothing in memory: tokens verify statelessly, replayed assertions or MFA
    codes are refused through the shared-state database, and with ``BROKER_DATABASE_URL`` the
    revocations, audit chain and session policies live in PostgreSQL too (replicas on other
    hosts); otherwise those are files in the data directory (the audit log under ``flock``).
    Signing keys and access key records then come from the database too. ``/metrics``
    counts per worker.
    """
    import os

    from broker.config.loader import config_dir, data_dir
    from broker.directory import load_directory
    from broker.sts.directory_source import DirectoryPrincipals
    from broker.sts.signing_keys import KeyRingFile

    regions = [r for r in os.environ.get("BROKER_SERVE_REGIONS", "").split(",") if r]
    principals = None
    if (config_dir() / "directory").is_dir():
        principals = DirectoryPrincipals(load_directory(data_dir=data_dir()))
    if os.environ.get("BROKER_DATABASE_URL"):
        from broker.storage.shared_state import open_shared_state
        from broker.sts.access_keys_db import DatabaseAccessKeyStore
        from broker.sts.key_ring_db import DatabaseKeyRing
        from broker.sts.mfa import open_mfa_devices

        state = open_shared_state()
        ring = DatabaseKeyRing(state.keys)
        return StsService(
            ring,
            keys=DatabaseAccessKeyStore(ring.current(), state.access_keys),
            regions=regions or None,
            data=data_dir(),
            principals=principals,
            saml_replay_cache=state.replay,
            revocations=state.revocations,
            audit=state.audit,
            session_policies=state.session_policies,
            mfa=open_mfa_devices(ring, state.sts_mfa, data_dir()),
        )
    return StsService(
        KeyRingFile(),
        regions=regions or None,
        data=data_dir(),
        principals=principals,
        saml_replay_cache=shared_replay_cache(),
    )


def app_from_environment() -> Starlette:
    """The app for one ``broker serve`` worker (``service_from_environment``)."""
    return create_app(service_from_environment())
