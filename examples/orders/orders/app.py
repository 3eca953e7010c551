"""The order service's HTTP API (Flask application factory; gunicorn loads ``create_app()``).

Routes (the stack file, ../orders.toml, says who may call each; API Gateway checks the token and
its scopes before a request gets here, so the service only reads the caller's claims):

- ``GET /orders``: the caller's orders;
- ``POST /orders``: place an order (scope ``orders/write``); answers 201 with the order and a
  receipt, an HMAC-SHA256 of the order id under the ``RECEIPT_KEY`` secret;
- ``GET /orders/{orderId}``: one order of the caller's;
- ``DELETE /orders/{orderId}``: cancel an order (scope ``orders/admin``);
- ``GET /orders/{orderId}/events``: what happened to the order, oldest first (the events table's
  sort key);
- ``GET /healthz``: the container's health check (not routed by API Gateway).

Tables: ``ORDERS_TABLE`` (partition key ``orderId``) and ``ORDER_EVENTS_TABLE`` (partition key
``orderId``, sort key ``at``); boto3 finds the endpoint (``AWS_ENDPOINT_URL_DYNAMODB`` locally) and
the region from the environment. Every error is a JSON body ``{"message": ...}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from decimal import Decimal

import boto3
from flask import Flask, Request, g, jsonify, request
from werkzeug.exceptions import HTTPException

MAX_ITEMS = 20
MAX_QUANTITY = 1000


def create_app(config: dict | None = None) -> Flask:
    """The app. Settings: ``ORDERS_TABLE``, ``ORDER_EVENTS_TABLE``, ``RECEIPT_KEY`` from the
    environment, overridden by ``config`` (tests)."""
    app = Flask(__name__)
    app.config.update(
        ORDERS_TABLE=os.environ.get("ORDERS_TABLE"),
        ORDER_EVENTS_TABLE=os.environ.get("ORDER_EVENTS_TABLE"),
        RECEIPT_KEY=os.environ.get("RECEIPT_KEY"),
    )
    app.config.update(config or {})
    missing = [name for name in ("ORDERS_TABLE", "ORDER_EVENTS_TABLE", "RECEIPT_KEY") if not app.config[name]]
    if missing:
        raise RuntimeError(f"set {', '.join(missing)} in the environment")
    dynamodb = boto3.resource("dynamodb")
    orders = dynamodb.Table(app.config["ORDERS_TABLE"])
    events = dynamodb.Table(app.config["ORDER_EVENTS_TABLE"])
    receipt_key = app.config["RECEIPT_KEY"].encode()

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return jsonify(message=error.description), error.code

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.before_request
    def caller():
        g.caller = _caller(request)

    @app.get("/orders")
    def list_orders():
        found = orders.scan(FilterExpression="#owner = :owner", ExpressionAttributeNames={"#owner": "owner"},
                            ExpressionAttributeValues={":owner": g.caller})["Items"]
        return jsonify(orders=sorted((_plain(o) for o in found), key=lambda o: o["createdAt"]))

    @app.post("/orders")
    def place_order():
        body = request.get_json(silent=True)
        items = body.get("items") if isinstance(body, dict) else None
        if not _valid_items(items):
            return jsonify(message=f"give items: a list of 1-{MAX_ITEMS} {{sku, quantity}} with quantity "
                                   f"1-{MAX_QUANTITY}"), 400
        order_id = uuid.uuid4().hex
        now = int(time.time() * 1000)
        order = {"orderId": order_id, "owner": g.caller, "items": items, "status": "placed", "createdAt": now}
        orders.put_item(Item=order)
        _event(events, order_id, "placed", now)
        receipt = hmac.new(receipt_key, order_id.encode(), hashlib.sha256).hexdigest()
        return jsonify(order=order, receipt=receipt), 201, {"Location": f"/orders/{order_id}"}

    @app.get("/orders/<order_id>")
    def get_order(order_id: str):
        return jsonify(order=_plain(_owned(orders, order_id)))

    @app.delete("/orders/<order_id>")
    def cancel_order(order_id: str):
        _owned(orders, order_id, any_owner=True)
        orders.delete_item(Key={"orderId": order_id})
        _event(events, order_id, "cancelled", int(time.time() * 1000))
        return "", 204

    @app.get("/orders/<order_id>/events")
    def order_events(order_id: str):
        found = events.query(KeyConditionExpression="orderId = :id",
                             ExpressionAttributeValues={":id": order_id}, ScanIndexForward=True)["Items"]
        return jsonify(events=[_plain(e) for e in found])

    return app


def _caller(req: Request) -> str:
    """The token's ``sub`` (API Gateway verified the token; a route without auth has none: anonymous)."""
    header = req.headers.get("Authorization", "")
    token = header.split()[-1] if header else ""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims.get("sub") or claims.get("client_id") or "anonymous")
    except (IndexError, ValueError):
        return "anonymous"


def _valid_items(items) -> bool:
    return (isinstance(items, list) and 1 <= len(items) <= MAX_ITEMS and all(
        isinstance(i, dict) and set(i) == {"sku", "quantity"} and isinstance(i["sku"], str) and 0 < len(i["sku"]) <= 64
        and isinstance(i["quantity"], int) and not isinstance(i["quantity"], bool) and 1 <= i["quantity"] <= MAX_QUANTITY
        for i in items))


def _owned(orders, order_id: str, any_owner: bool = False) -> dict:
    from flask import abort

    order = orders.get_item(Key={"orderId": order_id}).get("Item")
    if order is None or (not any_owner and order["owner"] != g.caller):
        abort(404, description=f"no order {order_id}")
    return order


def _event(events, order_id: str, what: str, at: int) -> None:
    events.put_item(Item={"orderId": order_id, "at": at, "event": what})


def _plain(value):
    """DynamoDB's Decimals as ints, for JSON."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return int(value)
    return value
