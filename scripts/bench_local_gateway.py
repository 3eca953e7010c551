"""Benchmark the local API gateway (ecsapi_local/gateway.py): GET and PUT of the foodstore
service through the gateway and, for comparison, straight to the container. wrk on loopback; the
container is the image's gunicorn command against dynalite; moto is the IdP whose access token the
PUTs carry. Prints req/s, p50/p99 latency and CPU time per request of the gateway's process tree
alone (and of the container's).

    .venv/bin/python scripts/bench_local_gateway.py [--seconds 10] [--connections 16]

The template's stage throttling (100 req/s by default) is raised to the highest the configuration
allows so that the gateway, not its token bucket, is measured. Everything runs on 127.0.0.1.

The rolling case (``--rolling-only`` skips the wrk rows) runs ``python -m ecsapi_local`` with two
tasks per service, puts constant GET and PUT load through its gateway (ecsapi_local.loadgen), and
replaces every task of every service in ECS's order (ecsapi_local.control) while the gateway
emulates API Gateway's discovery cache: requests sent, errors and p99 at rest against during the
replace, with the drain on and, for contrast, off.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_containers import (  # noqa: E402 (the sibling script's helpers)
    AWS_ENV,
    CONTAINERS,
    DYNALITE,
    GUNICORN,
    ITEM,
    ITEMS,
    dockerfile_env_and_cmd,
    free_port,
    request,
    run_wrk,
    tree_cpu_seconds,
    wait_for,
)
from create_tables import create_table, make_client  # noqa: E402 (make tables' helper)

from generator.model.config import DEFAULT_SERVICES  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SERVICE, IMAGE = "foodstore", "food"
PASSWORD = "Bench-Password-1-x"


def spawn(argv: list[str], env: dict, log: Path, cwd: Path | None = None) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)


def boto(service: str, url: str):
    import boto3

    return boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench",
                                 region_name="us-east-1").client(service, endpoint_url=url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per row (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--rolling-only", action="store_true", help="only the rolling-replace rows")
    parser.add_argument("--drain-seconds", type=int, default=4, help="the tasks' drain in the rolling case (default 4)")
    parser.add_argument("--cache-seconds", type=float, default=2,
                        help="the gateway's discovery cache in the rolling case (default 2)")
    args = parser.parse_args()
    if args.rolling_only:
        return rolling(args)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench-local does it)")
    if not DYNALITE.exists():
        raise SystemExit("dynalite is missing: `make node_modules/.installed`")
    os.environ.update(AWS_ENV)

    from generator import StackConfig, build_template

    # The highest stage limits the configuration accepts: the bench measures the gateway, not the bucket.
    template = json.loads(build_template(StackConfig(throttle_rate_limit=10000, throttle_burst_limit=5000)).to_json())
    resources = template["Resources"]
    processes: list[subprocess.Popen] = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-local-gateway-") as tmp:
        workdir = Path(tmp)
        try:
            # DynamoDB and the table.
            dynalite_port = free_port()
            processes.append(spawn([str(DYNALITE), "--port", str(dynalite_port), "--host", "127.0.0.1", "--path",
                                    str(workdir / "dynalite")], dict(os.environ), workdir / "dynalite.log"))
            dynalite_url = f"http://127.0.0.1:{dynalite_port}"
            image_env, cmd = dockerfile_env_and_cmd(IMAGE)
            key = image_env["TABLE_KEY"]
            wait_for(lambda: boto("dynamodb", dynalite_url).list_tables() is not None, "dynalite")
            [spec] = [s for s in DEFAULT_SERVICES if s.name == SERVICE and s.key_attribute == key]
            create_table(make_client(dynalite_url, "us-east-1"), f"bench-{SERVICE}", spec)

            # The container: the image's command.
            container_port = free_port()
            env = {**os.environ, **image_env, **AWS_ENV, "PYTHONPATH": str(CONTAINERS), "PORT": str(container_port),
                   "TABLE_NAME": f"bench-{SERVICE}", "DYNAMODB_ENDPOINT_URL": dynalite_url,
                   "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{container_port}", "HOME": str(workdir)}
            env.pop("AWS_PROFILE", None)
            container = spawn([str(GUNICORN), *cmd[1:]], env, workdir / "container.log")
            processes.append(container)
            wait_for(lambda: request(container_port, "GET", "/health") == 200, "the container")

            # The IdP: moto, the template's pool and client, one confirmed user.
            moto_port = free_port()
            processes.append(spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                                   {k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                                   workdir / "moto.log"))
            moto_url = f"http://127.0.0.1:{moto_port}"
            wait_for(lambda: request(moto_port, "GET", "/moto-api/") == 200, "moto")
            idp = boto("cognito-idp", moto_url)
            pool_props = resources["UserPool"]["Properties"]
            pool = idp.create_user_pool(PoolName="bench", UsernameAttributes=pool_props["UsernameAttributes"],
                                        Policies=pool_props["Policies"])["UserPool"]["Id"]
            client = idp.create_user_pool_client(
                UserPoolId=pool, ClientName="bench",
                ExplicitAuthFlows=resources["UserPoolClient"]["Properties"]["ExplicitAuthFlows"],
            )["UserPoolClient"]["ClientId"]
            idp.sign_up(ClientId=client, Username="bench@example.com", Password=PASSWORD)
            idp.admin_confirm_sign_up(UserPoolId=pool, Username="bench@example.com")
            token = idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
                "USERNAME": "bench@example.com", "PASSWORD": PASSWORD})["AuthenticationResult"]["AccessToken"]

            # The gateway, as `make local` runs it.
            gateway_port = free_port()
            (workdir / "template.json").write_text(json.dumps(template))
            (workdir / "resolution.json").write_text(resolution(resources, pool, client, container_port, moto_url))
            gateway = spawn([sys.executable, "-m", "ecsapi_local.gateway", "--template",
                             str(workdir / "template.json"), "--resolution", str(workdir / "resolution.json"),
                             "--bind", f"127.0.0.1:{gateway_port}"], dict(os.environ), workdir / "gateway.log",
                            cwd=REPO)
            processes.append(gateway)
            wait_for(lambda: "listening on" in (workdir / "gateway.log").read_text(), "the gateway")

            prefix = image_env["ITEM_PATH_PREFIX"]
            body = json.dumps(ITEM).encode()
            for i in range(ITEMS):
                assert request(container_port, "PUT", f"{prefix}/bench-{i}", body) == 200
            auth = f"Bearer {token}"
            for method in ("GET", "PUT"):
                for target, port in (("gateway", gateway_port), ("direct", container_port)):
                    run_wrk(port, method, prefix, 2, args.connections, workdir, auth)  # warm-up
                    gateway_before, container_before = tree_cpu_seconds(gateway.pid), tree_cpu_seconds(container.pid)
                    result = run_wrk(port, method, prefix, args.seconds, args.connections, workdir, auth)
                    gateway_cpu = tree_cpu_seconds(gateway.pid) - gateway_before
                    container_cpu = tree_cpu_seconds(container.pid) - container_before
                    requests = max(result["requests"], 1)
                    rows.append({"target": target, "method": method, "requests": result["requests"],
                                 "errors": result["errors"] + result["status_errors"],
                                 "rps": result["requests"] / result["seconds"], "p50_ms": result["p50_us"] / 1000,
                                 "p99_ms": result["p99_us"] / 1000,
                                 "gateway_cpu_ms": 1000 * gateway_cpu / requests if target == "gateway" else None,
                                 "container_cpu_ms": 1000 * container_cpu / requests})
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in reversed(processes):
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()

    print(f"\n{args.seconds:g} s per row, {args.connections} connections, wrk on loopback; {SERVICE} under the "
          f"image's gunicorn, dynalite as DynamoDB; PUT carries a Cognito (moto) access token; {os.cpu_count()} CPUs")
    print(f"{'through':<8} {'method':<6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'gateway CPU ms/req':>18} "
          f"{'container CPU ms/req':>20} {'errors':>6}")
    for row in rows:
        gateway_cpu = "-" if row["gateway_cpu_ms"] is None else f"{row['gateway_cpu_ms']:.3f}"
        print(f"{row['target']:<8} {row['method']:<6} {row['rps']:>8.0f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
              f"{gateway_cpu:>18} {row['container_cpu_ms']:>20.3f} {row['errors']:>6}")
    failed = any(row["errors"] for row in rows)
    return rolling(args) or (1 if failed else 0)


ROLLING_CONFIG = """
throttle_rate_limit = 10000
throttle_burst_limit = 5000

[[services]]
name = "foodstore"
path = "/foodstore/foods/{foodId}"

[[services]]
name = "petstore"
path = "/petstore/pets/{petId}"
"""


def rolling(args) -> int:
    """The rolling case: every task of both services replaced under load, with the drain and without."""
    import time
    import urllib.request

    from ecsapi_local.loadgen import Load

    rows = []
    for drain in (args.drain_seconds, 0):
        with tempfile.TemporaryDirectory(prefix="bench-local-rolling-") as tmp:
            workdir = Path(tmp)
            (workdir / "stack.toml").write_text(ROLLING_CONFIG)
            ports = {name: free_port() for name in ("page", "api", "cognito", "dynamodb", "control", "containers")}
            argv = [sys.executable, "-m", "ecsapi_local", "--work", str(workdir / "work"), "--config",
                    str(workdir / "stack.toml"), "--tasks", "2", "--drain-seconds", str(drain),
                    "--discovery-cache-seconds", f"{args.cache_seconds:g}",
                    *(f"--{name}-port={port}" for name, port in ports.items())]
            env = {k: v for k, v in os.environ.items() if not k.startswith("ECSAPI_LOCAL_")}
            log = workdir / "stack.log"
            stack = spawn(argv, env, log, cwd=REPO)
            try:
                def ready(log: Path = log, stack: subprocess.Popen = stack) -> bool:
                    if stack.poll() is not None:
                        raise SystemExit(f"the local stack exited with {stack.returncode}:\n{log.read_text()}")
                    return "Ctrl-C stops everything." in log.read_text()

                wait_for(ready, "the local stack", timeout=180)
                config = json.loads((workdir / "work" / "config.json").read_text())
                idp = boto("cognito-idp", f"http://127.0.0.1:{ports['cognito']}")
                idp.sign_up(ClientId=config["clientId"], Username="bench@example.com", Password=PASSWORD,
                            UserAttributes=[{"Name": "email", "Value": "bench@example.com"}])
                idp.admin_confirm_sign_up(UserPoolId=config["userPoolId"], Username="bench@example.com")
                token = idp.initiate_auth(ClientId=config["clientId"], AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
                    "USERNAME": "bench@example.com", "PASSWORD": PASSWORD})["AuthenticationResult"]["AccessToken"]
                load = Load(ports["api"], token, ("/foodstore/foods/", "/petstore/pets/"), clients=4).start()
                time.sleep(args.seconds)
                load.phase = "during the replace"
                started = time.monotonic()
                for service in ("foodstore", "petstore"):
                    request_ = urllib.request.Request(
                        f"http://127.0.0.1:{ports['control']}/services/{service}/deploy", method="POST")
                    urllib.request.urlopen(request_, timeout=300).read()
                time.sleep(args.cache_seconds + drain + 1)  # until the last old task has left the cache
                replace_seconds = time.monotonic() - started
                load.stop()
                for phase in ("at rest", "during the replace"):
                    rows.append({"drain": drain, **load.summary(phase),
                                 "seconds": args.seconds if phase == "at rest" else replace_seconds})
            finally:
                stack.terminate()
                try:
                    stack.wait(60)
                except subprocess.TimeoutExpired:
                    stack.kill()

    print(f"\nRolling replace of 2 tasks x 2 services under load (8 closed-loop clients, PUT then GET), through "
          f"make local's gateway with a {args.cache_seconds:g} s discovery cache; {os.cpu_count()} CPUs")
    print(f"{'drain s':>7} {'phase':<19} {'seconds':>7} {'sent':>7} {'errors':>6} {'p99 ms':>7}")
    for row in rows:
        print(f"{row['drain']:>7} {row['phase']:<19} {row['seconds']:>7.1f} {row['sent']:>7} {row['errors']:>6} "
              f"{row['p99_ms']:>7.2f}")
    # With the drain nothing may fail; without it failures are the expected contrast.
    return 1 if any(row["errors"] for row in rows if row["drain"]) else 0


def resolution(resources: dict, pool: str, client: str, container_port: int, moto_url: str) -> str:
    """The gateway's LocalResolution (JSON): every Cloud Map service of the template to the one
    benchmarked container (only foodstore's routes are loaded)."""
    from ecsapi_local.gateway import LocalResolution

    services = [name for name, r in resources.items() if r["Type"] == "AWS::ServiceDiscovery::Service"]
    return LocalResolution(
        region="us-east-1", physical_ids={"UserPool": pool, "UserPoolClient": client},
        upstreams={name: f"http://127.0.0.1:{container_port}" for name in services},
        jwks_url=f"{moto_url}/{pool}/.well-known/jwks.json",
    ).to_json()


if __name__ == "__main__":
    sys.exit(main())
