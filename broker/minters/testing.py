"""Conformance suite for minters: subclass ``MinterConformance`` in your tests.

Every minter (``local``, ``aws``, and any added later) keeps the same promises to the store,
``credential-process``, ``exec``, the refresher and the TUI, so every minter runs the same
checks, as providers run ``providers.testing``. A subclass supplies these fixtures:

* ``minter``: a configured minter whose audit events ``audit_events`` returns;
* ``audit_events``: a callable returning every event that minter has written so far;
* ``broken_minter``: the same minter with an audit sink that cannot be written;
* ``identity``: a sign-in that holds ``assigned``;
* ``assigned``: a ``MintRequest`` the minter grants (its duration within the role's maximum);
* ``unassigned``: a ``MintRequest`` for a role the identity does not hold;
* ``role_maximum``: the most seconds ``assigned``'s role allows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from broker.errors import AuditError, StsError
from broker.minters.base import Credentials, Minter, MintRequest
from providers.base import SignInResult

__all__ = ["MinterConformance"]

Events = Callable[[], list[Mapping[str, Any]]]


class MinterConformance:
    """Behaviour every minter shares."""

    def test_is_a_minter(self, minter: Minter) -> None:
        assert isinstance(minter.name, str) and minter.name
        assert callable(minter.mint)

    def test_mint_returns_credentials_for_the_requested_lifetime(
        self, minter: Minter, identity: SignInResult, assigned: MintRequest
    ) -> None:
        before = datetime.now(UTC)
        credentials = minter.mint(identity, assigned)
        assert isinstance(credentials, Credentials)
        assert 16 <= len(credentials.access_key_id) <= 128
        assert credentials.secret_access_key and credentials.session_token
        lifetime = credentials.expiration - before
        wanted = timedelta(seconds=assigned.duration_seconds)
        assert wanted - timedelta(seconds=30) <= lifetime <= wanted + timedelta(seconds=30)
        document = credentials.to_process_json()
        assert document["Version"] == 1 and str(document["Expiration"]).endswith("Z")

    def test_every_mint_is_audited_once_without_a_secret(
        self, minter: Minter, identity: SignInResult, assigned: MintRequest, audit_events: Events
    ) -> None:
        before = len(audit_events())
        credentials = minter.mint(identity, assigned)
        new = audit_events()[before:]
        assert len(new) == 1
        assert not new[0].get("errorCode")
        text = json.dumps(new, default=str)
        assert credentials.secret_access_key not in text
        assert credentials.session_token not in text
        assert credentials.secret_access_key not in repr(credentials)
        assert credentials.session_token not in repr(credentials)

    def test_a_role_not_held_is_refused_and_the_refusal_audited(
        self,
        minter: Minter,
        identity: SignInResult,
        unassigned: MintRequest,
        audit_events: Events,
    ) -> None:
        before = len(audit_events())
        with pytest.raises(StsError) as refused:
            minter.mint(identity, unassigned)
        assert refused.value.code == "AccessDenied"
        assert "\n" not in str(refused.value)
        assert [e.get("errorCode") for e in audit_events()[before:]] == ["AccessDenied"]

    @pytest.mark.parametrize("beyond", ["below-sts-minimum", "above-role-maximum"])
    def test_durations_out_of_range_are_refused_never_clamped(
        self,
        minter: Minter,
        identity: SignInResult,
        assigned: MintRequest,
        role_maximum: int,
        beyond: str,
    ) -> None:
        seconds = 899 if beyond == "below-sts-minimum" else role_maximum + 1
        with pytest.raises(StsError) as refused:
            minter.mint(identity, dataclasses.replace(assigned, duration_seconds=seconds))
        assert refused.value.code == "ValidationError"

    def test_nothing_is_handed_out_when_the_audit_cannot_be_written(
        self, broken_minter: Minter, identity: SignInResult, assigned: MintRequest
    ) -> None:
        with pytest.raises(AuditError):
            broken_minter.mint(identity, assigned)
