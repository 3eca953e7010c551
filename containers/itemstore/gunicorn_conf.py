"""gunicorn settings for the itemstore containers (``gunicorn -c python:itemstore.gunicorn_conf``).

Every value can be overridden from the environment (names in containers/README.md). The task runs
with a read-only root filesystem and a writable /tmp: nothing here writes anywhere else.

A bad setting stops the server before any worker boots, with one line on stderr that names the
variable and what is allowed, and exit status 2 (CONFIG_ERROR_EXIT): gunicorn's own reports
(a traceback per worker, then "Worker failed to boot") would bury the one line that matters.
"""

import os
import sys

from itemstore import drain
from itemstore.contract import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_PORT,
    ENV_DRAIN_SECONDS,
    ENV_GRACEFUL_TIMEOUT,
    ENV_PORT,
    ENV_REGION,
    GRACEFUL_TIMEOUT_SECONDS,
    MAX_DRAIN_SECONDS,
    MAX_HEADER_FIELD_BYTES,
    MAX_HEADER_FIELDS,
    MAX_REQUEST_LINE_BYTES,
)
from itemstore.settings import Settings, SettingsError, check_no_proxy, from_environment

CONFIG_ERROR_EXIT = 2


def _config_error(message: str):
    print(f"itemstore: configuration error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(CONFIG_ERROR_EXIT)


def _env_int(name: str, default: int, low: int, high: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        _config_error(str(SettingsError(name, value, f"an integer from {low} to {high}")))
    return number


def _tmp_dir() -> str:
    # The worker heartbeat file is touched constantly; /dev/shm is memory, /tmp is the task's
    # (disk-backed) volume. Both are writable under ReadonlyRootFilesystem.
    for path in ("/dev/shm", "/tmp"):
        if os.path.isdir(path) and os.access(path, os.W_OK):
            return path
    _config_error("neither /dev/shm nor /tmp is writable; mount a volume at /tmp")


# The task definition sets PORT to the container port, 1024-65535 (the image runs as a non-root user).
bind = f"0.0.0.0:{_env_int(ENV_PORT, DEFAULT_PORT, 1024, 65535)}"

# gthread: each worker is one process with a pool of threads. Requests spend most of their time
# waiting on DynamoDB, so threads give concurrency without a process (and a client, and ~40 MB)
# each. Two workers keep the task serving while one is replaced after a crash.
# itemstore.worker is gunicorn's gthread worker whose own error answers (a request line too long,
# a malformed request) are JSON like every other error of the API.
worker_class = "itemstore.worker.ThreadWorker"
workers = _env_int("GUNICORN_WORKERS", 2, 1, 64)
# 16 threads: a thread serves its kept-alive connection's requests itself (itemstore.worker), so a
# worker with more connections than threads hands requests through gthread's poller and main thread
# instead. The kernel's SO_REUSEPORT spread (below) is uneven: with 16 benchmark connections, splits
# of 5/11 and 3/13 were common, and with 8 threads the larger side went through the poller all the
# time (about 5 context switches per PUT instead of about 4.3 with 16 threads). An idle thread
# costs a stack, not CPU; the DynamoDB connection pool (itemstore.transport) holds 16 too.
threads = _env_int("GUNICORN_THREADS", 16, 1, 256)

# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads new connections evenly
# over the workers. With one shared socket, whichever worker wakes first accepts a burst of
# connections: measured with 16 kept-alive connections, often all 16 went to one worker, which
# then ran at one core (its GIL) with eight threads contending for it, ~0.8 ms of CPU per request
# instead of ~0.5 ms, while the other worker idled. A kept-alive proxy connection stays on the
# worker that accepted it, so the initial spread is the spread.
reuse_port = True

# Worst case of one request is bounded by the DynamoDB timeouts and attempts (a few seconds, see
# Settings.worst_case_seconds); a worker silent for longer than this is stuck and is replaced.
timeout = _env_int("GUNICORN_TIMEOUT", 30, 1, 3600)

# On SIGTERM (ECS stops a task: SIGTERM, then SIGKILL after the container's stopTimeout) the
# task first drains for DRAIN_SECONDS, still accepting and serving (itemstore.drain, installed by
# on_starting below), then gunicorn stops accepting, lets in-flight requests finish for up to
# graceful_timeout, and exits. The template sets stopTimeout to contract.stop_timeout_seconds of
# both, read from the same variables, so the workers are never killed mid-request.
graceful_timeout = _env_int(ENV_GRACEFUL_TIMEOUT, GRACEFUL_TIMEOUT_SECONDS, 1, 3600)
drain_seconds = _env_int(ENV_DRAIN_SECONDS, DEFAULT_DRAIN_SECONDS, 0, MAX_DRAIN_SECONDS)

# Keep-alive: a proxy that reuses idle connections (API Gateway's VPC-link integration does) must
# be the side that closes them; if the server closes an idle connection just as the proxy sends a
# request on it, that request fails (a 5xx at the edge). So the server's idle timeout has to be
# longer than the proxy's. API Gateway documents no idle timeout for HTTP API private
# integrations; AWS proxies in front of targets use 60 s (ALB's default) or 350 s (NLB), so 75 s
# clears the common case. With gthread an idle kept-alive connection costs a poller entry, not a
# thread, so a long keep-alive is cheap; worker_connections bounds the total.
keepalive = _env_int("GUNICORN_KEEPALIVE", 75, 1, 3600)
worker_connections = _env_int("GUNICORN_WORKER_CONNECTIONS", 1000, 1, 100000)

worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or _tmp_dir()

# gunicorn 25.1+ opens a control socket under $HOME/.gunicorn by default; the root filesystem is
# read-only and nothing here uses gunicornc.
control_socket_disable = True

# A percent-encoded 2048-byte id is up to 6144 bytes of request line; gunicorn's default (4094)
# would refuse it before the app could answer. 8190 is gunicorn's maximum; a longer request line is
# a 414 with the JSON error body (itemstore.worker). More header fields than limit_request_fields,
# or one longer than limit_request_field_size (gunicorn's defaults, set here from the contract so
# the OpenAPI document states the same numbers), is a 431.
limit_request_line = MAX_REQUEST_LINE_BYTES
limit_request_fields = MAX_HEADER_FIELDS
limit_request_field_size = MAX_HEADER_FIELD_BYTES

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
# client: its kept-alive connections (itemstore.transport) are sockets, which two processes must
# not share.
preload_app = False


def on_starting(server) -> None:
    """Check the app's settings in the master, before any worker boots (see the module docstring).

    Workers build the same settings from the same environment (create_app), so a value that passes
    here passes there.
    """
    try:
        settings = Settings.from_mapping(from_environment())
    except SettingsError as error:
        _config_error(str(error))
    region = settings.region or _botocore_region()
    if region is None:
        # Each worker's client would fail with botocore's NoRegionError, a traceback per worker.
        _config_error(str(SettingsError(
            ENV_REGION, None, "required: the table's region (ECS sets it; locally, set AWS_REGION)")))
    try:
        # The endpoint as far as the environment tells it (each worker checks the URL botocore
        # resolves again, config file included: itemstore.dynamo.make_client).
        check_no_proxy(settings.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
                       or os.environ.get("AWS_ENDPOINT_URL") or f"https://dynamodb.{region}.amazonaws.com")
    except SettingsError as error:
        _config_error(str(error))
    # Before any worker is forked, so every worker shares the drain clock.
    drain.install(server, drain_seconds)


def pre_request(worker, req) -> None:
    # gunicorn's default pre_request logs the request at debug level; kept, then the drain's close.
    worker.log.debug("%s %s", req.method, req.path)
    drain.close_while_draining(req)


def _botocore_region() -> str | None:
    """The region botocore finds without AWS_REGION: AWS_DEFAULT_REGION or the config file's profile."""
    import botocore.session

    return botocore.session.get_session().get_config_variable("region")


def post_fork(server, worker) -> None:
    # With reuse_port the master holds no socket, so gunicorn's "Listening at:" line has no address
    # (itemstore.accesslog fills in the configured one); each worker says what it has bound.
    server.log.info("Worker %s listening at: %s", worker.pid, ",".join(str(s) for s in worker.sockets))
