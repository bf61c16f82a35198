"""A real SAML 2.0 IdP for the integration tests: pysaml2's ``Server`` signing with xmlsec1.

Started by the tests on 127.0.0.1 with a key and certificate they generated, the SP metadata
they produced (``broker saml metadata``), and a small user table. It plays a login page:

* ``GET  /sso/redirect?SAMLRequest=…&RelayState=…`` (HTTP-Redirect binding) -> login form
* ``POST /login`` (key, username, password) -> auto-submitting form POSTing the signed
  ``SAMLResponse`` to the AuthnRequest's AssertionConsumerServiceURL
* ``GET  /unsolicited?username=…&password=…&acs=…`` -> the same for IdP-initiated sign-in

Usage: python idp.py CONFIG.json  (prints ``PORT <n>`` on stdout once listening)
"""

from __future__ import annotations

import html
import json
import secrets
import sys
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

ALGORITHMS = {"sha256": (SIG_RSA_SHA256, DIGEST_SHA256), "sha1": (SIG_RSA_SHA1, DIGEST_SHA1)}


def build_server(settings: dict, base: str) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": settings["entity_id"],
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(f"{base}/sso/redirect", BINDING_HTTP_REDIRECT)]
                    },
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 5},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": False,
                }
            },
            "key_file": settings["key_file"],
            "cert_file": settings["cert_file"],
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"local": [settings["sp_metadata"]]},
            "accepted_time_diff": 60,
        }
    )
    return Server(config=config)


class Handler(BaseHTTPRequestHandler):
    server: IdPHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/sso/redirect":
            request = self.server.idp.parse_authn_request(
                query["SAMLRequest"], BINDING_HTTP_REDIRECT
            )
            key = secrets.token_urlsafe(16)
            self.server.requests[key] = (request.message, query.get("RelayState"))
            self._send(
                200,
                '<html><body><form method="post" action="/login">'
                f'<input type="hidden" name="key" value="{key}">'
                '<input name="username"><input name="password" type="password">'
                "<button>Sign in</button></form></body></html>",
            )
        elif url.path == "/unsolicited":
            user = self._authenticate(query)
            if user is not None:
                self._respond(user, None, query["acs"], None)
        else:
            self._send(404, "not found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlsplit(self.path).path != "/login" or form.get("key") not in self.server.requests:
            self._send(400, "unknown login")
            return
        message, relay_state = self.server.requests.pop(form["key"])
        user = self._authenticate(form)
        if user is not None:
            acs = message.assertion_consumer_service_url
            self._respond(user, message.id, acs, relay_state)

    def _authenticate(self, form: dict[str, str]) -> dict | None:
        user = self.server.users.get(form.get("username", ""))
        if user is None or not secrets.compare_digest(user["password"], form.get("password", "")):
            self._send(401, "wrong user name or password")
            return None
        return user

    def _respond(self, user: dict, in_response_to: str | None, acs: str, relay: str | None) -> None:
        sign_alg, digest_alg = ALGORITHMS[self.server.algorithm]
        session_end = datetime.now(UTC) + timedelta(hours=user.get("session_hours", 8))
        response = self.server.idp.create_authn_response(
            identity=user["attributes"],
            in_response_to=in_response_to,
            destination=acs,
            sp_entity_id=self.server.sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=user["name_id"]),
            authn={
                "class_ref": user["authn_context"],
                "authn_instant": int(datetime.now(UTC).timestamp()),
            },
            sign_assertion=True,
            sign_response=self.server.sign_response,
            sign_alg=sign_alg,
            digest_alg=digest_alg,
            session_not_on_or_after=session_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        info = self.server.idp.apply_binding(
            BINDING_HTTP_POST,
            str(response),
            destination=acs,
            relay_state=relay or "",
            response=True,
        )
        # pysaml2 renders its own auto-submitting form; keep it, it is what a browser gets.
        body = info["data"]
        self._send(200, body if isinstance(body, str) else html.escape(str(body)))


class IdPHTTPServer(HTTPServer):
    idp: Server
    requests: dict
    users: dict
    sp_entity_id: str
    algorithm: str
    sign_response: bool


def main() -> None:
    settings = json.loads(open(sys.argv[1]).read())
    server = IdPHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    server.idp = build_server(settings, f"http://127.0.0.1:{port}")
    server.requests = {}
    server.users = settings["users"]
    server.sp_entity_id = settings["sp_entity_id"]
    server.algorithm = settings.get("algorithm", "sha256")
    server.sign_response = settings.get("sign_response", False)
    print(f"PORT {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
