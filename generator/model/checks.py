"""The checks every configuration type shares: each raises :class:`ConfigError` naming the field,
the value and what is allowed."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from generator.model.errors import ConfigError
from generator.model.patterns import LazyPattern, lazy

ENV_NAME = lazy(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


def one_of(field_name: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(field_name, value, f"allowed: {', '.join(map(str, allowed))}")


def int_in(field_name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(field_name, value, f"must be a whole number from {low} to {high}")


def flag(field_name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(field_name, value, "must be true or false")


def as_enum(field_name: str, value: object, kind: type[enum.Enum]) -> enum.Enum:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise ConfigError(field_name, value, f"allowed: {allowed}") from None


def string_pairs(field_name: str, value: object, key_pattern: LazyPattern, what: str, max_length: int = 256) -> tuple:
    """A mapping or pairs -> a sorted tuple of (str, str) pairs, so output order never varies."""
    items = value.items() if isinstance(value, Mapping) else value
    try:
        pairs = tuple(sorted((k, v) for k, v in items))
    except (TypeError, ValueError):
        raise ConfigError(field_name, value, f"must be a mapping of {what} to strings") from None
    for key, text in pairs:
        if not isinstance(key, str) or not key_pattern.match(key):
            raise ConfigError(f"{field_name}.{key}", key, f"{what} must match {key_pattern.pattern}")
        if not isinstance(text, str) or len(text) > max_length:
            raise ConfigError(f"{field_name}.{key}", text, f"must be a string of at most {max_length} characters")
    return pairs


def strings(field_name: str, value: object, what: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    """A list of strings (or one string) -> a tuple, each a non-empty string without NUL."""
    items = (value,) if isinstance(value, str) else value
    try:
        items = tuple(items)
    except TypeError:
        raise ConfigError(field_name, value, f"must be a list of {what}") from None
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item or "\0" in item:
            raise ConfigError(f"{field_name}[{index}]", item, f"must be a non-empty string ({what})")
    if not items and not allow_empty:
        raise ConfigError(field_name, list(items), f"give at least one ({what})")
    return items
