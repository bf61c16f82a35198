"""How much work one solver query may do, counted so the answer does not depend on the machine.

A wall-clock budget makes the answer a function of the load: the same question comes back
"unknown" on a busy machine and decided on a quiet one. z3's resource limit (``rlimit``)
counts the solver's own steps instead, so a query either finishes inside it or runs out of it
whatever else the machine is doing. Two things keep the count itself reproducible:

* every query is built in a z3 context of its own (``own_context``): in a shared context the
  terms of earlier queries change the numbering of new ones, and with it the order of the
  search and the steps it takes (the same query measured 2.5 to 10 million units depending on
  what the process had solved before; in a fresh context, always the same figure);
* the limit applies to each ``check`` from where the context's counter stands, so a query's
  budget is its own.

A wall-clock limit stays only as an outer safety net (``SAFETY_NET_MS``), far beyond what the
resource limit allows on a slow machine, for a solver step that does not count units. Whichever
limit stops the solver, the question is reported undecided, never answered.

The default (``SOLVER_RLIMIT``) was chosen from measurements with z3 5.4 on the repository's own
policies, each query in its own context: the demo organization's roles and the benchmark's
generated policies need at most about 20,000 units a query, the property tests' generated
policies at most 7 million, and the heaviest query of the tests (a bucket policy opened from
one account to everyone, compared with the old one) 2.5 million, and up to 18 million when
the tests change z3's random seed. 100 million leaves that last one more than five times the
room; on the 2-core machine we measured, z3 counts 2 to 4 million units a CPU second, so a
query that cannot be decided costs under a minute. Another z3 release may count differently,
which is why the budget is an option of the commands (``--solver-rlimit``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import z3
import z3.z3 as z3_core

__all__ = [
    "MAX_RLIMIT",
    "QUICK_RLIMIT",
    "SAFETY_NET_MS",
    "SOLVER_RLIMIT",
    "bounded_solver",
    "gave_up",
    "own_context",
    "units_spent",
]

SOLVER_RLIMIT = 100_000_000
"""Resource units one query may spend before it is reported undecided."""

QUICK_RLIMIT = 2_000_000
"""The first, short try ``analyze`` gives every caller shape (well above what a typical query
needs), so one hard shape does not stall a policy another shape already proves open."""

MAX_RLIMIT = 2**32 - 1
"""z3 keeps the limit in 32 bits: a larger one would silently become another."""

SAFETY_NET_MS = 300_000
"""Wall-clock backstop only: at the measured 2 to 4 million units a CPU second the resource
limit stops a query long before it."""

_ONE_QUERY_AT_A_TIME = threading.Lock()


@contextmanager
def own_context() -> Iterator[None]:
    """Build and solve one query in a fresh z3 context, so its step count, and so whether it
    fits the budget, depends on the query alone.

    The analyzer's modules build terms in z3's default context; for the duration of the block
    that default is a new, empty context (z3's Python API keeps it in one module variable and
    makes it on first use). A lock keeps two threads from swapping it under each other.
    """
    with _ONE_QUERY_AT_A_TIME:
        saved = z3_core._main_ctx
        z3_core._main_ctx = z3.Context()
        try:
            yield
        finally:
            z3_core._main_ctx = saved


def bounded_solver(rlimit: int) -> z3.Solver:
    """A solver stopped after ``rlimit`` resource units (or the wall-clock safety net)."""
    if not 0 < rlimit <= MAX_RLIMIT:
        raise ValueError(f"the solver's resource limit must be 1 to {MAX_RLIMIT:,}, got {rlimit}")
    solver = z3.Solver()
    solver.set("rlimit", rlimit)
    solver.set("timeout", SAFETY_NET_MS)
    return solver


def units_spent(solver: z3.Solver) -> int:
    """The resource units counted so far in the solver's context (one query's, under
    ``own_context``)."""
    statistics = solver.statistics()
    if "rlimit count" not in statistics.keys():
        return 0
    return int(statistics.get_key_value("rlimit count"))


def gave_up(solver: z3.Solver, kind: str, rlimit: int) -> str:
    """The reason for an ``unknown``, naming the budget that ran out and how to raise it.

    z3 reports a spent resource limit as "max. resource limit exceeded" or, when the limit
    stops it inside a preprocessing step, as "canceled"; the counter tells them apart from the
    wall-clock safety net."""
    why = solver.reason_unknown()
    if "resource limit" in why or units_spent(solver) >= rlimit:
        units = "unit" if rlimit == 1 else "units"
        detail = f"its budget of {rlimit:,} resource {units} ran out; raise --solver-rlimit"
    elif "timeout" in why or "canceled" in why:
        detail = f"the {SAFETY_NET_MS // 1000} s wall-clock safety net ran out first"
    else:
        detail = f"z3 says: {why or 'unknown'}"
    return f"cannot decide: the solver gave up on {kind} callers ({detail})"
