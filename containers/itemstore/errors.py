"""The one error shape of the API, and the handler that turns every failure into it.

Every error response is ``{"error": {"code": "<stable snake_case code>", "message": "<for people>"}}``
with ``Content-Type: application/json``. Clients branch on ``code``; ``message`` may change.
"""

from __future__ import annotations

import json

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

# Codes for the statuses that werkzeug/Flask raise on their own (routing, body limits).
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """A failure with a status, a stable code, a message for people and optional headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers=None) -> Response:
    body = json.dumps({"error": {"code": code, "message": message}})
    response = Response(body, status=status, mimetype="application/json")
    if headers:
        response.headers.update(headers)
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer ApiError, every HTTPException and any other exception with the JSON error shape."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.headers)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status < 400:  # a routing redirect is not an error
            return error.get_response()
        headers = {}
        if status == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(sorted(error.valid_methods))
        message = error.description or error.name
        return error_response(status, HTTP_CODES.get(status, f"http_{status}"), message, headers)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # The traceback goes to the log (CloudWatch), never to the client.
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "The server failed to handle the request.")
