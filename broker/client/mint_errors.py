"""STS's refusals of a profile's session length, reworded for the person who set it.

Why: STS (ours and AWS's) words a bad ``DurationSeconds`` for API callers ("1 validation error
detected: Value '129600' at 'durationSeconds' ... Member must have value less than or equal to
43200"). Someone running ``aws s3 ls --profile X`` needs to know which setting of theirs to
change; the STS code stays on the error for scripts and tests.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from broker.config.toml_names import toml_key
from broker.errors import StsError

if TYPE_CHECKING:
    from broker.client.profiles import Profile

__all__ = ["worded_for_people"]

_BOUND = re.compile(
    r"durationSeconds.*Member must have value (less|greater) than or equal to (\d+)"
)


def worded_for_people(error: StsError, profile: Profile) -> StsError:
    """``error`` reworded when it is about the profile's duration; otherwise ``error`` itself."""
    text = error.message
    where = f"{profile.role} in {profile.account}"
    fix = (
        f"set duration in [profiles.{toml_key(profile.name)}] (`broker config validate` checks it)"
    )
    bound = _BOUND.search(text)
    if bound and bound.group(1) == "less":
        reason = f"longer than STS allows for {where} ({bound.group(2)} s at most)"
    elif bound:
        reason = f"shorter than STS allows ({bound.group(2)} s at least)"
    elif "MaxSessionDuration" in text:
        reason = f"longer than the maximum session of {where}"
    elif "role chaining" in text:
        reason = "longer than the 1 hour allowed for a role reached through another role"
    else:
        return error
    return StsError(
        f"profile {profile.name}: a {profile.duration} s session is {reason}; {fix}",
        code=error.code,
    )
