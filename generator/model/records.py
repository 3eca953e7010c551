"""``dataclass``: the standard library's ``@dataclass`` / ``@dataclass(frozen=True)``, built cheaper.

On Python 3.11 and 3.12, ``dataclasses`` compiles every method it writes from source text with a
separate ``exec``: six per frozen class (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__``, ``__delattr__``). For the ~70 classes a cold ``ecsapi template`` defines, those
compilations were about a sixth of the whole run (callgrind: ~120 M of ~710 M instructions; see
docs/performance.md). The three methods that need no compiled signature (``__repr__``, ``__eq__``
and ``__hash__``) are the same few lines for every class, so here they are closures over the
class's field names, made without compiling anything; ``dataclasses`` still writes
``__init__`` (its signature, defaults, ``__post_init__``) and, for a frozen class,
``__setattr__``/``__delattr__``.

The result behaves as ``dataclasses.dataclass`` would make it: the same ``__init__``, the same
repr text (``"..."`` for a recursive one), equality on the same field tuple (only with an instance
of the very same class, else ``NotImplemented``), the same hash, ``FrozenInstanceError`` on
assignment, ``__dataclass_params__`` and ``__dataclass_fields__`` as dataclasses sets them (so
``dataclasses.fields``, ``replace`` and ``asdict`` work), and a method the class defines itself is
kept. tests/model/test_records.py compares the two on every kind of class the options allow.
From Python 3.13 on, ``dataclasses`` compiles a class's methods in one ``exec`` and is used as is.
"""

from __future__ import annotations

import _thread
import dataclasses
import sys
from typing import dataclass_transform

# Python 3.13 compiles all of a class's methods at once (CPython gh-114198): nothing to save there.
_BATCHED = sys.version_info >= (3, 13)


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls=None, /, *, frozen: bool = False):
    """``@dataclass`` or ``@dataclass(frozen=True)`` with the standard defaults otherwise (``init``,
    ``repr`` and ``eq`` on, no ordering, no ``unsafe_hash``); ``frozen`` defaults to False, as there."""

    def wrap(cls):
        return _process(cls, frozen)

    return wrap if cls is None else wrap(cls)


def _process(cls, frozen: bool):
    if _BATCHED:
        return dataclasses.dataclass(cls, frozen=frozen)
    # What the class body defines itself, read before dataclasses adds anything (as it does).
    own = dict(cls.__dict__)
    cls = dataclasses.dataclass(cls, frozen=frozen, repr=False, eq=False)
    params = cls.__dataclass_params__
    params.repr = params.eq = True  # what @dataclass(frozen=...) records: it is one now
    fields = dataclasses.fields(cls)
    if "__repr__" not in own:
        _add(cls, _repr([f.name for f in fields if f.repr]))
    if "__eq__" not in own:
        _add(cls, _eq(tuple(f.name for f in fields if f.compare)))
    # dataclasses' hash rule for eq=True without unsafe_hash: a hash the class defines itself is
    # kept (a __hash__ of None next to the class's own __eq__ is Python's doing, not the class's);
    # otherwise a frozen class hashes its compared fields and a mutable one is unhashable.
    class_hash = own.get("__hash__", dataclasses.MISSING)
    explicit_hash = not (class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in own))
    if not explicit_hash:
        if frozen:
            cls.__hash__ = _named(cls, _hash(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))))
        else:
            cls.__hash__ = None
    return cls


def _add(cls, method) -> None:
    setattr(cls, method.__name__, _named(cls, method))


def _named(cls, method):
    method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
    return method


def _values(names: tuple[str, ...]):
    """A function giving an instance's values of ``names``, as a tuple."""

    def values(self) -> tuple:
        return tuple([getattr(self, name) for name in names])

    return values


def _repr(names: list[str]):
    running: set[tuple[int, int]] = set()  # (instance, thread) being shown: a recursive repr is "..."

    def __repr__(self) -> str:
        key = id(self), _thread.get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            shown = ", ".join([f"{name}={getattr(self, name)!r}" for name in names])
            return f"{self.__class__.__qualname__}({shown})"
        finally:
            running.discard(key)

    return __repr__


def _eq(names: tuple[str, ...]):
    values = _values(names)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash(names: tuple[str, ...]):
    values = _values(names)

    def __hash__(self) -> int:
        return hash(values(self))

    return __hash__
