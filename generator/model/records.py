"""``dataclass``: the standard library's ``@dataclass`` / ``@dataclass(frozen=True)``, built without compiling.

On Python 3.11 and 3.12, ``dataclasses`` compiles every method it writes from source text with a
separate ``exec``: six per frozen class (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__``, ``__delattr__``), and compiling costs in proportion to the text (about 0.14 million
instructions per field of an ``__init__``). For the ~33 record classes a cold ``ecsapi template``
defines, those compilations were the largest share of our own import time (callgrind: ~120 million
of ~710 million instructions before the first round, ~70 million after it; docs/performance.md).

Here ``dataclasses`` still reads the class (its fields, ``__dataclass_fields__``,
``__dataclass_params__``, ``__match_args__``), but is asked to write no method, so it compiles
nothing; the methods are then made without compiling anything either:

- ``__repr__``, ``__eq__``, ``__hash__`` and a frozen class's ``__setattr__``/``__delattr__`` are
  closures over the class's field names: the same few lines for every class.
- ``__init__`` needs a real signature (its parameters, defaults, keyword-only marker and
  annotations are what ``inspect.signature`` and Python's own argument errors show). Its body is
  the same for every class, ``_initialize(self, locals())``, so its code object is one template,
  renamed per class with ``CodeType.replace`` (the parameter names and counts); the defaults are
  the function's ``__defaults__``/``__kwdefaults__``, as in any function. ``_initialize`` then does
  what dataclasses' generated lines do, in field order: a default factory is called when its
  parameter was not given (or always, for a field not in ``__init__``), a frozen class assigns
  through ``object.__setattr__``, and ``__post_init__`` runs last.

The result behaves as ``dataclasses.dataclass`` would make it: the same ``__init__`` signature,
argument errors and field order rule, the same repr text (``"..."`` for a recursive one), equality
on the same field tuple (only with an instance of the very same class, else ``NotImplemented``),
the same hash, ``FrozenInstanceError`` on assignment, ``__dataclass_params__`` and
``__dataclass_fields__`` as dataclasses sets them (so ``dataclasses.fields``, ``replace`` and
``asdict`` work), the same generated docstring, and a method the class defines itself is kept.
tests/model/test_records.py compares the two on every kind of class the options allow.

A class that inherits from a dataclass, or has an ``InitVar`` field, is made by ``dataclasses``
itself (its inheritance checks and init-only variables are not worth repeating here; none of ours
has either). From Python 3.13 on, ``dataclasses`` compiles a class's methods in one ``exec`` and is
used as is.
"""

from __future__ import annotations

import _thread
import abc
import dataclasses
import inspect
import sys
import types
from typing import dataclass_transform

# Python 3.13 compiles all of a class's methods at once (CPython gh-114198): nothing to save there.
_BATCHED = sys.version_info >= (3, 13)
_MISSING = dataclasses.MISSING


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls=None, /, *, frozen: bool = False):
    """``@dataclass`` or ``@dataclass(frozen=True)`` with the standard defaults otherwise (``init``,
    ``repr`` and ``eq`` on, no ordering, no ``unsafe_hash``); ``frozen`` defaults to False, as there."""

    def wrap(cls):
        return _process(cls, frozen)

    return wrap if cls is None else wrap(cls)


def _process(cls, frozen: bool):
    if _BATCHED or _inherits_a_dataclass(cls) or _mentions_initvar(cls):
        return dataclasses.dataclass(cls, frozen=frozen)
    # What the class body defines itself, read before dataclasses adds anything (as it does).
    own = dict(cls.__dict__)
    cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    params = cls.__dataclass_params__
    params.init = params.repr = params.eq = True  # what @dataclass(frozen=...) records: it is one now
    params.frozen = frozen
    fields = dataclasses.fields(cls)  # no ClassVar (and, checked above, no InitVar): the real fields
    init = _init(cls, fields, frozen)  # made (and its field order checked) even when the class has its own
    if "__init__" not in own:
        _add(cls, init)
    if "__repr__" not in own:
        _add(cls, _repr([f.name for f in fields if f.repr]))
    if "__eq__" not in own:
        _add(cls, _eq(tuple(f.name for f in fields if f.compare)))
    if frozen:
        for guard in _frozen_guards(cls, frozenset(f.name for f in fields)):
            if guard.__name__ in own:
                raise TypeError(f"Cannot overwrite attribute {guard.__name__} in class {cls.__name__}")
            _add(cls, guard)
    # dataclasses' hash rule for eq=True without unsafe_hash: a hash the class defines itself is
    # kept (a __hash__ of None next to the class's own __eq__ is Python's doing, not the class's);
    # otherwise a frozen class hashes its compared fields and a mutable one is unhashable.
    class_hash = own.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
    if not explicit_hash:
        if frozen:
            cls.__hash__ = _named(cls, _hash(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))))
        else:
            cls.__hash__ = None
    if not own.get("__doc__"):
        # dataclasses wrote one from the signature it saw, which had no __init__ yet: write it again.
        try:
            text_signature = str(inspect.signature(cls)).replace(" -> None", "")
        except (TypeError, ValueError):
            text_signature = ""
        cls.__doc__ = cls.__name__ + text_signature
    abc.update_abstractmethods(cls)  # as dataclasses does last: a method added here may implement one
    return cls


def _inherits_a_dataclass(cls) -> bool:
    return any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:])


def _mentions_initvar(cls) -> bool:
    """Whether an annotation of the class body may be an ``InitVar`` (a false alarm only means the
    class is made by dataclasses itself)."""
    for annotation in cls.__dict__.get("__annotations__", {}).values():
        if isinstance(annotation, str):
            if "InitVar" in annotation:
                return True
        elif annotation is dataclasses.InitVar or isinstance(annotation, dataclasses.InitVar):
            return True
    return False


def _add(cls, method) -> None:
    setattr(cls, method.__name__, _named(cls, method))


def _named(cls, method):
    method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
    method.__module__ = cls.__module__
    return method


class _Factory:
    """The default an ``__init__`` parameter with a default factory shows: ``<factory>``, as there."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _template(self):
    # Every record's __init__ is this code object, with the class's parameters (see the docstring).
    _initialize(self, locals())  # noqa: F821 - a global of each __init__'s own namespace


def _init(cls, fields, frozen: bool):
    """The ``__init__`` dataclasses would write for ``fields`` (the order rule included)."""
    positional = [f for f in fields if f.init and not f.kw_only]
    keyword = [f for f in fields if f.init and f.kw_only]
    seen_default = False
    for f in positional:
        if f.default is not _MISSING or f.default_factory is not _MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    self_name = "__dataclass_self__" if "self" in cls.__dataclass_fields__ else "self"
    names = (self_name, *(f.name for f in positional), *(f.name for f in keyword))
    code = _template.__code__.replace(
        co_argcount=1 + len(positional), co_kwonlyargcount=len(keyword), co_nlocals=len(names),
        co_varnames=names, co_name="__init__", co_qualname=f"{cls.__qualname__}.__init__")
    namespace = {"__name__": cls.__module__, "_initialize": _initializer(cls, fields, frozen), "locals": locals}
    positional_defaults = tuple(d for d in map(_default, positional) if d is not _MISSING)
    init = types.FunctionType(code, namespace, "__init__", positional_defaults or None)
    keyword_defaults = {f.name: _default(f) for f in keyword if _default(f) is not _MISSING}
    init.__kwdefaults__ = keyword_defaults or None
    init.__annotations__ = {**{f.name: f.type for f in (*positional, *keyword)}, "return": None}
    return init


def _default(f):
    if f.default is not _MISSING:
        return f.default
    return _FACTORY if f.default_factory is not _MISSING else _MISSING


def _initializer(cls, fields, frozen: bool):
    """What the body of dataclasses' ``__init__`` does, given the parameters' values by name."""
    steps = []  # (name, given: read the parameter, factory or None), in field order
    for f in fields:
        factory = None if f.default_factory is _MISSING else f.default_factory
        if f.init or factory is not None:  # a non-init field without a factory keeps its class default
            steps.append((f.name, f.init, factory))
    assign = object.__setattr__ if frozen else setattr
    post_init = hasattr(cls, "__post_init__")

    def _initialize(self, values: dict) -> None:
        for name, given, factory in steps:
            if not given:
                value = factory()
            else:
                value = values[name]
                if factory is not None and value is _FACTORY:
                    value = factory()
            assign(self, name, value)
        if post_init:
            self.__post_init__()

    return _initialize


def _frozen_guards(cls, names: frozenset[str]):
    """A frozen class's ``__setattr__`` and ``__delattr__``: refuse a field, and anything at all on
    an instance of the class itself (a subclass may set its own attributes), as there."""

    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __setattr__, __delattr__


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
