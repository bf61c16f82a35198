"""Who owns the other end of a loopback TCP connection: the peer check of ``--imds``.

Why: an IMDSv2 token PUT carries no secret (that is the protocol), and the listening port of
``serve-credentials --imds`` is visible to every local user in ``/proc/net/tcp``. Without a
check, any Unix user of the machine could fetch the person's credentials. Linux lists every
TCP socket of the network namespace in ``/proc/net/tcp`` and ``/proc/net/tcp6`` with the uid
that owns it, so the server finds the client's socket (its local address is the connection's
remote one, and the other way round) and serves only when that uid is its own.

On other systems there is no such table here, so ``--imds`` is refused there
(``imds_supported``); the container mode's random bearer token needs no peer check.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "IMDS_UNSUPPORTED",
    "imds_supported",
    "normalise",
    "parse_proc_net_tcp",
    "peer_uids",
    "same_owner",
]

_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))

IMDS_UNSUPPORTED = (
    "--imds needs Linux, where the owner of each connection can be checked (any local user "
    "could otherwise fetch your credentials); use the container mode (without --imds), which "
    "requires a random token"
)

Endpoint = tuple[str, int]


def imds_supported() -> bool:
    """True where the peer's owner can be found (Linux with ``/proc/net/tcp``)."""
    return sys.platform.startswith("linux") and _TABLES[0].exists()


def _address(text: str) -> Endpoint:
    """``0100007F:1F90`` (the kernel prints each 32-bit word in host byte order) → address."""
    hex_ip, hex_port = text.split(":")
    words = [
        int(hex_ip[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(hex_ip), 8)
    ]
    packed = b"".join(words)
    ip = ipaddress.ip_address(packed)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack client reaching 127.0.0.1 shows as ::ffff:127.0.0.1
    return str(ip), int(hex_port, 16)


def parse_proc_net_tcp(lines: Iterable[str]) -> list[tuple[Endpoint, Endpoint, int, int]]:
    """Rows of a ``/proc/net/tcp[6]`` table: (local, remote, uid, inode); header skipped."""
    rows = []
    for line in lines:
        fields = line.split()
        if len(fields) < 10 or fields[0] == "sl":
            continue
        try:
            rows.append((_address(fields[1]), _address(fields[2]), int(fields[7]), int(fields[9])))
        except ValueError:
            continue
    return rows


def peer_uids(client: Endpoint, server: Endpoint) -> set[int]:
    """The uids owning a live socket whose local end is ``client`` and remote end ``server``.

    Empty when none is found (the client already went away, or the table is unreadable):
    callers refuse then.
    """
    found: set[int] = set()
    for table in _TABLES:
        try:
            text = table.read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        for local, remote, uid, inode in parse_proc_net_tcp(text.splitlines()):
            if inode and local == client and remote == server:  # inode 0: TIME_WAIT, no owner
                found.add(uid)
    return found


def normalise(endpoint: tuple[object, ...]) -> Endpoint:
    """``socket.getpeername()``'s answer as ``(ip text, port)``."""
    host, port = str(endpoint[0]), int(str(endpoint[1]))
    ip = ipaddress.ip_address(host.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip), port


def same_owner(connection: socket.socket, uid: int) -> tuple[bool, set[int]]:
    """Whether the peer of ``connection`` is owned by ``uid`` alone; also the uids found."""
    uids = peer_uids(normalise(connection.getpeername()), normalise(connection.getsockname()))
    return uids == {uid}, uids
