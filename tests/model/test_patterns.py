"""generator.model.patterns: a lazy pattern answers as re.compile's would, and compiles only when used."""

from __future__ import annotations

import copy
import re

import pytest

from generator.model.patterns import lazy

SAMPLES = ["", "abc", "ABC-123", "arn:aws:kms:eu-west-1:123456789012:key/abc", "a b\nc", "Secret_Token"]


@pytest.mark.parametrize("regex, flags", [(r"^[a-z]+$", 0), (r"(?i)secret|token", 0), (r"b.c", re.DOTALL),
                                          (r"(?P<word>[A-Z]+)-(\d+)", 0)])
def test_a_lazy_pattern_answers_as_the_compiled_one(regex, flags):
    pattern, compiled = lazy(regex, flags), re.compile(regex, flags)
    for text in SAMPLES:
        for method in ("match", "fullmatch", "search"):
            ours, theirs = getattr(pattern, method)(text), getattr(compiled, method)(text)
            assert (ours and ours.group(0), ours and ours.groups()) == (theirs and theirs.group(0),
                                                                        theirs and theirs.groups())
        assert pattern.sub("_", text) == compiled.sub("_", text)
        assert pattern.findall(text) == compiled.findall(text)  # through __getattr__
    assert (pattern.pattern, pattern.flags, pattern.groupindex) == (compiled.pattern, compiled.flags,
                                                                    compiled.groupindex)


def test_a_lazy_pattern_compiles_at_its_first_use_only():
    pattern = lazy(r"^x+$")
    assert pattern._compiled is None
    assert pattern.match("xx")
    first = pattern._compiled
    assert first is not None and pattern.compiled is first


def test_a_bad_pattern_fails_at_its_first_use():
    pattern = lazy(r"(unclosed")
    with pytest.raises(re.error):
        pattern.match("x")


def test_a_lazy_pattern_copies_without_compiling():
    pattern = lazy(r"^y$")
    copied = copy.deepcopy(pattern)
    assert copied.match("y") and pattern._compiled is None

