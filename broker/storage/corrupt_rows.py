"""A row of the state database that does not read back as the broker wrote it.

Every row is written by the broker's own stores, so a row that does not parse (a JSON column
that is not JSON, a number column holding text, a status outside its set) was changed by
hand, by another program, or by a damaged file. A store refuses it, never guesses at it: the
error names the database, the table and the column and says what to do, and carries none of
the row's values (a signing key's material is secret). The STS answers it as
``InternalFailure`` with the message in the operator's log; the CLI prints it as its one line.
"""

from __future__ import annotations

from broker.errors import ConfigError
from broker.storage.database import Database

__all__ = ["ROW_ERRORS", "corrupt_row"]

ROW_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError)
"""What converting a malformed value raises: ``int('x')``, ``json.loads``, a missing key, a
value of the wrong type, a row of the wrong length (``binascii.Error`` is a ``ValueError``)."""


def corrupt_row(database: Database, table: str, column: str) -> ConfigError:
    """The error for a row of ``table`` whose ``column`` does not read back."""
    return ConfigError(
        f"the state database {database.where} holds a row of {table} whose {column} is not "
        "as the broker writes it (changed outside the broker?); restore the database from a "
        "backup or delete that row, then retry"
    )
