"""DynamoDB tables a service owns: zero or more, each a partition key and an optional sort key."""

from __future__ import annotations

import enum

from generator.model.checks import as_enum
from generator.model.errors import ConfigError
from generator.model.patterns import lazy
from generator.model.records import dataclass

# A table's name in the configuration: it names the logical id (``OrdersOrdersTable``) and the
# container's variable (``ORDERS_TABLE``), so it is kept to what both allow. The deployed table's
# name is CloudFormation's own (unique per stack), read by the container from that variable.
TABLE_NAME = lazy(r"^[a-z][a-z0-9_]{0,31}$")
# AttributeName: 1-255 characters ("AttributeDefinition", Amazon DynamoDB API Reference); kept to
# the characters an expression needs no placeholder for, as 3.0.0's table_key was.
ATTRIBUTE_NAME = lazy(r"^[A-Za-z0-9_.-]{1,255}$")


class KeyType(str, enum.Enum):
    """A key attribute's DynamoDB type: string, number or binary (the only key types DynamoDB takes)."""

    S = "S"
    N = "N"
    B = "B"


@dataclass(frozen=True)
class TableSpec:
    """One on-demand table with point-in-time recovery and encryption at rest, as the item store's."""

    name: str
    """Lower-case letters, digits and '_', 1-32 characters, starting with a letter; unique within the
    service. The container reads the deployed table's name from ``<NAME>_TABLE`` (``ORDERS_TABLE``)."""
    partition_key: str
    """The partition (hash) key attribute, 1-255 of letters, digits, '_', '-', '.'."""
    sort_key: str | None = None
    """The sort (range) key attribute, if any; same form. Default: none."""
    partition_key_type: KeyType = KeyType.S
    """``S``, ``N`` or ``B``. Default S."""
    sort_key_type: KeyType = KeyType.S
    """``S``, ``N`` or ``B``; only with ``sort_key``. Default S."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not TABLE_NAME.match(self.name):
            raise ConfigError(
                "name", self.name, "use 1-32 lower-case letters, digits and '_', starting with a letter",
            )
        for field in ("partition_key", "sort_key"):
            value = getattr(self, field)
            if value is None and field == "sort_key":
                continue
            if not isinstance(value, str) or not ATTRIBUTE_NAME.match(value):
                raise ConfigError(field, value, "use 1-255 letters, digits, '_', '-' or '.'")
        if self.sort_key is not None and self.sort_key == self.partition_key:
            raise ConfigError("sort_key", self.sort_key, "must differ from partition_key")
        object.__setattr__(self, "partition_key_type", as_enum("partition_key_type", self.partition_key_type, KeyType))
        object.__setattr__(self, "sort_key_type", as_enum("sort_key_type", self.sort_key_type, KeyType))
        if self.sort_key is None and self.sort_key_type is not KeyType.S:
            raise ConfigError("sort_key_type", self.sort_key_type.value, "set sort_key too, or leave sort_key_type unset")

    @property
    def logical_name(self) -> str:
        """The table's part of its logical ids, a word per '_'-separated part: ``order_events`` ->
        ``OrderEvents`` (``OrdersOrderEventsTable``). Renaming a table replaces it, data and all."""
        return "".join(part[:1].upper() + part[1:] for part in self.name.split("_") if part)

    @property
    def environment_name(self) -> str:
        """The container's variable that holds the deployed table's name: ``ORDERS_TABLE``."""
        return f"{self.name.upper()}_TABLE"

    def key_schema(self) -> dict:
        """The key, in the shape both CloudFormation and boto3's ``create_table`` take."""
        keys = [(self.partition_key, self.partition_key_type, "HASH")]
        if self.sort_key is not None:
            keys.append((self.sort_key, self.sort_key_type, "RANGE"))
        return {
            "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind.value} for name, kind, _ in keys],
            "KeySchema": [{"AttributeName": name, "KeyType": role} for name, _, role in keys],
        }
