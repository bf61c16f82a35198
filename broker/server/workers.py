"""Run ``broker serve``'s workers with their settings passed as arguments.

``uvicorn.run`` starts several workers only from an import string, which a worker can only
complete from the environment. Here the serve front end hands uvicorn an application factory
bound to its resolved ``WorkerSettings`` (a frozen value, so it pickles into each spawned
worker) and drives uvicorn's own pieces: one listening socket bound in the parent, shared by
the workers; uvicorn's supervisor starts them (spawn context), replaces a worker that dies
while serving, stops the parent when a worker cannot start, and stops every worker gracefully
on SIGTERM or SIGINT. With one worker the server runs in this process, as ``uvicorn.run`` does.
"""

from __future__ import annotations

import sys
from functools import partial

from starlette.types import ASGIApp

from broker.errors import BrokerError, one_printable_line
from broker.server.app import WorkerSettings, worker_app

__all__ = ["STARTUP_FAILURE", "serve_workers"]

STARTUP_FAILURE = 3
"""The exit status when the service could not start (uvicorn's own value)."""


def _started_worker_app(settings: WorkerSettings) -> ASGIApp:
    """``worker_app`` in a spawned worker: a broker error (a bad directory configuration, an
    unreachable database) is one line on stderr and the startup-failure status, which makes the
    supervisor stop the service instead of restarting a worker that would fail the same way."""
    try:
        return worker_app(settings)
    except BrokerError as exc:
        print(
            f"broker: error: a worker could not start: {one_printable_line(str(exc))}",
            file=sys.stderr,
        )
        raise SystemExit(STARTUP_FAILURE) from None


def serve_workers(settings: WorkerSettings, *, host: str, port: int, workers: int) -> int:
    """Serve until stopped; the exit status: 0, or ``STARTUP_FAILURE`` when nothing started."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    factory = worker_app if workers == 1 else _started_worker_app
    config = uvicorn.Config(
        partial(factory, settings),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
    if workers == 1:
        server = uvicorn.Server(config)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        return 0 if server.started else STARTUP_FAILURE
    socket = config.bind_socket()
    try:
        supervisor = Multiprocess(config, sockets=[socket])
        supervisor.run()
    except KeyboardInterrupt:
        return 0
    finally:
        socket.close()
    failed = [p.exitcode for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
    return STARTUP_FAILURE if failed else 0
