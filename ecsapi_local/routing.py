"""Route selection as API Gateway HTTP APIs do it, over route keys parsed by the model's one parser
(:func:`generator.model.routes.parse_route_key`).

"Routing API requests" (Amazon API Gateway Developer Guide, "Create routes for HTTP APIs"): API
Gateway picks the route with the most specific match, by these priorities:

1. a full match of route and method (no greedy variable);
2. a match of a route with a greedy path variable (``{proxy+}``);
3. the ``$default`` route;

and with none, answers ``404 {"message":"Not Found"}``. ``ANY`` matches the methods not defined for
that route (a resource with ``GET`` and ``ANY`` sends GET to ``GET``, POST to ``ANY``).

What the guide leaves to examples, decided here and tested (tests/local/gateway/test_own_routes.py):

- among several full matches, the more specific one wins: segment by segment from the left, fixed
  text over a variable (``/pets/dog/1`` over ``/pets/dog/{id}``); among greedy routes, the longer
  fixed prefix wins (``/pets/{proxy+}`` over ``/{proxy+}``);
- a greedy variable catches one or more segments (``/pets/{proxy+}`` does not match ``/pets``);
- a variable never matches an empty segment, so ``/orders/`` (a trailing slash) does not match
  ``/orders/{id}`` nor ``/orders``: it goes to a greedy route or ``$default``;
- each segment is percent-decoded before it is compared (API Gateway "decodes URL-encoded request
  parameters"), and an encoded ``%2F`` stays inside its segment;
- ``HEAD`` is a method of its own: a ``GET`` route does not take it (``ANY`` does);
- the most specific resource is chosen first, then its own method or its ``ANY``: with
  ``ANY /pets/dog`` and ``GET /pets/{id}``, ``GET /pets/dog`` goes to ``ANY /pets/dog`` (the guide
  does not show this case; "ANY matches the methods not defined for that resource" reads so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

from generator.model.routes import Segment, parse_route_key

ANY_METHOD = "ANY"

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry(Generic[T]):
    method: str
    segments: tuple[Segment, ...]
    target: T

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].greedy

    def specificity(self) -> tuple:
        """Larger is more specific: fixed segments from the left count before variables; for greedy
        routes, a longer fixed prefix first."""
        return (len(self.segments), tuple(0 if s.variable else 1 for s in self.segments))


def split_path(path: str) -> tuple[str, ...]:
    """``/orders/a%2Fb/x`` -> ``("orders", "a/b", "x")``: the raw path split on ``/``, each segment
    percent-decoded as UTF-8. ``/`` -> ``()``; a trailing slash leaves an empty last segment."""
    if path in ("", "/"):
        return ()
    return tuple(unquote(part, errors="replace") for part in path[1:].split("/"))


def _matches(entry: _Entry, segments: Sequence[str]) -> bool:
    pattern = entry.segments
    if entry.greedy:
        fixed = pattern[:-1]
        if len(segments) <= len(fixed):
            return False
        head = segments[: len(fixed)]
    else:
        if len(segments) != len(pattern):
            return False
        fixed, head = pattern, segments
    for want, got in zip(fixed, head, strict=True):
        if want.variable:
            if not got:
                return False
        elif want.text != got:
            return False
    return True


class RouteTable(Generic[T]):
    """Route keys -> targets; :meth:`select` finds the target API Gateway would pick."""

    def __init__(self, routes: Iterable[tuple[str, T]]) -> None:
        self.default: T | None = None
        self.entries: list[_Entry[T]] = []
        for key, target in routes:
            method, segments = parse_route_key(key, "RouteKey")
            if segments is None:
                self.default = target
            else:
                self.entries.append(_Entry(method, segments, target))
        # Most specific first; a stable sort keeps the given order among equals (which the
        # model's route_shape check makes impossible for real templates).
        self.entries.sort(key=lambda e: e.specificity(), reverse=True)

    def select(self, method: str, raw_path: str) -> T | None:
        """The target of the route API Gateway selects for ``method`` on ``raw_path`` (undecoded,
        without the query), else None (404)."""
        segments = split_path(raw_path)
        for greedy in (False, True):
            resources: dict[tuple, list[_Entry[T]]] = {}
            for entry in self.entries:  # most specific first; dicts keep that order
                if entry.greedy is greedy and _matches(entry, segments):
                    resources.setdefault(_shape(entry.segments), []).append(entry)
            for routes in resources.values():
                chosen = next((r for r in routes if r.method == method), None) or \
                    next((r for r in routes if r.method == ANY_METHOD), None)
                if chosen is not None:
                    return chosen.target
        return self.default


def _shape(segments: tuple[Segment, ...]) -> tuple:
    """A resource whatever its variables are named: ``/a/{x}`` and ``/a/{y}`` are one."""
    return tuple((s.greedy, None) if s.variable else (False, s.text) for s in segments)
