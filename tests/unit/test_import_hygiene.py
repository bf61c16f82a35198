"""The headless core must import without Textual or Rich (docs/style.md rule 1).

import-linter checks static imports; this checks what really lands in ``sys.modules`` when each
headless package and the command line are imported in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

HEADLESS = [
    "broker",
    "broker.errors",
    "broker.config",
    "broker.policy",
    "broker.cli",
    "providers",
    "providers.registry",
    "broker.store",
    "broker.store.credential_store",
    "broker.client.chain",
    "broker.client.endpoint",
    "broker.signin",
    "broker.terminal_ui",
    "providers.oidc",
    "providers.embedded",
    "broker.directory",
    "broker.commands.directory",
    "providers.saml.provider",
    "broker.commands.saml",
    "broker.storage",
    "broker.storage.database",
    "broker.minters.aws",
    "broker.tokens",
    "broker.tokens.replay",
    "broker.tokens.saml.response",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_load_textual(module: str) -> None:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'httpx', 'jose', 'authlib'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    heavy = json.loads(out.stdout)
    assert heavy == [], f"{module} imported {heavy}"


def test_building_the_parser_loads_no_heavy_library() -> None:
    code = (
        "import json, sys\n"
        "from broker.cli import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'textual', 'rich', 'httpx', 'jose', 'authlib', 'keyring', 'lxml', 'botocore', 'z3', "
        "'psycopg', 'psycopg_pool'})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []
