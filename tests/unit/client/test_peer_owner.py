"""Finding the owner of a loopback connection's other end in ``/proc/net/tcp[6]``."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from broker.client.peer_owner import normalise, parse_proc_net_tcp, peer_uids, same_owner

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


def _hex4(ip: str) -> str:
    return int.from_bytes(socket.inet_aton(ip), sys.byteorder).to_bytes(4, "big").hex().upper()


def test_parses_ipv4_rows_in_host_byte_order_and_skips_the_header() -> None:
    local = f"{_hex4('127.0.0.1')}:{40000:04X}"
    remote = f"{_hex4('127.0.0.1')}:{8080:04X}"
    lines = [
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid",
        f"   0: {local} {remote} 01 00000000:00000000 00:00000000 00000000  1000  0 4242 1",
        "   1: garbage",
    ]
    assert parse_proc_net_tcp(lines) == [(("127.0.0.1", 40000), ("127.0.0.1", 8080), 1000, 4242)]


def test_an_ipv4_mapped_ipv6_row_reads_as_the_ipv4_address() -> None:
    packed = socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1")
    words = "".join(
        int.from_bytes(packed[i : i + 4], sys.byteorder).to_bytes(4, "big").hex().upper()
        for i in range(0, 16, 4)
    )
    line = f"0: {words}:9C40 {words}:1F90 01 0:0 00:0 0 65534 0 77 1"
    assert parse_proc_net_tcp([line]) == [(("127.0.0.1", 40000), ("127.0.0.1", 8080), 65534, 77)]


def test_a_real_connection_is_found_owned_by_us() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    try:
        assert peer_uids(normalise(accepted.getpeername()), normalise(accepted.getsockname())) == {
            os.geteuid()
        }
        assert same_owner(accepted, os.geteuid()) == (True, {os.geteuid()})
        assert same_owner(accepted, os.geteuid() + 1)[0] is False
    finally:
        for sock in (accepted, client, listener):
            sock.close()


def test_a_connection_that_is_gone_has_no_owner_and_is_refused() -> None:
    assert peer_uids(("127.0.0.1", 1), ("127.0.0.1", 2)) == set()
