"""The one error shape of the API, and the handler that turns every failure into it.

Every error response is ``{"error": {"code": "<stable snake_case code>", "message": "<for people>"}}``
with ``Content-Type: application/json``. Clients branch on ``code``; ``message`` may change. The
codes and their statuses are listed once, in :mod:`itemstore.contract` (ERROR_STATUS).
"""

from __future__ import annotations

import json

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from itemstore import contract

# The code of each status that werkzeug/Flask (routing, body limits) or gunicorn (HTTP parsing,
# itemstore.worker) answer with on their own. ERROR_STATUS gives one status per code, so a
# status not listed here is answered as plain 400 (a client error) or 500 (anything else).
STATUS_CODES: dict[int, str] = {
    400: contract.ERROR_BAD_REQUEST,
    403: contract.ERROR_FORBIDDEN,
    404: contract.ERROR_NOT_FOUND,
    405: contract.ERROR_METHOD_NOT_ALLOWED,
    413: contract.ERROR_ITEM_TOO_LARGE,
    414: contract.ERROR_URI_TOO_LONG,
    415: contract.ERROR_UNSUPPORTED_MEDIA_TYPE,
    417: contract.ERROR_EXPECTATION_FAILED,
    431: contract.ERROR_HEADERS_TOO_LARGE,
    500: contract.ERROR_INTERNAL,
    501: contract.ERROR_NOT_IMPLEMENTED,
    503: contract.ERROR_SERVICE_UNAVAILABLE,
}


class ApiError(Exception):
    """A failure with a stable code (its status comes from contract.ERROR_STATUS), a message for
    people and optional headers."""

    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = contract.ERROR_STATUS[code]  # a KeyError here is a code missing from the contract
        self.code = code
        self.message = message
        self.headers = headers or {}


def status_and_code(status: int) -> tuple[int, str]:
    """The status to answer and its code, for a status some layer below the app chose."""
    if status in STATUS_CODES:
        return status, STATUS_CODES[status]
    return (400, contract.ERROR_BAD_REQUEST) if 400 <= status < 500 else (500, contract.ERROR_INTERNAL)


def error_body(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}})


def error_response(status: int, code: str, message: str, headers=None) -> Response:
    response = Response(error_body(code, message), status=status, mimetype="application/json")
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
        status, code = status_and_code(error.code or 500)
        headers = {}
        if status == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return error_response(status, code, error.description or error.name, headers)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # The traceback goes to the log (CloudWatch), never to the client.
        app.logger.exception("unhandled error")
        return error_response(500, contract.ERROR_INTERNAL, "The server failed to handle the request.")
