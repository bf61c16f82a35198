"""A writer process for the replica tests: appends audit events and prints each one answered.

``python -m tests.storage_writer URL COUNT TAG`` appends COUNT events tagged TAG to the audit
chain in the database at URL, printing ``TAG-i`` (flushed) after each append returns — the
moment a broker replica would answer the call.
"""

from __future__ import annotations

import sys

from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import open_database


def main(url: str, count: int, tag: str) -> None:
    database = open_database(url, pool_size=2)
    log = SqlAuditLog(database)
    for i in range(count):
        event_id = f"{tag}-{i}"
        log.append({"eventName": "AssumeRole", "eventID": event_id})
        print(event_id, flush=True)
    database.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
