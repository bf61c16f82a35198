"""The embedded IdP's two HTML pages (login, device approval), each marked development-only.

Every value placed in a page goes through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from providers.embedded.users import DemoUser

__all__ = ["device_page", "login_page", "message_page"]

_FRAME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · development IdP</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:40em;color:#222}}
.banner{{background:#b00020;color:#fff;padding:.5em 1em;font-weight:bold}}
button{{display:block;width:100%;text-align:left;margin:.3em 0;padding:.5em}}
small{{color:#555}}
</style></head><body>
<p class="banner">DEVELOPMENT ONLY: embedded test identity provider. Not for real accounts.</p>
<h1>{title}</h1>
{body}
</body></html>
"""


def _frame(title: str, body: str) -> bytes:
    return _FRAME.format(title=escape(title), body=body).encode()


def _user_buttons(users: Iterable[DemoUser], hint: str | None) -> str:
    rows = []
    for user in users:
        groups = ", ".join(user.groups) or "no groups"
        mfa = "MFA" if user.mfa else "no MFA"
        autofocus = " autofocus" if user.username == hint else ""
        rows.append(
            f'<button name="user" value="{escape(user.username)}"{autofocus}>'
            f"{escape(user.name)} &lt;{escape(user.email)}&gt; "
            f"<small>{escape(groups)} · {mfa}</small></button>"
        )
    return "\n".join(rows)


def login_page(users: Iterable[DemoUser], params: Mapping[str, str], hint: str | None) -> bytes:
    """Pick a demo user; the authorization request's parameters ride along as hidden fields."""
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    body = (
        '<form method="post" action="/authorize">\n'
        f"{hidden}\n<p>Sign in as:</p>\n{_user_buttons(users, hint)}\n</form>"
    )
    return _frame("Sign in", body)


def device_page(users: Iterable[DemoUser], user_code: str) -> bytes:
    """Enter (or confirm) the code shown on the device, then pick a demo user, or deny."""
    body = (
        '<form method="post" action="/device">\n'
        f'<p><label>Code: <input name="user_code" value="{escape(user_code)}"></label></p>\n'
        f"<p>Approve as:</p>\n{_user_buttons(users, None)}\n"
        '<button name="deny" value="1">Deny</button>\n</form>'
    )
    return _frame("Approve a device", body)


def message_page(title: str, message: str) -> bytes:
    return _frame(title, f"<p>{escape(message)}</p>")
