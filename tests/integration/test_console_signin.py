"""``broker console``: the federation endpoint's getSigninToken, against a loopback fake.

moto does not implement the federation endpoint, so a small HTTP server on 127.0.0.1 plays it:
it checks the request carries exactly the session's three parts and answers a sign-in token.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from broker.errors import ConfigError, StsError
from broker.minters.base import Credentials
from broker.minters.console import ConsoleRequest, signin_url
from tests.conftest import RunBroker, one_line

pytestmark = pytest.mark.integration

CREDENTIALS = Credentials(
    access_key_id="ASIAEXAMPLEEXAMPLE01",
    secret_access_key="s" * 40,
    session_token="token-" + "t" * 60,
    expiration=datetime.now(UTC) + timedelta(hours=1),
)


class FederationFake(ThreadingHTTPServer):
    seen: list[dict[str, list[str]]]


class _Handler(BaseHTTPRequestHandler):
    server: FederationFake

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.server.seen.append(query)
        session = json.loads(query.get("Session", ["{}"])[0])
        good = query.get("Action") == ["getSigninToken"] and session == {
            "sessionId": CREDENTIALS.access_key_id,
            "sessionKey": CREDENTIALS.secret_access_key,
            "sessionToken": CREDENTIALS.session_token,
        }
        body = json.dumps({"SigninToken": "signin-token-42"}).encode() if good else b"bad"
        self.send_response(200 if good else 400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def federation() -> Iterator[FederationFake]:
    server = FederationFake(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _url(server: FederationFake) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/federation"


def test_signin_url_built_from_the_token(federation: FederationFake) -> None:
    request = ConsoleRequest(
        _url(federation), "https://console.aws.amazon.com/s3/", "https://b.example", 1800
    )
    url = signin_url(CREDENTIALS, request)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == _url(federation)
    assert parse_qs(parts.query) == {
        "Action": ["login"],
        "Issuer": ["https://b.example"],
        "Destination": ["https://console.aws.amazon.com/s3/"],
        "SigninToken": ["signin-token-42"],
    }
    assert federation.seen[-1]["SessionDuration"] == ["1800"]


def test_refused_session_is_a_one_line_sts_error(federation: FederationFake) -> None:
    wrong = Credentials("ASIAOTHER", "x" * 40, "y", CREDENTIALS.expiration)
    with pytest.raises(StsError) as caught:
        signin_url(
            wrong, ConsoleRequest(_url(federation), "https://c.example/", "https://b.example")
        )
    assert caught.value.code == "400"
    assert "x" * 40 not in str(caught.value)


def test_plain_http_off_loopback_is_refused() -> None:
    request = ConsoleRequest("http://signin.example.com/federation", "d", "i")
    with pytest.raises(ConfigError, match="https"):
        signin_url(CREDENTIALS, request)


def test_console_command_from_env(
    federation: FederationFake, run_broker: RunBroker, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.toml").write_text(
        f'[minters.aws]\nfederation_url = "{_url(federation)}"\nissuer = "https://b.example"\n'
    )
    env = {
        "BROKER_CONFIG": str(config),
        "AWS_ACCESS_KEY_ID": CREDENTIALS.access_key_id,
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS.secret_access_key,
        "AWS_SESSION_TOKEN": CREDENTIALS.session_token,
    }
    result = run_broker("console", "--env", env=env)
    assert result.returncode == 0, result.stderr
    assert parse_qs(urlsplit(one_line(result.stdout)).query)["SigninToken"] == ["signin-token-42"]
    assert result.stderr == ""
    missing = run_broker(
        "console", "--env", env={"BROKER_CONFIG": str(config), "AWS_SESSION_TOKEN": ""}
    )
    assert missing.returncode == 2
    assert "AWS_SESSION_TOKEN" in one_line(missing.stderr)


def _console_env(federation: FederationFake, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.toml").write_text(
        f'[minters.aws]\nfederation_url = "{_url(federation)}"\nissuer = "https://b.example"\n'
    )
    return {
        "BROKER_CONFIG": str(config),
        "AWS_ACCESS_KEY_ID": CREDENTIALS.access_key_id,
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS.secret_access_key,
        "AWS_SESSION_TOKEN": CREDENTIALS.session_token,
        "DISPLAY": "",
        "WAYLAND_DISPLAY": "",
    }


def test_console_open_hands_the_url_to_browser(
    federation: FederationFake, run_broker: RunBroker, tmp_path: Path
) -> None:
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o700)
    env = {**_console_env(federation, tmp_path), "BROWSER": str(browser)}
    result = run_broker("console", "--env", "--open", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the URL went to the browser, not the terminal
    assert one_line(result.stderr) == "broker: opened the console sign-in in your browser"
    assert parse_qs(urlsplit(opened.read_text()).query)["SigninToken"] == ["signin-token-42"]


def test_console_open_without_a_browser_prints_the_url(
    federation: FederationFake, run_broker: RunBroker, tmp_path: Path
) -> None:
    env = {**_console_env(federation, tmp_path), "BROWSER": ""}
    result = run_broker("console", "--env", "--open", env=env)
    assert result.returncode == 0, result.stderr
    assert parse_qs(urlsplit(one_line(result.stdout)).query)["SigninToken"] == ["signin-token-42"]
    assert "no browser" in one_line(result.stderr)
    broken = tmp_path / "broken-browser"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o700)
    failed = run_broker("console", "--env", "--open", env={**env, "BROWSER": str(broken)})
    assert failed.returncode == 0, failed.stderr
    assert "SigninToken=" in one_line(failed.stdout)
    assert "did not start" in one_line(failed.stderr)
