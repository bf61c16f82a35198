"""JSON Schema (draft 2020-12) for ``config/directory/*.toml``, generated from ``model.py``.

Editors and reviewers use ``config/directory/directory.schema.json``; a test regenerates it
and fails if the committed file is stale (``broker directory schema > ...`` refreshes it). Every
file validates against the one schema: each holds a subset of the top-level sections.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, get_args, get_origin, get_type_hints

from broker.directory.model import FIELD_DOCS, DirectorySpec

__all__ = ["directory_schema"]

_SCALARS: Mapping[Any, str] = {str: "string", int: "integer", bool: "boolean", float: "number"}


def _schema_of(tp: Any) -> dict[str, Any]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        concrete = [a for a in get_args(tp) if a is not type(None)]
        if len(concrete) == 1:  # optional: TOML has no null, the key is simply left out
            return _schema_of(concrete[0])
        return {"anyOf": [_schema_of(a) for a in concrete]}
    if origin is typing.Literal:
        return {"enum": list(get_args(tp))}
    if origin is tuple:
        return {"type": "array", "items": _schema_of(get_args(tp)[0])}
    if origin in (dict, Mapping) or tp is dict:
        return {"type": "object", "additionalProperties": _schema_of(get_args(tp)[1])}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _object(tp)
    return {"type": _SCALARS[tp]}


def _object(cls: type[Any]) -> dict[str, Any]:
    hints = get_type_hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for f in dataclasses.fields(cls):
        prop = _schema_of(hints[f.name])
        doc = FIELD_DOCS.get(f"{cls.__name__}.{f.name}")
        if doc:
            prop = {"description": doc, **prop}
        properties[f.name] = prop
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
        schema = {"description": " ".join(cls.__doc__.split()), **schema}
    if required:
        schema["required"] = required
    return schema


def directory_schema() -> dict[str, Any]:
    """The schema every ``config/directory/*.toml`` file validates against."""
    body = _object(DirectorySpec)
    body.pop("required", None)  # each file holds only some sections
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://access-broker.example.com/schemas/directory.schema.json",
        "title": "Access Broker directory configuration (config/directory/*.toml)",
        **body,
    }
