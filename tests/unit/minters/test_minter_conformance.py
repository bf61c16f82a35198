"""The local minter against the minter conformance suite (``broker.minters.testing``).

The ``aws`` minter runs the same suite against moto's STS in
``tests/integration/test_aws_minter_moto.py``.
"""

from __future__ import annotations

import pytest

from broker.minters.base import MintRequest
from broker.minters.local import LocalMinter
from broker.minters.testing import MinterConformance
from providers.base import SignInResult
from tests.state_support import break_audit_chain, embedded_state
from tests.unit.minters.test_local_minter import local_minter, oidc_sign_in
from tests.unit.sts.principal_data import HOME


class TestLocalMinterConformance(MinterConformance):
    @pytest.fixture
    def minter(self, tmp_path) -> LocalMinter:
        return local_minter(tmp_path, embedded_state(tmp_path).shared.audit)

    @pytest.fixture
    def audit_events(self, minter: LocalMinter):
        return lambda: list(minter.audit.records())

    @pytest.fixture
    def broken_minter(self, tmp_path) -> LocalMinter:
        blocked = tmp_path / "blocked"
        blocked.mkdir()
        break_audit_chain(blocked)  # the chain cannot be appended to
        return local_minter(tmp_path, embedded_state(blocked).shared.audit)

    @pytest.fixture
    def identity(self) -> SignInResult:
        return oidc_sign_in()

    @pytest.fixture
    def assigned(self) -> MintRequest:
        return MintRequest(HOME, "AWSReservedSSO_Dev", 3600)

    @pytest.fixture
    def unassigned(self) -> MintRequest:
        return MintRequest(HOME, "AWSReservedSSO_Admin", 3600)

    @pytest.fixture
    def role_maximum(self) -> int:
        return 28_800
