"""Whatever the person's email or subject, the derived names satisfy AWS's rules."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from broker.minters.aws_names import derived_name
from tests.minter_support import identity

AWS_NAME = re.compile(r"^[\w+=,.@-]+$", re.ASCII)


@settings(max_examples=200, deadline=None)
@given(person=st.text(min_size=1, max_size=120), limit=st.sampled_from([32, 64]))
def test_derived_names_always_fit(person: str, limit: int) -> None:
    name = derived_name(identity(email=person).claims, limit)
    assert 2 <= len(name) <= limit
    assert AWS_NAME.match(name)
