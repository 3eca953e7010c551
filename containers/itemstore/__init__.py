"""itemstore: the HTTP service behind each ecsapi route — one DynamoDB table of JSON items.

``create_app`` is the Flask application factory; gunicorn loads it as ``itemstore:create_app()``
with the settings in :mod:`itemstore.gunicorn_conf`.
"""


def create_app(config=None):
    """The Flask app (see :func:`itemstore.app.create_app`)."""
    # Imported here so that `python -m itemstore.healthcheck` does not load Flask and botocore.
    from itemstore.app import create_app as factory

    return factory(config)


__all__ = ["create_app"]
