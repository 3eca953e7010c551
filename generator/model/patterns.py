"""Regular expressions compiled at their first use, not when their module is imported.

Python's ``re.compile`` parses and compiles a pattern in Python code: the ~35 module-level patterns
of the model and template layers took ~5% of a cold ``ecsapi template`` (cProfile, 2026-12-07),
and most of them (secret and certificate ARNs, domain names, Cognito identifiers, ...) check
settings the default stack does not have. ``lazy(regex)`` is a stand-in with the methods those
modules call (``match``, ``fullmatch``, ``search``, ``sub``, and any other ``re.Pattern``
attribute through :meth:`LazyPattern.__getattr__`), so a pattern is compiled only by the run that
uses it, and only once.
"""

from __future__ import annotations

import re


class LazyPattern:
    """``re.compile(regex, flags)``, done at the first call of one of its methods."""

    __slots__ = ("_compiled", "_flags", "_regex")

    def __init__(self, regex: str, flags: int = 0) -> None:
        self._regex = regex
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if this is the first use)."""
        if self._compiled is None:
            self._compiled = re.compile(self._regex, self._flags)
        return self._compiled

    def match(self, string: str, *positions: int) -> re.Match[str] | None:
        return self.compiled.match(string, *positions)

    def fullmatch(self, string: str, *positions: int) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, *positions)

    def search(self, string: str, *positions: int) -> re.Match[str] | None:
        return self.compiled.search(string, *positions)

    def sub(self, replacement, string: str, count: int = 0) -> str:
        return self.compiled.sub(replacement, string, count)

    def __getattr__(self, name: str):
        # Only for what the class does not define: pattern, flags, groupindex, findall, split ...
        if name.startswith("_"):  # e.g. copy's probes before __init__ ran: never the pattern's
            raise AttributeError(name)
        return getattr(self.compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._regex!r}{f', {self._flags!r}' if self._flags else ''})"


def lazy(regex: str, flags: int = 0) -> LazyPattern:
    """A pattern used like ``re.compile(regex, flags)``'s, compiled when first used."""
    return LazyPattern(regex, flags)
