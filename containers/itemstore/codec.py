"""JSON <-> DynamoDB attribute values, exact for numbers, checked against DynamoDB's limits.

Numbers never pass through float: JSON numbers are parsed as ``Decimal`` and stored as the canonical
decimal string DynamoDB itself returns (no exponent, no trailing zeros), and numbers read back are
written into the JSON text as DynamoDB sent them.
"""

from __future__ import annotations

import json
import re
from decimal import Context, Decimal
from json.encoder import encode_basestring_ascii as _quote  # the C string encoder json.dumps uses

# Where dynalite (the tests' DynamoDB) is more lenient than DynamoDB, the service checks DynamoDB's
# rules itself, so a body dynalite would store is never one DynamoDB refuses in production.
#
# Numbers (Amazon DynamoDB Developer Guide, "Supported data types and naming rules", Number): up to
# 38 digits of precision; positive from 1E-130 to 9.9999999999999999999999999999999999999E+125,
# negative from -9.9999999999999999999999999999999999999E+125 to -1E-130, and zero.
MAX_NUMBER_DIGITS = 38
MIN_NUMBER_EXPONENT = -130
MAX_NUMBER_EXPONENT = 125
# Nesting (Developer Guide, "Constraints in Amazon DynamoDB", formerly "Limits"/"Quotas",
# Attributes: nested attribute depth): maps and lists at most 32 levels deep, the item's own
# attributes counting as level 1.
MAX_DEPTH = 32
# Attribute names (Developer Guide, "Supported data types and naming rules", Naming rules): "at least
# one character long and less than 64 KB in size", UTF-8. dynalite stores an empty name; DynamoDB
# refuses it. Applied to the names of the item's attributes and to the keys of nested maps alike.
MAX_NAME_BYTES = 64 * 1024 - 1
# Sets (SS, NS, BS) and binary (B), which DynamoDB refuses empty (sets) or allows only as non-key
# values (binary), never come out of JSON: arrays become lists (L), which may be empty, and strings
# become S. Empty strings are allowed (non-key attributes); the key is the id, which is never empty.
_CONTEXT = Context(prec=MAX_NUMBER_DIGITS, Emin=-999999, Emax=999999)
# A JSON number, as JSON (RFC 8259) spells it: DynamoDB's canonical N strings always match.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
# A Decimal's str() that is already DynamoDB's spelling: no exponent, no leading or trailing zero,
# not "-0". Up to 38 characters it has at most 38 digits and lies well inside 1E-130 ... 9.9E+125,
# so canonical_number can return it as it is (the common case: 8.5, 120, -2.25).
_CANONICAL_NUMBER = re.compile(r"-?[1-9][0-9]*(?:\.[0-9]*[1-9])?|-?0\.[0-9]*[1-9]|0")


class InvalidItem(ValueError):
    """The body cannot be stored as a DynamoDB item; the message says why, for the client."""


def _reject_constant(name: str):
    raise InvalidItem(f"{name} is not a JSON number")


# One decoder for every request: json.loads with keyword arguments builds a new decoder and scanner
# on each call, which cost as much as the parse of a small item.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant)


def parse_json(body: bytes):
    """Parse a JSON document, numbers as Decimal. Raises InvalidItem for anything that is not JSON."""
    try:
        # What json.loads does with bytes: UTF-8, -16 or -32 by the first bytes, lone surrogates kept.
        return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except InvalidItem:
        raise
    except RecursionError:
        raise InvalidItem("the JSON document is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise InvalidItem(f"the body is not valid JSON: {error}") from None


def canonical_number(number: Decimal) -> str:
    """DynamoDB's own spelling of a number, after checking it fits DynamoDB's limits."""
    text = str(number)
    if len(text) <= MAX_NUMBER_DIGITS and _CANONICAL_NUMBER.fullmatch(text):
        return text
    return _checked_number(number)


def _checked_number(number: Decimal) -> str:
    """canonical_number worked out from the digits and exponent, for every number."""
    if not number.is_finite():
        raise InvalidItem(f"{number} is not a number DynamoDB can store")
    if not number:
        return "0"
    sign, digits, exponent = number.as_tuple()
    significant = len(digits)
    while digits[significant - 1] == 0:  # trailing zeros are not significant digits
        significant -= 1
    if significant > MAX_NUMBER_DIGITS:
        raise InvalidItem(
            f"a number has {significant} significant digits; DynamoDB stores at most {MAX_NUMBER_DIGITS}"
        )
    if not MIN_NUMBER_EXPONENT <= number.adjusted() <= MAX_NUMBER_EXPONENT:
        raise InvalidItem(
            "a number is outside DynamoDB's range (magnitude 1E-130 to 9.9999999999999999999999999999999999999E+125)"
        )
    # Exact: at most 38 significant digits fit the context, so normalize() only drops trailing zeros.
    number = number.normalize(_CONTEXT)
    return format(number, "f")


def _check_string(text: str) -> str:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidItem("a string holds an unpaired surrogate (\\ud800-\\udfff), which is not Unicode text") from None
    return text


def _check_name(name: str) -> str:
    """An attribute name or a map key, checked against DynamoDB's naming rules."""
    if not name:
        raise InvalidItem("an attribute name is empty; DynamoDB names are at least one character")
    # 4 bytes per character at most: only a name this long can be over the limit.
    if len(name) * 4 > MAX_NAME_BYTES and len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidItem(f"an attribute name is longer than {MAX_NAME_BYTES} bytes (UTF-8); DynamoDB "
                          "names are less than 64 KB")
    return _check_string(name)


def to_attribute_value(value, depth: int = 0) -> dict:
    """One parsed JSON value as a DynamoDB AttributeValue."""
    kind = type(value)
    if kind is str:
        return {"S": _check_string(value)}
    if kind is Decimal:
        return {"N": canonical_number(value)}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if depth >= MAX_DEPTH:
        raise InvalidItem(f"the item nests lists and objects more than {MAX_DEPTH} levels deep")
    if kind is dict:
        return {"M": {_check_name(k): to_attribute_value(v, depth + 1) for k, v in value.items()}}
    if kind is list:
        return {"L": [to_attribute_value(v, depth + 1) for v in value]}
    raise InvalidItem(f"cannot store a {kind.__name__}")  # not reached for parsed JSON


def to_item(document: dict) -> dict:
    """A parsed JSON object as a DynamoDB item (a map of attribute names to AttributeValues)."""
    return {_check_name(k): to_attribute_value(v, 1) for k, v in document.items()}


def encode_item(document: dict) -> tuple[str, str]:
    """A parsed JSON object as two texts, from one walk: the item's attribute values as DynamoDB's
    JSON (the bytes ``json.dumps(to_item(document))`` writes, for the PutItem body) and the item as
    the API's JSON (``item_to_json(to_item(document))``, what a later GET returns).

    Raises InvalidItem as to_item does.
    """
    wire: list[str] = []
    api: list[str] = []
    if document:
        _encode_map(document, 1, wire, api)
        return "".join(wire), "".join(api)
    return "{}", "{}"


def _encode_map(document: dict, depth: int, wire: list, api: list) -> None:
    wire_sep = api_sep = "{"
    for name, member in document.items():
        quoted = _quote(_check_name(name))
        wire.append(wire_sep + quoted + ": ")
        api.append(api_sep + quoted + ":")
        _encode_value(member, depth, wire, api)
        wire_sep, api_sep = ", ", ","
    wire.append("}")
    api.append("}")


def _encode_value(value, depth: int, wire: list, api: list) -> None:
    # The same checks, in the same order, as to_attribute_value; json.dumps' spelling for the wire.
    kind = type(value)
    if kind is str:
        text = _quote(_check_string(value))
        wire.append('{"S": ' + text + "}")
        api.append(text)
    elif kind is Decimal:
        text = canonical_number(value)  # digits, '-' and '.': nothing to escape
        wire.append('{"N": "' + text + '"}')
        api.append(text)
    elif kind is bool:
        wire.append('{"BOOL": true}' if value else '{"BOOL": false}')
        api.append("true" if value else "false")
    elif value is None:
        wire.append('{"NULL": true}')
        api.append("null")
    elif depth >= MAX_DEPTH:
        raise InvalidItem(f"the item nests lists and objects more than {MAX_DEPTH} levels deep")
    elif kind is dict:
        if value:
            wire.append('{"M": ')
            _encode_map(value, depth + 1, wire, api)
            wire.append("}")
        else:
            wire.append('{"M": {}}')
            api.append("{}")
    elif kind is list:
        if value:
            wire_sep, api_sep = '{"L": [', "["
            for member in value:
                wire.append(wire_sep)
                api.append(api_sep)
                _encode_value(member, depth + 1, wire, api)
                wire_sep, api_sep = ", ", ","
            wire.append("]}")
            api.append("]")
        else:
            wire.append('{"L": []}')
            api.append("[]")
    else:
        raise InvalidItem(f"cannot store a {kind.__name__}")  # not reached for parsed JSON


def _number_text(text: str) -> str:
    # DynamoDB sends canonical decimals, which are JSON numbers already; anything else is re-spelled.
    return text if _JSON_NUMBER.match(text) else format(Decimal(text), "f")


def _write(value: dict, out: list) -> None:
    # A list of pieces joined once at the end: the cheapest way to build the text in CPython.
    (kind, inner), = value.items()
    if kind == "S":
        out.append(_quote(inner))
    elif kind == "N":
        out.append(_number_text(inner))
    elif kind == "M":
        if not inner:
            out.append("{}")
            return
        sep = "{"
        for name, member in inner.items():
            out.append(sep)
            out.append(_quote(name))
            out.append(":")
            _write(member, out)
            sep = ","
        out.append("}")
    elif kind == "L":
        if not inner:
            out.append("[]")
            return
        sep = "["
        for member in inner:
            out.append(sep)
            _write(member, out)
            sep = ","
        out.append("]")
    elif kind == "BOOL":
        out.append("true" if inner else "false")
    elif kind == "NULL":
        out.append("null")
    elif kind == "SS":
        out.append("[" + ",".join(_quote(s) for s in inner) + "]")
    elif kind == "NS":
        out.append("[" + ",".join(_number_text(n) for n in inner) + "]")
    elif kind == "B":  # base64 text on DynamoDB's wire (bytes if decoded), base64 text in JSON
        out.append(_quote(_base64(inner)))
    elif kind == "BS":
        out.append("[" + ",".join(_quote(_base64(b)) for b in inner) + "]")
    else:
        raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def _base64(data: bytes | str) -> str:
    if type(data) is str:  # as DynamoDB sent it
        return data
    import base64

    return base64.b64encode(data).decode("ascii")


def item_to_json(item: dict) -> str:
    """A DynamoDB item as JSON text (ASCII, numbers exactly as stored)."""
    out: list[str] = []
    _write({"M": item}, out)
    return "".join(out)
