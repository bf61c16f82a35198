"""The fast path's literal copies of store constants stay equal to the store's own."""

from __future__ import annotations

from broker.client.process import INTENTS_DIR
from broker.store import intents


def test_the_fast_path_looks_for_intents_where_the_store_writes_them() -> None:
    assert INTENTS_DIR == intents.INTENTS_DIR
    assert intents.intent_file_name("profile:dev") == b"profile:dev".hex() + ".json"
