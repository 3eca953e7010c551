"""The item routes: ``GET`` and ``PUT`` on ``<ITEM_PATH_PREFIX>/<id>``."""

from __future__ import annotations

from flask import Blueprint, Response, request

from itemstore import codec, contract
from itemstore.contract import MAX_ID_BYTES, MAX_ITEM_BYTES
from itemstore.dynamo import get_table
from itemstore.errors import ApiError

JSON = "application/json"

bp = Blueprint("items", __name__)


def _check_id(item_id: str) -> None:
    if len(item_id) * 4 > MAX_ID_BYTES and len(item_id.encode("utf-8")) > MAX_ID_BYTES:
        raise ApiError(contract.ERROR_INVALID_ID, f"The id is longer than {MAX_ID_BYTES} bytes (UTF-8).")


def _json_response(text: str) -> Response:
    return Response(text, status=200, mimetype=JSON)


# `<prefix>/` names an item with an empty id, which DynamoDB cannot key. `<prefix>` alone (the
# collection) is no route: there is no listing, so it is a 404 like any unknown path (werkzeug's
# redirect to `<prefix>/` becomes that 404 in app.ItemStoreFlask).
@bp.route("/", methods=["GET", "PUT"], strict_slashes=True)
def empty_id() -> Response:
    raise ApiError(contract.ERROR_INVALID_ID, "The id is empty: use <prefix>/<id>.")


@bp.get("/<item_id>")
def get_item(item_id: str) -> Response:
    _check_id(item_id)
    item = get_table().get(item_id)
    if item is None:
        raise ApiError(contract.ERROR_ITEM_NOT_FOUND, "No item has this id.")
    return _json_response(codec.item_to_json(item))


def _read_body(req) -> bytes:
    limit = MAX_ITEM_BYTES
    too_large = ApiError(contract.ERROR_ITEM_TOO_LARGE, f"The body exceeds DynamoDB's item size limit of {limit} bytes.")
    if req.content_length is not None and req.content_length > limit:
        raise too_large
    # Read at most one byte past the limit: a chunked body has no Content-Length to check.
    environ = req.environ
    if "wsgi.input_terminated" in environ:
        # The server ends the stream at the body's end (gunicorn does, chunked or not): werkzeug's
        # req.stream is then this same stream (the app sets no MAX_CONTENT_LENGTH), minus the
        # per-request wrapper lookups.
        body = environ["wsgi.input"].read(limit + 1)
    else:
        body = req.stream.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


@bp.put("/<item_id>")
def put_item(item_id: str) -> Response:
    _check_id(item_id)
    req = request._get_current_object()  # one context lookup instead of one per attribute
    # The exact header most clients send needs no parsing; any other spelling is parsed.
    if req.environ.get("CONTENT_TYPE") != JSON and (
            req.mimetype != JSON or req.mimetype_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8")):
        raise ApiError(contract.ERROR_UNSUPPORTED_MEDIA_TYPE, "Send the item as Content-Type: application/json (UTF-8).")
    body = _read_body(req)
    table = get_table()
    try:
        document = codec.parse_json(body)
        if type(document) is not dict:
            raise codec.InvalidItem("the body must be a JSON object")
        key = table.settings.table_key
        if key in document and document[key] != item_id:
            raise codec.InvalidItem(f"the body's {key!r} must be the id in the path ({item_id!r}) or absent")
        document[key] = item_id
        # One walk gives both the PutItem body's attribute values and the answer (what a GET returns).
        attribute_values, answer = codec.encode_item(document)
    except codec.InvalidItem as error:
        raise ApiError(contract.ERROR_INVALID_ITEM, str(error)) from None
    table.put_encoded(attribute_values)
    return _json_response(answer)
