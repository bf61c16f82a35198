"""Remembered session-token verifications: as strict as a fresh ``verify_session``."""

from __future__ import annotations

from datetime import timedelta

from broker.errors import StsError
from broker.sts.session_token import sign_session
from broker.sts.verified_sessions import VerifiedSessions
from tests.unit.sts.test_session_token import NOW, claims, key_file, ring  # noqa: F401


def code(call) -> str | None:  # type: ignore[no-untyped-def]
    try:
        call()
    except StsError as exc:
        return exc.code
    return None


def test_second_call_is_a_hit_with_the_same_answer(ring) -> None:  # noqa: F811
    cache = VerifiedSessions()
    original = claims()
    token, secret = sign_session(ring, original)
    first = cache.verify(ring, token, original.access_key_id, now=NOW)
    second = cache.verify(ring, token, original.access_key_id, now=NOW)
    assert first == second and first[1] == secret and cache.hits == 1


def test_a_hit_is_still_bound_to_its_key_id_and_expiry(ring) -> None:  # noqa: F811
    cache = VerifiedSessions()
    original = claims()
    token, _ = sign_session(ring, original)
    cache.verify(ring, token, original.access_key_id, now=NOW)
    other_id = claims().access_key_id
    assert code(lambda: cache.verify(ring, token, other_id, now=NOW)) == "InvalidClientTokenId"
    later = original.expires_at + timedelta(seconds=1)
    assert code(lambda: cache.verify(ring, token, original.access_key_id, now=later)) == (
        "ExpiredToken"
    )


def test_a_reloaded_ring_without_the_key_refuses_a_remembered_token(key_file, ring) -> None:  # noqa: F811
    cache = VerifiedSessions()
    original = claims()
    token, _ = sign_session(ring, original)
    cache.verify(ring, token, original.access_key_id, now=NOW)
    key_file.ring_source.rotate(now=NOW - timedelta(hours=37))
    later = key_file.ring_source.rotate()
    assert code(lambda: cache.verify(later, token, original.access_key_id, now=NOW)) == (
        "InvalidClientTokenId"
    )
    # Even the old ring object refuses once its key may no longer verify (37 h later).
    gone = NOW + timedelta(hours=40)
    assert code(lambda: cache.verify(ring, token, original.access_key_id, now=gone)) is not None


def test_failures_are_not_remembered_and_the_cache_is_bounded(ring) -> None:  # noqa: F811
    cache = VerifiedSessions(capacity=3)
    original = claims()
    token, _ = sign_session(ring, original)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        assert code(lambda: cache.verify(ring, tampered, original.access_key_id, now=NOW))
    assert len(cache) == 0
    for _ in range(5):
        minted = claims()
        cache.verify(ring, sign_session(ring, minted)[0], minted.access_key_id, now=NOW)
    assert len(cache) <= 3
