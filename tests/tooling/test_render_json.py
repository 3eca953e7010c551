"""render.to_json writes the bytes the standard library's indenting encoder wrote before it (the
golden files were made with that encoder), for every shipped variant and for the awkward values a
template can hold; what it cannot write fails loudly instead of changing shape."""

from __future__ import annotations

import json

import pytest

from generator.template.openapi import build_openapi
from generator.template.stack import build_template
from generator.tooling.render import to_json
from tests.support.templates import VARIANTS


def stdlib_json(data) -> str:
    """What to_json returned up to 3.0.0."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variants_template_and_openapi_document_encode_as_the_standard_library_did(variant, release):
    config = VARIANTS[variant]
    template = build_template(config, release).to_dict()
    openapi = build_openapi(config, release)
    assert to_json(template) == stdlib_json(template)
    assert to_json(openapi) == stdlib_json(openapi)


@pytest.mark.parametrize("value", [
    {"b": 1, "a": {"d": [], "c": {}}, "A": [[], {}, [{}]]},  # key order is code point order; empty containers inline
    {"text": "naïve €uro 🚀 \u2028 \x7f", "control": "\x00\x01\x1f\t\n\r\b\f", "quote": "\"\\/</script>"},
    {"ints": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1], "flags": [True, False, None]},
    {"floats": [0.5, 1.0, -0.0, 99.9, 1e16, 1.5e300, 0.0001]},
    {"é": 1, "e": 2, "z": 3, "É": 4, "😀": 5, "ｚ": 6},
    [],
    "just a string",
])
def test_awkward_values_encode_as_the_standard_library_did(value):
    assert to_json(value) == stdlib_json(value)


def test_floats_below_1e_minus_4_are_written_without_an_exponent():
    # The one known difference in what both encoders accept (templates carry no floats): pinned so
    # that an orjson upgrade which changes it is noticed.
    assert to_json([1e-05]) == "[\n  0.00001\n]\n"
    assert stdlib_json([1e-05]) == "[\n  1e-05\n]\n"


@pytest.mark.parametrize("value", [{1: "int key"}, {("a", "b"): "tuple key"}, {"big": 2**64}, {"object": object()}])
def test_values_json_cannot_hold_as_they_are_raise_type_error(value):
    with pytest.raises(TypeError):
        to_json(value)
