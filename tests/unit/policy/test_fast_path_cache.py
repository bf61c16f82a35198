"""The fast path caches per (action, resource, caller) which statements can still apply; the
same request shape with other context values, evaluated again and again, must keep deciding
exactly as the explaining path does."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from broker.policy import compile_policy_set, evaluate
from tests.unit.policy.test_properties import SETTINGS, contexts, policy_sets, requests


@SETTINGS
@given(policy_sets, requests, st.lists(contexts, min_size=2, max_size=5))
def test_cached_shape_with_other_contexts_agrees_with_explained(policies, request, others) -> None:
    compiled = compile_policy_set(policies)
    for _ in range(2):  # a second round is answered from the cache
        for context in others:
            variant = replace(request, context={**request.context, **context})
            assert compiled.decide(variant) == evaluate(policies, variant).decision
