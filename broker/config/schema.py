"""Strict conversion of TOML tables into frozen dataclasses, collecting every problem at once.

Why not a schema library: the tables are small, and this keeps the headless core import-light
while still rejecting unknown keys and wrong types with ``file: key: message`` lines.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from broker.errors import ConfigError

__all__ = ["ConfigIssue", "ConfigIssues", "from_table"]

T = TypeVar("T")


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a configuration file: where, and what to do about it."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


class ConfigIssues(ConfigError):
    """Several configuration problems, reported together (first line is the summary)."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = list(issues)
        count = len(self.issues)
        head = str(self.issues[0]) if self.issues else "invalid configuration"
        more = f" (and {count - 1} more; run `broker config validate`)" if count > 1 else ""
        super().__init__(head + more)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    if origin in (tuple, list):
        return "list"
    if origin in (dict, Mapping):
        return "table"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, file: str, key: str, issues: list[ConfigIssue]) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        concrete = [arg for arg in args if arg is not type(None)]
        if len(concrete) == 1:
            return _convert(value, concrete[0], file, key, issues)
        for arg in args:
            if arg is type(None):
                continue
            trial: list[ConfigIssue] = []
            converted = _convert(value, arg, file, key, trial)
            if not trial:
                return converted
        issues.append(
            ConfigIssue(file, key, f"expected {_type_name(tp)}, got {type(value).__name__}")
        )
        return None
    if origin is typing.Literal:
        allowed = get_args(tp)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            issues.append(ConfigIssue(file, key, f"must be one of {choices}, got {value!r}"))
        return value
    if origin is tuple:
        if not isinstance(value, list):
            issues.append(ConfigIssue(file, key, f"expected a list, got {type(value).__name__}"))
            return ()
        (item_tp, *_rest) = get_args(tp) or (Any,)
        return tuple(
            _convert(item, item_tp, file, f"{key}[{i}]", issues) for i, item in enumerate(value)
        )
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, dict):
            issues.append(ConfigIssue(file, key, f"expected a table, got {type(value).__name__}"))
            return {}
        args = get_args(tp)
        val_tp = args[1] if len(args) == 2 else Any
        return {k: _convert(v, val_tp, file, f"{key}.{k}", issues) for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            issues.append(ConfigIssue(file, key, f"expected a table, got {type(value).__name__}"))
            return None
        return _from_table(tp, value, file, key, issues)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool):
        issues.append(ConfigIssue(file, key, "expected an integer, got a boolean"))
        return value
    if isinstance(tp, type) and not isinstance(value, tp):
        issues.append(
            ConfigIssue(file, key, f"expected {_type_name(tp)}, got {type(value).__name__}")
        )
    return value


@functools.cache
def _shape(cls: Any) -> tuple[dict[str, dataclasses.Field[Any]], dict[str, Any]]:
    """A dataclass's fields and resolved type hints, computed once per class (large configs
    convert thousands of tables of the same class)."""
    return {f.name: f for f in dataclasses.fields(cls)}, get_type_hints(cls)


def _from_table(
    cls: type[T], table: Mapping[str, Any], file: str, prefix: str, issues: list[ConfigIssue]
) -> T | None:
    fields, hints = _shape(typing.cast(Any, cls))  # a class is hashable; mypy cannot see it
    kwargs: dict[str, Any] = {}
    before = len(issues)
    where = f"{prefix}." if prefix else ""
    for key in table:
        if key.replace("-", "_") not in fields:
            known = ", ".join(sorted(fields))
            issues.append(ConfigIssue(file, f"{where}{key}", f"unknown key (known: {known})"))
    for name, field in fields.items():
        toml_key = name if name in table else name.replace("_", "-")
        if toml_key in table:
            kwargs[name] = _convert(
                table[toml_key], hints[name], file, f"{where}{toml_key}", issues
            )
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            issues.append(ConfigIssue(file, f"{where}{name}", "required key is missing"))
    if len(issues) != before:
        return None
    return cls(**kwargs)


def from_table(
    cls: type[T], table: Mapping[str, Any], *, file: str, prefix: str = ""
) -> tuple[T | None, list[ConfigIssue]]:
    """Build ``cls`` from a TOML table, rejecting unknown keys and wrong types.

    Args:
        cls: a frozen dataclass whose field types say what each key holds.
        table: the parsed TOML table.
        file: shown in every issue, so the user knows which file to edit.
        prefix: the table's own key path (``providers.corp``), prefixed to issue keys.

    Returns:
        The instance (``None`` when there were problems) and every problem found.
    """
    issues: list[ConfigIssue] = []
    return _from_table(cls, table, file, prefix, issues), issues
