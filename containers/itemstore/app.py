"""The Flask application factory."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from flask import Flask, Response
from werkzeug.exceptions import NotFound
from werkzeug.routing import RequestRedirect

from itemstore import drain, dynamo, errors, items
from itemstore.contract import HEALTH_DRAINING, HEALTH_OK, HEALTH_PATH
from itemstore.settings import DEFAULTS, Settings, from_environment


class ItemStoreFlask(Flask):
    """Flask, except that a path the URL map would redirect is a 404 like any unknown path.

    werkzeug answers ``<prefix>`` (no trailing '/') and ``//`` in a path with a 308 redirect, and
    Flask sends routing redirects as they are, an HTML body, without calling the error handlers.
    The API has no such paths to redirect to, and every error it sends is JSON.
    """

    def raise_routing_exception(self, request):
        if isinstance(request.routing_exception, RequestRedirect):
            raise NotFound()
        super().raise_routing_exception(request)


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app: defaults, then the environment, then ``config`` (tests pass a mapping here).

    Raises settings.SettingsError, naming the variable, when a setting is missing or invalid.
    """
    app = ItemStoreFlask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(from_environment())
    if config is not None:
        app.config.from_mapping(config)
    settings = Settings.from_mapping(app.config)

    # Under gunicorn, the app logs through gunicorn's error log (stderr -> CloudWatch).
    gunicorn_logger = logging.getLogger("gunicorn.error")
    if gunicorn_logger.handlers:
        app.logger.handlers = gunicorn_logger.handlers
        app.logger.setLevel(gunicorn_logger.level)

    errors.register_error_handlers(app)
    dynamo.init_app(app, settings)
    app.register_blueprint(items.bp, url_prefix=settings.item_path_prefix)

    health_body = json.dumps({"status": HEALTH_OK})

    @app.get(HEALTH_PATH)
    def health() -> Response:
        # Liveness only: a DynamoDB outage must not make ECS replace every healthy task.
        left = drain.seconds_left()
        if left is None:
            return Response(health_body, mimetype="application/json")
        # Draining after SIGTERM: still 200, the task serves until the drain ends (contract.HEALTH_PATH).
        body = {"status": HEALTH_DRAINING, "drain_seconds_left": round(left, 1)}
        return Response(json.dumps(body), mimetype="application/json")

    return app
