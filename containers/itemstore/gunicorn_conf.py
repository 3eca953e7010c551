"""gunicorn settings for the itemstore containers (``gunicorn -c python:itemstore.gunicorn_conf``).

Every value can be overridden from the environment (names in containers/README.md). The task runs
with a read-only root filesystem and a writable /tmp: nothing here writes anywhere else.
"""

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


def _tmp_dir() -> str:
    # The worker heartbeat file is touched constantly; /dev/shm is memory, /tmp is the task's
    # (disk-backed) volume. Both are writable under ReadonlyRootFilesystem.
    for path in ("/dev/shm", "/tmp"):
        if os.path.isdir(path) and os.access(path, os.W_OK):
            return path
    raise RuntimeError("neither /dev/shm nor /tmp is writable; mount a volume at /tmp")


bind = f"0.0.0.0:{_env_int('PORT', 8080)}"

# gthread: each worker is one process with a pool of threads. Requests spend most of their time
# waiting on DynamoDB, so threads give concurrency without a process (and a client, and ~40 MB)
# each. Two workers keep the task serving while one is replaced after a crash.
worker_class = "gthread"
workers = _env_int("GUNICORN_WORKERS", 2)
threads = _env_int("GUNICORN_THREADS", 8)

# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads new connections evenly
# over the workers. With one shared socket, whichever worker wakes first accepts a burst of
# connections: measured with 16 kept-alive connections, often all 16 went to one worker, which
# then ran at one core (its GIL) with eight threads contending for it, ~0.8 ms of CPU per request
# instead of ~0.5 ms, while the other worker idled. A kept-alive proxy connection stays on the
# worker that accepted it, so the initial spread is the spread.
reuse_port = True

# Worst case of one request is bounded by the DynamoDB timeouts and attempts (a few seconds, see
# Settings.worst_case_seconds); a worker silent for longer than this is stuck and is replaced.
timeout = _env_int("GUNICORN_TIMEOUT", 30)

# On SIGTERM (ECS stops a task: SIGTERM, then SIGKILL after the container's stopTimeout, 30 s by
# default) gunicorn stops accepting, lets in-flight requests finish for up to graceful_timeout,
# then exits. Keep it below stopTimeout so the workers are never killed mid-request.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 20)

# Keep-alive: a proxy that reuses idle connections (API Gateway's VPC-link integration does) must
# be the side that closes them; if the server closes an idle connection just as the proxy sends a
# request on it, that request fails (a 5xx at the edge). So the server's idle timeout has to be
# longer than the proxy's. API Gateway documents no idle timeout for HTTP API private
# integrations; AWS proxies in front of targets use 60 s (ALB's default) or 350 s (NLB), so 75 s
# clears the common case. With gthread an idle kept-alive connection costs a poller entry, not a
# thread, so a long keep-alive is cheap; worker_connections bounds the total.
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)
worker_connections = _env_int("GUNICORN_WORKER_CONNECTIONS", 1000)

worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or _tmp_dir()

# gunicorn 25.1+ opens a control socket under $HOME/.gunicorn by default; the root filesystem is
# read-only and nothing here uses gunicornc.
control_socket_disable = True

# A percent-encoded 2048-byte id is up to 6144 bytes of request line; gunicorn's default (4094)
# would refuse it with a non-JSON 400 before the app could answer.
limit_request_line = 8190

# Logs go to stdout/stderr, which the awslogs driver ships to CloudWatch.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# One lean line per request (itemstore.accesslog): combined-log order, the duration in
# microseconds and the X-Amzn-Trace-Id; gunicorn's access_log_format is not used.
logger_class = "itemstore.accesslog.AccessLogger"

# Forwarded headers come from API Gateway, which reaches the task through the VPC link.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# The app is imported in each worker after the fork, so each worker builds its own DynamoDB
# client (botocore connection pools must not be shared across processes).
preload_app = False
