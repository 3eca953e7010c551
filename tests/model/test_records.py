"""generator.model.records.dataclass behaves as the standard library's @dataclass, on every kind of
class its options allow: the same class body is made both ways and the results are compared."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from typing import ClassVar

import pytest

from generator.model import records

CLASS_KINDS = ("plain", "empty", "field options", "own methods", "own eq only", "subclass", "recursive",
               "keyword-only", "not in init", "class variable", "field named self", "own init", "undocumented",
               "post init")


def make(decorator, kind: str, frozen: bool):
    """Classes of one ``kind`` made with ``decorator`` (stdlib or ours): (the class to build, its base)."""

    @decorator(frozen=frozen)
    class Base:
        """A base record."""

        name: str
        size: int = 2
        tags: tuple = ()

    if kind == "plain":
        return Base
    if kind == "empty":

        @decorator(frozen=frozen)
        class Empty:
            pass

        return Empty
    if kind == "field options":

        @decorator(frozen=frozen)
        class Options:
            name: str
            secret: str = dataclasses.field(default="s", repr=False)
            note: str = dataclasses.field(default="n", compare=False)
            weight: int = dataclasses.field(default=1, hash=False)
            kept: list = dataclasses.field(default_factory=list, hash=True, compare=False)

        return Options
    if kind == "own methods":

        @decorator(frozen=frozen)
        class Own:
            name: str

            def __repr__(self) -> str:
                return "own"

            def __eq__(self, other) -> bool:
                return True

            def __hash__(self) -> int:
                return 7

        return Own
    if kind == "own eq only":

        @decorator(frozen=frozen)
        class OwnEq:  # Python sets __hash__ = None here; dataclasses treats that as not the class's own
            name: str

            def __eq__(self, other) -> bool:
                return isinstance(other, OwnEq)

        return OwnEq
    if kind == "subclass":

        @decorator(frozen=frozen)
        class Child(Base):
            extra: int = 5

            def __post_init__(self) -> None:
                if self.size < 0:
                    raise ValueError("size")

        return Child
    if kind == "recursive":

        @decorator(frozen=frozen)
        class Node:
            name: str
            children: list = dataclasses.field(default_factory=list)

        return Node
    if kind == "keyword-only":

        @decorator(frozen=frozen)
        class Keyword:
            name: str
            size: int = dataclasses.field(default=1, kw_only=True)
            label: str = dataclasses.field(kw_only=True)  # required, after one with a default: allowed
            items: list = dataclasses.field(default_factory=list, kw_only=True)

        return Keyword
    if kind == "not in init":

        @decorator(frozen=frozen)
        class Derived:
            name: str
            count: int = dataclasses.field(default=3, init=False)
            seen: list = dataclasses.field(default_factory=lambda: ["made"], init=False)
            unset: str = dataclasses.field(init=False, repr=False, compare=False)

        return Derived
    if kind == "class variable":

        @decorator(frozen=frozen)
        class WithClassVar:
            limit: ClassVar[int] = 10
            name: str

        return WithClassVar
    if kind == "field named self":

        @decorator(frozen=frozen)
        class Selfish:
            name: str
            self: int = 0

        return Selfish
    if kind == "own init":

        @decorator(frozen=frozen)
        class OwnInit:
            name: str

            def __init__(self, name: str, suffix: str = "!") -> None:
                object.__setattr__(self, "name", name + suffix)

        return OwnInit
    if kind == "undocumented":

        @decorator(frozen=frozen)
        class Bare:
            name: str
            size: int = 1
            items: list = dataclasses.field(default_factory=list)

        return Bare
    if kind == "post init":

        @decorator(frozen=frozen)
        class Checked:
            """Derives a field after the others are set."""

            name: str
            upper: str = dataclasses.field(default="", init=False)

            def __post_init__(self) -> None:
                object.__setattr__(self, "upper", self.name.upper())

        return Checked
    raise AssertionError(kind)


def instances(cls, kind: str) -> list:
    """Instances covering equal, unequal and self-containing values."""
    if kind == "empty":
        return [cls(), cls()]
    if kind == "own methods" or kind == "own eq only":
        return [cls("a"), cls("a"), cls("b")]
    if kind == "recursive":
        looped = cls("loop")
        looped.children.append(looped)
        return [cls("a"), cls("a", [cls("b")]), looped]
    if kind == "field options":
        return [cls("a"), cls("a", secret="other", note="other", weight=2), cls("b"), cls("a", kept=[1])]
    if kind == "keyword-only":
        return [cls("a", label="x"), cls("a", label="x", size=2), cls("b", items=[1], label="y")]
    if kind == "field named self":
        return [cls("a"), cls("a", 1), cls(name="b", self=2)]
    if kind in ("not in init", "class variable", "own init", "post init"):
        return [cls("a"), cls("a"), cls("b")]
    if kind == "undocumented":
        return [cls("a"), cls("a", 2), cls("a", 2, [3])]
    return [cls("a"), cls("a", 2), cls("a", 3), cls("b", tags=("x",))]


def outcome(action):
    """What ``action()`` returns, or the type and text of what it raises."""
    try:
        return ("value", action())
    except Exception as error:  # noqa: BLE001 - the failure is what is compared
        return ("raises", type(error), str(error))


# Calls that Python's own argument binding refuses: the error names the class, the parameter and the count.
BAD_CALLS = {
    "no arguments": ((), {}),
    "too many": (("a", 2, (), 4, 5, 6), {}),
    "unknown keyword": (("a",), {"colour": 1}),
    "given twice": (("a",), {"name": "b"}),
}


def observed(cls, kind: str) -> dict:
    """Everything a user can see of ``cls`` and its instances, in a comparable form."""
    made = instances(cls, kind)
    params = cls.__dataclass_params__
    seen = {
        "params": {name: getattr(params, name) for name in ("init", "repr", "eq", "order", "unsafe_hash", "frozen")},
        "fields": [(f.name, f.repr, f.compare, f.hash, f.init) for f in dataclasses.fields(cls)],
        "signature": str(inspect.signature(cls)),
        "init": {"qualname": cls.__init__.__qualname__, "module": cls.__init__.__module__,
                 "annotations": cls.__init__.__annotations__, "defaults": repr(cls.__init__.__defaults__),
                 "keyword defaults": repr(cls.__init__.__kwdefaults__)},
        "bad calls": {name: outcome(lambda args=args, kwargs=kwargs: repr(cls(*args, **kwargs)))
                      for name, (args, kwargs) in BAD_CALLS.items()},
        "state": [outcome(lambda item=item: dict(vars(item))) for item in made if kind != "recursive"],
        "doc": cls.__doc__,
        "match_args": getattr(cls, "__match_args__", None),
        "hash is None": cls.__hash__ is None,
        "repr": [outcome(lambda item=item: repr(item)) for item in made],
        "eq": [[outcome(lambda a=a, b=b: a == b) for b in made] for a in made],
        "ne": [[outcome(lambda a=a, b=b: a != b) for b in made] for a in made],
        "eq other type": [outcome(lambda item=item: item.__eq__(object())) for item in made],
        "hash": [outcome(lambda item=item: hash(item)) for item in made],
        "set": [outcome(lambda item=item: setattr(item, "name", "z")) for item in made],
        "set new": [outcome(lambda item=item: setattr(item, "other", 1)) for item in made],
        "delete": [outcome(lambda item=item: delattr(item, "name")) for item in made],
        "replace": [outcome(lambda item=item: repr(dataclasses.replace(item))) for item in made[:1]],
        "asdict": [outcome(lambda item=item: dataclasses.asdict(item)) for item in made if kind != "recursive"],
    }
    if kind == "subclass":
        seen["post_init"] = outcome(lambda: cls("a", -1))
    return seen


@pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "mutable"])
@pytest.mark.parametrize("kind", CLASS_KINDS)
def test_a_record_class_behaves_as_the_standard_dataclass(kind, frozen):
    theirs = observed(make(dataclasses.dataclass, kind, frozen), kind)
    ours = observed(make(records.dataclass, kind, frozen), kind)
    assert ours == theirs


def test_the_plain_decorator_form_makes_a_mutable_record():
    @records.dataclass
    class Point:
        x: int

    point = Point(1)
    point.x = 2
    assert (repr(point), Point.__hash__, Point.__dataclass_params__.frozen) == ("test_the_plain_decorator_form_"
                                                                                "makes_a_mutable_record.<locals>."
                                                                                "Point(x=2)", None, False)


def test_a_generated_method_carries_the_class_qualified_name():
    @records.dataclass(frozen=True)
    class Named:
        x: int

    assert {Named.__repr__.__qualname__, Named.__eq__.__qualname__, Named.__hash__.__qualname__} == {
        f"{Named.__qualname__}.{name}" for name in ("__repr__", "__eq__", "__hash__")}


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.13 compiles a class's methods at once: stdlib is used")
@pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "mutable"])
def test_a_record_class_compiles_no_source(monkeypatch, frozen):
    # The saving this module exists for: no method is compiled from text, __init__ included.
    compiled = []
    create = dataclasses._create_fn

    def counting(name, *arguments, **options):
        compiled.append(name)
        return create(name, *arguments, **options)

    monkeypatch.setattr(dataclasses, "_create_fn", counting)

    @records.dataclass(frozen=frozen)
    class Counted:
        """A record."""

        x: int
        items: list = dataclasses.field(default_factory=list)

    assert (compiled, Counted(1, [2]).items) == ([], [2])


@pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "mutable"])
def test_a_field_without_default_after_one_with_a_default_is_refused_as_there(frozen):
    def build(decorator):
        try:
            @decorator(frozen=frozen)
            class Misordered:
                size: int = 1
                name: str
        except TypeError as error:
            return str(error)
        return None

    assert build(records.dataclass) == build(dataclasses.dataclass) == "non-default argument 'name' follows default argument"


def test_a_frozen_record_may_not_define_its_own_setattr_as_there():
    def build(decorator):
        try:
            @decorator(frozen=True)
            class Guarded:
                name: str

                def __setattr__(self, name, value):
                    object.__setattr__(self, name, value)
        except TypeError as error:
            return str(error)
        return None

    assert build(records.dataclass) == build(dataclasses.dataclass) == (
        "Cannot overwrite attribute __setattr__ in class Guarded")


def test_a_default_factory_runs_once_per_instance_not_once_per_class():
    @records.dataclass(frozen=True)
    class Holder:
        items: list = dataclasses.field(default_factory=list)

    first, second = Holder(), Holder()
    assert (first.items == second.items == [], first.items is second.items) == (True, False)
