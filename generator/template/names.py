"""Logical ids: built in one place from stable parts.

Renaming a logical id makes CloudFormation replace the live resource (a new table, a new user
pool), so these names are a public interface: change them only on purpose, with a major version.
"""

from __future__ import annotations

from troposphere import Ref, Select, Split, Sub

from generator.model.limits import MAX_LOGICAL_ID
from generator.model.patterns import lazy

_NOT_ALNUM = lazy(r"[^A-Za-z0-9]")


def logical_id(*parts: str | int) -> str:
    """``logical_id("foodstore", "Table")`` -> ``FoodstoreTable``; ``("PrivateSubnet", 2)`` -> ``PrivateSubnet2``."""
    name = "".join(_capitalized(_NOT_ALNUM.sub("", str(part))) for part in parts)
    if not name or len(name) > MAX_LOGICAL_ID:
        raise ValueError(f"logical id {name!r} must be 1-{MAX_LOGICAL_ID} alphanumeric characters")
    return name


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def unique_name(purpose: str, prefix: str = "") -> Sub:
    """``<prefix>ecsapi-<purpose>-<stack uuid>``: unique in the account (as CloudFront requires of
    origin access control and policy names) and short whatever the stack's name.

    A stack name may have 128 characters ("CreateStack", AWS CloudFormation API Reference), so
    ``${AWS::StackName}-users`` can break a 128-character name limit; the stack id's UUID (its third
    ``/``-separated part) has 36, so these take ``len(prefix) + len(purpose) + 44``.
    """
    return Sub(f"{prefix}ecsapi-{purpose}-${{StackUuid}}", StackUuid=Select(2, Split("/", Ref("AWS::StackId"))))
