"""Many whole ``broker credential-process`` processes at once, as terraform or ``xargs -P`` run
them, with an in-test minter put in place of ``broker.minters.local`` at interpreter start (a
``sitecustomize`` written at test time), so the real CLI path mints through it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.testing import SilentUI
from tests.client_support import (
    CountingMinter,
    TestIdP,
    seed_expired,
    write_config,
    write_counting_minter_site,
)
from tests.conftest import REPO

pytestmark = [pytest.mark.keyring, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def cli_env(secret_service: None, broker_home: Path, tmp_path: Path) -> dict[str, str]:
    site = write_counting_minter_site(tmp_path / "site")
    store = CredentialStore(broker_home)
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: TestIdP(), ui=SilentUI())
    seed_expired(store)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]),
        "BROKER_CONFIG": str(write_config(tmp_path / "config")),
        "TEST_MINT_LOG": str(tmp_path / "mints.log"),
    }


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "broker", "credential-process", "--profile", "dev"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )


def test_fifty_processes_on_an_expired_cache_all_succeed_with_one_mint(
    cli_env: dict[str, str],
) -> None:
    env = {**cli_env, "TEST_MINT_DELAY": "0.5"}
    procs = [_start(env) for _ in range(50)]
    results = [proc.communicate(timeout=180) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 50, results[0][1]
    docs = [json.loads(out) for out, _err in results]
    assert len({doc["AccessKeyId"] for doc in docs}) == 1
    assert docs[0]["AccessKeyId"] != "BKIAEXPIRED000000000"
    assert all(err == "" for _out, err in results)
    assert CountingMinter(Path(cli_env["TEST_MINT_LOG"])).count() == 1


def test_kill_9_of_a_minting_process_then_the_next_call_recovers(
    cli_env: dict[str, str], broker_home: Path
) -> None:
    log = Path(cli_env["TEST_MINT_LOG"])
    victim = _start({**cli_env, "TEST_MINT_DELAY": "60"})
    deadline = time.monotonic() + 60
    while CountingMinter(log).count() == 0:
        assert time.monotonic() < deadline, "the victim never started minting"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=10)
    intact = CredentialStore(broker_home).credentials("dev")
    assert intact is not None and intact.access_key_id == "BKIAEXPIRED000000000"
    survivor = _start(cli_env)
    out, err = survivor.communicate(timeout=60)
    assert survivor.returncode == 0, err
    doc = json.loads(out)
    assert doc["AccessKeyId"] != "BKIAEXPIRED000000000"
    stored = CredentialStore(broker_home).credentials("dev")
    assert stored is not None and stored.access_key_id == doc["AccessKeyId"]
    assert CountingMinter(log).count() == 2
