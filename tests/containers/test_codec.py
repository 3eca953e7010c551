"""JSON <-> DynamoDB attribute values: exact numbers, DynamoDB's limits, the JSON text written."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from itemstore import codec


@pytest.mark.parametrize(("given", "canonical"), [
    ("1.50", "1.5"), ("1e2", "100"), ("100", "100"), ("-0.0", "0"), ("-5e3", "-5000"), ("1e-7", "0.0000001"),
    ("1E-130", "0." + "0" * 129 + "1"),
    ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
    ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
])
def test_numbers_are_spelled_as_dynamodb_returns_them(given, canonical):
    # The spellings on the right are what dynalite returned for the numbers on the left.
    assert codec.canonical_number(Decimal(given)) == canonical


@pytest.mark.parametrize("number", ["1E-131", "1E+126", "123456789012345678901234567890123456789", "NaN", "Infinity"])
def test_numbers_outside_dynamodb_limits_are_refused(number):
    with pytest.raises(codec.InvalidItem):
        codec.canonical_number(Decimal(number))


def test_trailing_zeros_are_not_significant_digits():
    assert codec.canonical_number(Decimal("1" * 38 + "0" * 10)) == "1" * 38 + "0" * 10


def test_parse_json_keeps_numbers_exact():
    assert codec.parse_json(b'{"f": 0.1, "i": 12345678901234567890}') == {
        "f": Decimal("0.1"), "i": Decimal("12345678901234567890")}


@pytest.mark.parametrize("body", [b"NaN", b"[Infinity]", b"{", b"\xff", b"[" * 50000])
def test_parse_json_refuses_what_is_not_json(body):
    with pytest.raises(codec.InvalidItem):
        codec.parse_json(body)


def test_to_item_maps_every_json_type():
    assert codec.to_item(codec.parse_json(b'{"s": "x", "n": 1.0, "b": false, "z": null, "l": [1], "m": {"k": "v"}}')) == {
        "s": {"S": "x"}, "n": {"N": "1"}, "b": {"BOOL": False}, "z": {"NULL": True},
        "l": {"L": [{"N": "1"}]}, "m": {"M": {"k": {"S": "v"}}},
    }


def test_nesting_is_limited_to_32_levels():
    ok = {"a": json.loads("[" * 31 + "]" * 31)}
    codec.to_item(ok)
    with pytest.raises(codec.InvalidItem):
        codec.to_item({"a": json.loads("[" * 32 + "]" * 32)})


def test_unpaired_surrogates_are_refused_in_values_and_names():
    with pytest.raises(codec.InvalidItem):
        codec.to_item({"s": "\ud800"})
    with pytest.raises(codec.InvalidItem):
        codec.to_item({"\udfff": "x"})


def test_item_to_json_writes_numbers_as_stored_and_escapes_strings():
    item = {"n": {"N": "0.0000001"}, "s": {"S": 'a"\\\n\u00e9\U0001f355'}, "l": {"L": []}, "m": {"M": {}}}
    text = codec.item_to_json(item)
    assert text.isascii()
    assert '"n":0.0000001' in text
    assert json.loads(text, parse_float=Decimal) == {"n": Decimal("0.0000001"), "s": 'a"\\\n\u00e9\U0001f355', "l": [], "m": {}}


def test_item_to_json_writes_sets_and_binary_written_by_other_clients():
    item = {"ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "b": {"B": b"\x00\x01"}, "bs": {"BS": [b"\xff"]}}
    assert json.loads(codec.item_to_json(item)) == {"ss": ["a", "b"], "ns": [1, 2.5], "b": "AAE=", "bs": ["/w=="]}


def test_item_to_json_passes_binary_through_as_dynamodb_sends_it():
    # On DynamoDB's JSON wire, B and BS values are base64 text already.
    item = {"b": {"B": "AAE="}, "bs": {"BS": ["/w==", "AA=="]}}
    assert json.loads(codec.item_to_json(item)) == {"b": "AAE=", "bs": ["/w==", "AA=="]}


def test_item_to_json_respells_a_number_that_is_not_json():
    assert codec.item_to_json({"n": {"N": ".5"}}) == '{"n":0.5}'


@pytest.mark.parametrize("document", [{"": 1}, {"m": {"": 1}}, {"l": [{"": True}]}])
def test_empty_attribute_names_are_refused_at_every_level(document):
    with pytest.raises(codec.InvalidItem, match="name is empty"):
        codec.to_item(document)


@pytest.mark.parametrize("nested", [False, True])
def test_attribute_names_must_be_under_64_kb_of_utf8(nested):
    def item(name):
        return {"m": {name: "v"}} if nested else {name: "v"}

    codec.to_item(item("n" * codec.MAX_NAME_BYTES))
    codec.to_item(item("é" * (codec.MAX_NAME_BYTES // 2)))  # 2 bytes each: 65534 bytes
    with pytest.raises(codec.InvalidItem, match="longer than 65535 bytes"):
        codec.to_item(item("n" * (codec.MAX_NAME_BYTES + 1)))
    with pytest.raises(codec.InvalidItem, match="longer than"):
        codec.to_item(item("é" * (codec.MAX_NAME_BYTES // 2 + 1)))  # 32768 characters, 65536 bytes


def test_json_never_makes_sets_or_binary_so_empty_ones_cannot_be_sent():
    # DynamoDB refuses empty sets; JSON arrays become lists (empty allowed), strings become S.
    assert codec.to_item(codec.parse_json(b'{"a": [], "s": "", "m": {}}')) == {
        "a": {"L": []}, "s": {"S": ""}, "m": {"M": {}}}


@pytest.mark.parametrize("number", ["-1E-130", "-9.9999999999999999999999999999999999999E+125"])
def test_negative_numbers_have_the_same_range(number):
    assert codec.canonical_number(Decimal(number)).startswith("-")
    with pytest.raises(codec.InvalidItem):
        codec.canonical_number(Decimal(number) * 10 if "E+" in number else Decimal(number) / 10)
