"""Stopping the peer processes tests start: politely, then for sure, always bounded in time."""

from __future__ import annotations

import subprocess

__all__ = ["stop"]


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Terminate ``process``; kill it if it has not exited within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
