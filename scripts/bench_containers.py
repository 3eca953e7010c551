"""Benchmark the itemstore containers: each service under its production gunicorn command against
a local dynalite, loaded by wrk on loopback. Prints req/s, p50/p99 latency and the app's CPU time
per request (user + system time of the gunicorn process tree, from /proc).

    .venv/bin/python scripts/bench_containers.py [--seconds 10] [--connections 16]

Everything runs on 127.0.0.1 and stops by itself; nothing talks to AWS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTAINERS = REPO / "containers"
DYNALITE = REPO / "node_modules" / ".bin" / "dynalite"
GUNICORN = Path(sys.executable).parent / "gunicorn"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SERVICES = (  # name, Dockerfile directory (TABLE_KEY and ITEM_PATH_PREFIX come from its ENV)
    ("foodstore", "food"),
    ("petstore", "pet"),
)
AWS_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "AWS_EC2_METADATA_DISABLED": "true"}
# A typical small item: a few strings, numbers, a list and a nested object.
ITEM = {"name": "Margherita", "price": 8.5, "stock": 120, "tags": ["vegetarian", "classic"],
        "nutrition": {"kcal": 800, "salt_g": 2.25}, "available": True}
ITEMS = 1000  # GET and PUT spread over this many ids

# wrk script: GET or PUT over ITEMS ids; at the end, one JSON line with the latency percentiles.
WRK_LUA = """
local method, prefix, body, items = "%(method)s", "%(prefix)s", [[%(body)s]], %(items)d
local n = 0
request = function()
  n = n + 1
  local path = prefix .. "/bench-" .. (n %% items)
  if method == "PUT" then
    return wrk.format("PUT", path, {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %%d, "errors": %%d, "status_errors": %%d, "seconds": %%f, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration / 1e6, latency:percentile(50), latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dockerfile_env_and_cmd(image: str) -> tuple[dict[str, str], list[str]]:
    import shlex

    env, cmd, pending = {}, None, ""
    for raw in (CONTAINERS / image / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("ENV "):
            env.update(pair.split("=", 1) for pair in shlex.split(line[4:]))
        elif line.startswith("CMD "):
            cmd = json.loads(line[4:])
    return env, cmd


def wait_for(check, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{what} did not come up in {timeout} s")


def request(port: int, method: str, path: str, body: bytes | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants (live ones)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        stack.extend(children.get(pid, []))
    return total / CLOCK_TICKS


def run_wrk(port: int, method: str, prefix: str, seconds: float, connections: int, workdir: Path) -> dict:
    script = workdir / f"{method.lower()}.lua"
    script.write_text(WRK_LUA % {"method": method, "prefix": prefix, "body": json.dumps(ITEM), "items": ITEMS})
    output = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def bench_service(name: str, image: str, dynalite_url: str, args, workdir: Path) -> list[dict]:
    image_env, cmd = dockerfile_env_and_cmd(image)
    port = free_port()
    env = {**os.environ, **image_env, **AWS_ENV, "PYTHONPATH": str(CONTAINERS), "PORT": str(port),
           "TABLE_NAME": f"bench-{name}", "DYNAMODB_ENDPOINT_URL": dynalite_url,
           "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}", "HOME": str(workdir)}
    env.pop("AWS_PROFILE", None)
    prefix = image_env["ITEM_PATH_PREFIX"]
    log = open(workdir / f"gunicorn-{name}.log", "w")
    # The image's CMD, with the venv's gunicorn in place of the image's.
    server = subprocess.Popen([str(GUNICORN), *cmd[1:]], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    rows = []
    try:
        wait_for(lambda: request(port, "GET", "/health") == 200, f"gunicorn {name}")
        body = json.dumps(ITEM).encode()
        for i in range(ITEMS):
            assert request(port, "PUT", f"{prefix}/bench-{i}", body) == 200
        for method in ("GET", "PUT"):
            run_wrk(port, method, prefix, 2, args.connections, workdir)  # warm-up
            before = tree_cpu_seconds(server.pid)
            result = run_wrk(port, method, prefix, args.seconds, args.connections, workdir)
            cpu = tree_cpu_seconds(server.pid) - before
            requests = result["requests"]
            rows.append({"service": name, "method": method, "requests": requests,
                         "errors": result["errors"] + result["status_errors"],
                         "rps": requests / result["seconds"], "p50_ms": result["p50_us"] / 1000,
                         "p99_ms": result["p99_us"] / 1000, "cpu_ms": 1000 * cpu / max(requests, 1)})
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    return rows


def create_tables(url: str) -> None:
    import boto3

    client = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench",
                                   region_name="us-east-1").client("dynamodb", endpoint_url=url)
    for name, image in SERVICES:
        key = dockerfile_env_and_cmd(image)[0]["TABLE_KEY"]
        client.create_table(TableName=f"bench-{name}", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])
        client.get_waiter("table_exists").wait(TableName=f"bench-{name}", WaiterConfig={"Delay": 0.1})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per row (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--service", choices=[s for s, _ in SERVICES], help="only this service")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench-containers does it)")
    if not DYNALITE.exists():
        raise SystemExit("dynalite is missing: `make node_modules/.installed`")
    for name, value in AWS_ENV.items():
        os.environ[name] = value

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-containers-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        dynalite = subprocess.Popen([str(DYNALITE), "--port", str(port), "--host", "127.0.0.1",
                                     "--path", str(workdir / "dynalite")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, "dynalite")
            create_tables(url)
            for name, image in SERVICES:
                if args.service in (None, name):
                    rows.extend(bench_service(name, image, url, args, workdir))
        finally:
            dynalite.terminate()
            dynalite.wait(30)

    print(f"\n{args.seconds:g} s per row, {args.connections} connections, wrk on loopback, "
          f"gunicorn as the image runs it, dynalite as DynamoDB; {os.cpu_count()} CPUs")
    print(f"{'service':<10} {'method':<6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} {'errors':>6}")
    for row in rows:
        print(f"{row['service']:<10} {row['method']:<6} {row['rps']:>8.0f} {row['p50_ms']:>7.2f} "
              f"{row['p99_ms']:>7.2f} {row['cpu_ms']:>10.3f} {row['errors']:>6}")
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
