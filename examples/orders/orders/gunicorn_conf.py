"""gunicorn's settings: listen on $PORT (ECS and make local set it), on every interface in the
container (BIND_HOST, default 0.0.0.0; make local sets 127.0.0.1); stop within the task's stop timeout."""

import os

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = 4
worker_class = "gthread"
graceful_timeout = 20
accesslog = "-"
control_socket_disable = True
