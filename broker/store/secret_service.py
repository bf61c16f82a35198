"""A lean read of one keyring entry straight from the Secret Service over D-Bus (jeepney).

Why: ``credential-process`` runs on every AWS CLI command, and importing ``keyring`` (backend
discovery) costs ~90 ms before any D-Bus call. This module looks the item up by the same
attributes ``keyring``'s Secret Service backend writes (``service``, ``username``) in the same
(default) collection, over a ``plain`` session: the secret crosses the user's own session bus
unencrypted, which is what every Secret Service client sees anyway once it decrypts.

It never unlocks, never prompts, never writes. Any surprise returns ``None`` and the caller
falls back to the full ``keyring`` path, which reports the problem properly.
"""

from __future__ import annotations

__all__ = ["read_secret"]

_BUS = "org.freedesktop.secrets"
_SERVICE_PATH = "/org/freedesktop/secrets"


def read_secret(service: str, username: str, *, timeout: float = 2.0) -> bytes | None:
    """The secret stored for (``service``, ``username``), or None when not readable this way.

    None covers: no session bus, no Secret Service, no such item, item locked, any error.
    """
    import os

    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    try:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:
        return None
    try:
        connection = open_dbus_connection(bus="SESSION")
    except Exception:
        return None
    try:
        secrets = DBusAddress(
            _SERVICE_PATH, bus_name=_BUS, interface="org.freedesktop.Secret.Service"
        )

        def call(
            method: str, signature: str | None = None, body: tuple[object, ...] = ()
        ) -> tuple[object, ...]:
            reply = connection.send_and_get_reply(
                new_method_call(secrets, method, signature, body), timeout=timeout
            )
            if reply.header.message_type.name != "method_return":
                raise LookupError(method)
            result: tuple[object, ...] = reply.body
            return result

        (collection,) = call("ReadAlias", "s", ("default",))
        if not isinstance(collection, str) or collection == "/":
            return None
        unlocked, _locked = call(
            "SearchItems", "a{ss}", ({"service": service, "username": username},)
        )
        assert isinstance(unlocked, list)
        mine = [path for path in unlocked if str(path).startswith(collection + "/")]
        if not mine:
            return None
        _output, session = call("OpenSession", "sv", ("plain", ("s", "")))
        try:
            (found,) = call("GetSecrets", "aoo", ([mine[0]], session))
        finally:
            close = DBusAddress(
                str(session), bus_name=_BUS, interface="org.freedesktop.Secret.Session"
            )
            connection.send(new_method_call(close, "Close"))
        assert isinstance(found, dict)
        _session, _params, value, _content_type = found[mine[0]]
        return bytes(value)
    except Exception:
        return None
    finally:
        connection.close()
