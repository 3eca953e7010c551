"""The one error type a user sees: which field is wrong, what it was, and what is allowed."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value that cannot produce a deployable stack.

    ``field`` is a dotted path such as ``services[1].cpu``; the message always says what is allowed,
    so the CLI can print it as-is and the user knows the fix without reading code.
    """

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: {value!r} is not valid; {allowed}")

    def within(self, prefix: str) -> ConfigError:
        """The same error with its field placed under ``prefix`` (``services[1]`` + ``cpu``)."""
        return ConfigError(f"{prefix}.{self.field}", self.value, self.allowed)
