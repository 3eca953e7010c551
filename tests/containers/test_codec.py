"""JSON <-> DynamoDB attribute values: exact numbers, DynamoDB's limits, the JSON text written."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


# JSON number literals as a client sends them: integers, fractions, exponents, leading and trailing
# zeros, signs, up to 45 digits (past DynamoDB's 38) and exponents past its range.
NUMBER_LITERALS = st.builds(
    lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
    st.sampled_from(["", "-"]),
    st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,44}", fullmatch=True)),
    st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,45}", fullmatch=True)),
    st.one_of(st.just(""), st.builds(lambda e, n: f"{e}{n}", st.sampled_from(["e", "E", "e+", "E-", "e-"]),
                                     st.integers(0, 140))),
)


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(NUMBER_LITERALS)
def test_the_number_fast_path_spells_and_refuses_as_the_full_rule(literal):
    # canonical_number returns a Decimal's str() as it is when it is already DynamoDB's spelling;
    # everything else goes through the digits-and-exponent rule (_checked_number).
    number = codec.parse_json(literal.encode())
    try:
        expected = codec._checked_number(number)
    except codec.InvalidItem:
        with pytest.raises(codec.InvalidItem):
            codec.canonical_number(number)
    else:
        assert codec.canonical_number(number) == expected


# Text that JSON carries, a lone surrogate (JSON can carry "\\ud800") and characters json.dumps escapes.
TEXTS = st.one_of(st.text(max_size=6), st.lists(st.sampled_from(["a", "\u00e9", "\U0001f355", '"', "\\", "\n", "\ud800"]),
                                               max_size=4).map("".join))
JSON_LEAVES = st.one_of(TEXTS, NUMBER_LITERALS.map(Decimal), st.booleans(), st.none())
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXTS, inner, max_size=4)),
    max_leaves=20)


# 150 documents: derandomized, so every run checks the same set; a bigger one cost CPU in every
# `make test` (400 took ~7 s) without reaching a branch these miss.
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(TEXTS, JSON_VALUES, max_size=6))
def test_encode_item_writes_what_to_item_json_dumps_and_item_to_json_write(document):
    # Lone surrogates, empty names and numbers DynamoDB refuses are generated too:
    # encode_item must refuse exactly what to_item refuses, with the same message.
    try:
        item = codec.to_item(document)
    except codec.InvalidItem as error:
        with pytest.raises(codec.InvalidItem) as raised:
            codec.encode_item(document)
        assert str(raised.value) == str(error)
    else:
        assert codec.encode_item(document) == (json.dumps(item), codec.item_to_json(item))


def test_encode_item_refuses_nesting_past_32_levels_as_to_item_does():
    codec.encode_item({"a": json.loads("[" * 31 + "]" * 31)})
    with pytest.raises(codec.InvalidItem, match="32 levels"):
        codec.encode_item({"a": json.loads("[" * 32 + "]" * 32)})
