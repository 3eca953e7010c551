"""Benchmark the itemstore containers: each service under its production gunicorn command against
a local dynalite, loaded by wrk on loopback. Prints req/s, p50/p99 latency and the app's CPU time
per request (user + system time of the gunicorn process tree, from /proc, and each part apart),
its context switches per request (every thread's, from /proc: a thread that waits for a socket or
the GIL switches out), the 1-minute load average as each row ends (the machine may be shared), and
the tree's memory (proportional set size, PSS: shared pages split among the processes sharing them,
so forked workers are not counted twice) at rest and at its peak under load, against a Fargate
task's memory.

    .venv/bin/python scripts/bench_containers.py [--seconds 10] [--connections 16] [--rounds 2]
                                                 [--baseline REF|none] [--original DIR]

Beside the original (issue 28's goal): with ``--original DIR`` (default ORIGINAL from the
environment; ``make bench-containers ORIGINAL=DIR``), DIR holding a checkout of
containers-nodejs/ecsapi-demo-foodstore from aws-samples/ecs-apigateway-sample (the Node/Express
service of the blog's sample; its code is not part of this repository), the original's
``node server.js`` runs beside the foodstore on the same dynalite, taking turns under the same wrk
load, and a table gives our CPU per request as a multiple of the original's on GET and PUT (the
goal: at most 0.9x each, p99 no worse). Its npm dependencies are installed in DIR (``npm ci``) the
first time; scripts/bench_original_preload.cjs points its aws-sdk at dynalite and its listener at a
free loopback port without changing its code.

Before and after in one run: the containers/ folder of the git commit ``--baseline`` (default
BENCH_BASELINE from the environment, else BASELINE_REF) runs beside the working tree's, its rows
alternating with the current ones (ABBA over ``--rounds``) on the same machine at the same time;
then the two DynamoDB clients alone, in this process, alternating (CPU per GetItem and PutItem
call against the same dynalite), and their signers beside botocore's SigV4Auth.

Everything runs on 127.0.0.1 and stops by itself; nothing talks to AWS.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import NamedTuple

from generator.model.constants import FARGATE_CPU_MEMORY

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
# The commit whose containers/ is "before": the item store before issue 28's PUT work (one encoding
# walk per PUT, the signer's cached canonical headers, 16 threads per worker, one wake pipe per
# waiting thread). An older commit can be given with --baseline.
BASELINE_REF = "d04dd6a7f109c0743ae48acec7bafe1f81225ec4"
# A session token as long as an ECS task role's (they run to about a thousand characters).
SESSION_TOKEN = "IQoJb3JpZ2luX2VjE" * 60
# The least memory a Fargate task can have (0.25 vCPU with 512 MiB), what stacks/lean.toml runs.
FARGATE_SMALLEST_MIB = min(FARGATE_CPU_MEMORY[min(FARGATE_CPU_MEMORY)])

# wrk script: GET or PUT over ITEMS ids; at the end, one JSON line with the latency percentiles.
# auth: an Authorization header for the PUTs, or "" for none (bench_local_gateway.py sends a token).
WRK_LUA = """
local method, prefix, body, items, auth = "%(method)s", "%(prefix)s", [[%(body)s]], %(items)d, "%(auth)s"
local n = 0
request = function()
  n = n + 1
  local path = prefix .. "/bench-" .. (n %% items)
  if method == "PUT" then
    local headers = {["Content-Type"] = "application/json"}
    if auth ~= "" then headers["Authorization"] = auth end
    return wrk.format("PUT", path, headers, body)
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


def dockerfile_env_and_cmd(image: str, containers: Path = CONTAINERS) -> tuple[dict[str, str], list[str]]:
    import shlex

    env, cmd, pending = {}, None, ""
    for raw in (containers / image / "Dockerfile").read_text().splitlines():
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
    usage = tree_usage(root_pid)
    return usage.user + usage.system


class Usage(NamedTuple):
    """What a process tree has used so far: CPU seconds in user and in kernel mode, and context
    switches (voluntary: it waited, on a socket, a lock, the GIL; involuntary: it was preempted)."""

    user: float
    system: float
    switches: int

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.user - other.user, self.system - other.system, self.switches - other.switches)


def tree_usage(root_pid: int) -> Usage:
    """Usage of a process and all its live descendants, from /proc: utime and stime of each
    process (its threads' included), and the context switches of each of its threads (Linux
    counts those per thread, in /proc/PID/task/TID/status)."""
    user = system = switches = 0
    for pid in tree_pids(root_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        user += int(fields[11])
        system += int(fields[12])
        for tid in tids:
            try:
                status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
            except OSError:
                continue
            switches += sum(int(line.split()[1]) for line in status.splitlines()
                            if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")))
    return Usage(user / CLOCK_TICKS, system / CLOCK_TICKS, switches)


def tree_pids(root_pid: int) -> list[int]:
    """The process and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    pids, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(children.get(pid, []))
    return pids


def tree_memory_mib(root_pid: int) -> float:
    """The process tree's memory in MiB: the sum of its processes' PSS (smaps_rollup, Linux 4.14+)."""
    total_kib = 0
    for pid in tree_pids(root_pid):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total_kib += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return total_kib / 1024


class PeakMemory:
    """Samples a process tree's memory every ``interval`` seconds in a thread; ``peak`` is the most seen."""

    def __init__(self, root_pid: int, interval: float = 0.25) -> None:
        self.root_pid, self.interval, self.peak = root_pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_memory_mib(self.root_pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_wrk(port: int, method: str, prefix: str, seconds: float, connections: int, workdir: Path,
            auth: str = "") -> dict:
    """GET or PUT over ITEMS ids with wrk (PUTs with ``auth`` as their Authorization header, if any)."""
    script = workdir / f"{method.lower()}-{port}.lua"
    script.write_text(WRK_LUA % {"method": method, "prefix": prefix, "body": json.dumps(ITEM), "items": ITEMS,
                                  "auth": auth})
    output = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


ORIGINAL_FOLDER = "containers-nodejs/ecsapi-demo-foodstore"
ORIGINAL_REPOSITORY = "https://github.com/aws-samples/ecs-apigateway-sample"
ORIGINAL_PRELOAD = Path(__file__).resolve().parent / "bench_original_preload.cjs"
ORIGINAL_SERVICE = "foodstore"  # the original is the foodstore only
ORIGINAL_GOAL = 0.9  # issue 28: our CPU per request at most 0.9x the original's, on GET and on PUT
NODE = "node"


def original_help(problem: str) -> str:
    return (f"{problem}\nThe original is the Node/Express foodstore of the blog's sample; get it outside this "
            f"repository and pass its folder:\n"
            f"  git clone {ORIGINAL_REPOSITORY} /tmp/ecs-apigateway-sample\n"
            f"  make bench-containers ORIGINAL=/tmp/ecs-apigateway-sample/{ORIGINAL_FOLDER}")


def prepare_original(folder: Path) -> Path:
    """Check that ``folder`` holds the original (server.js, package.json naming express and aws-sdk)
    and install its npm dependencies there once (``npm ci`` from its lock file). Raises SystemExit,
    saying how to get it, when it does not."""
    folder = folder.expanduser().resolve()
    server, package = folder / "server.js", folder / "package.json"
    if not server.is_file() or not package.is_file():
        raise SystemExit(original_help(f"ORIGINAL={folder}: no server.js and package.json there"))
    dependencies = json.loads(package.read_text()).get("dependencies", {})
    if not {"express", "aws-sdk"} <= set(dependencies):
        raise SystemExit(original_help(f"ORIGINAL={folder}: package.json does not depend on express and aws-sdk"))
    if not shutil.which(NODE) or not shutil.which("npm"):
        raise SystemExit("node and npm are needed for the original: `apt-get install nodejs npm`")
    stamp = folder / "node_modules" / ".bench-installed"
    if not stamp.exists():
        install = ["npm", "ci"] if (folder / "package-lock.json").exists() else ["npm", "install"]
        print(f"installing the original's npm dependencies in {folder} ({' '.join(install)})", file=sys.stderr)
        subprocess.run([*install, "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True,
                       timeout=600)
        stamp.touch()
    return folder


def start_original(folder: Path, dynalite_url: str, workdir: Path, prefix: str):
    """The original's ``node server.js`` (its Dockerfile's CMD) on a free loopback port, on dynalite."""
    port = free_port()
    # Kept-alive connections to DynamoDB, as ours keeps them: aws-sdk v2 opens a new connection per
    # call unless AWS_NODEJS_CONNECTION_REUSE_ENABLED=1 (AWS SDK for JavaScript v2 Developer Guide,
    # "Reusing Connections with Keep-Alive in Node.js", the setting AWS recommends for DynamoDB).
    # Measured without it, the original spends more CPU per request: the comparison would flatter us.
    env = {**os.environ, **AWS_ENV, "AWS_NODEJS_CONNECTION_REUSE_ENABLED": "1",
           "DynamoDBTable": f"bench-{ORIGINAL_SERVICE}", "HOME": str(workdir),
           "BENCH_DYNAMODB_ENDPOINT": dynalite_url, "BENCH_PORT": str(port), "BENCH_HOST": "127.0.0.1"}
    log = open(workdir / "original.log", "w")  # noqa: SIM115 (closed with the server)
    server = subprocess.Popen([NODE, "--require", str(ORIGINAL_PRELOAD), "server.js"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)
    server.log = log
    server.port = port
    wait_for(lambda: request(port, "GET", f"{prefix}/bench-0") == 200, "the original (node server.js)")
    return server


def start_gunicorn(name: str, image: str, containers: Path, dynalite_url: str, workdir: Path, label: str):
    """The image's CMD (with the venv's gunicorn) on the itemstore package in ``containers``."""
    image_env, cmd = dockerfile_env_and_cmd(image, containers)
    port = free_port()
    env = {**os.environ, **image_env, **AWS_ENV, "PYTHONPATH": str(containers), "PORT": str(port),
           "TABLE_NAME": f"bench-{name}", "DYNAMODB_ENDPOINT_URL": dynalite_url,
           "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}", "HOME": str(workdir),
           # No drain when the bench stops it (SIGTERM): there is no proxy caching this task.
           "DRAIN_SECONDS": "0"}
    env.pop("AWS_PROFILE", None)
    log = open(workdir / f"gunicorn-{name}-{label}.log", "w")  # noqa: SIM115 (closed with the server)
    server = subprocess.Popen([str(GUNICORN), *cmd[1:]], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=workdir, start_new_session=True)
    server.log = log
    server.port = port
    wait_for(lambda: request(port, "GET", "/health") == 200, f"gunicorn {name} ({label})")
    return server


def bench_service(name: str, image: str, dynalite_url: str, args, workdir: Path,
                  trees: list[tuple[str, Path]], original: Path | None = None) -> list[dict]:
    """One row per tree, method and round; the trees' servers (and the original, when given) run
    side by side and take turns."""
    prefix = dockerfile_env_and_cmd(image)[0]["ITEM_PATH_PREFIX"]
    servers = {}
    rows = []
    starters = [(label, partial(start_gunicorn, name, image, containers, dynalite_url, workdir, label))
                for label, containers in trees]
    if original is not None:
        starters.append(("original", partial(start_original, original, dynalite_url, workdir, prefix)))
    trees = starters
    try:
        at_rest = {}
        for label, start in starters:
            servers[label] = start()
            time.sleep(1)  # the workers finish importing after the first /health answer
            at_rest[label] = tree_memory_mib(servers[label].pid)
        body = json.dumps(ITEM).encode()
        port = servers["after"].port
        for i in range(ITEMS):
            assert request(port, "PUT", f"{prefix}/bench-{i}", body) == 200
        for method in ("GET", "PUT"):
            for label, _ in trees:
                run_wrk(servers[label].port, method, prefix, 2, args.connections, workdir)  # warm-up
            for round_ in range(args.rounds):
                order = trees if round_ % 2 == 0 else trees[::-1]  # ABBA: a drift in load hits both
                for label, _ in order:
                    server = servers[label]
                    before = tree_usage(server.pid)
                    with PeakMemory(server.pid) as memory:
                        result = run_wrk(server.port, method, prefix, args.seconds, args.connections, workdir)
                    used = tree_usage(server.pid) - before
                    requests = result["requests"]
                    per_request = 1000 / max(requests, 1)
                    rows.append({"service": name, "tree": label, "method": method, "round": round_ + 1,
                                 "requests": requests, "errors": result["errors"] + result["status_errors"],
                                 "rps": requests / result["seconds"], "p50_ms": result["p50_us"] / 1000,
                                 "p99_ms": result["p99_us"] / 1000,
                                 "cpu_ms": (used.user + used.system) * per_request,
                                 "user_ms": used.user * per_request, "system_ms": used.system * per_request,
                                 "switches": used.switches / max(requests, 1), "load": os.getloadavg()[0],
                                 "rest_mib": at_rest[label], "peak_mib": memory.peak})
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(30)
            server.log.close()
    return rows


def original_ratios(rows: list[dict]) -> list[dict]:
    """Per method: our foodstore ('after') and the original, means of their rounds, and the ratio
    of CPU per request (ours / original) against ORIGINAL_GOAL."""
    result = []
    for method in dict.fromkeys(row["method"] for row in rows):
        mean = {}
        for tree in ("after", "original"):
            mine = [row for row in rows if (row["service"], row["method"], row["tree"]) == (ORIGINAL_SERVICE, method, tree)]
            if not mine:
                return []
            mean[tree] = {field: statistics.fmean(row[field] for row in mine)
                          for field in ("cpu_ms", "rps", "p99_ms", "system_ms", "switches")}
        ratio = mean["after"]["cpu_ms"] / mean["original"]["cpu_ms"]
        result.append({"method": method, "ours": mean["after"], "original": mean["original"], "ratio": ratio,
                       "cpu_goal_met": ratio <= ORIGINAL_GOAL,
                       "p99_goal_met": mean["after"]["p99_ms"] <= mean["original"]["p99_ms"]})
    return result


def print_original(ratios: list[dict]) -> None:
    print(f"\nfoodstore beside the original (Node/Express, aws-sdk v2), mean of rounds; goal: CPU/req at most "
          f"{ORIGINAL_GOAL}x the original's, p99 no worse")
    print(f"{'method':<6} {'CPU ms/req ours':>15} {'original':>9} {'ratio':>6} {'goal':>5} {'req/s ours':>10} "
          f"{'original':>9} {'p99 ms ours':>11} {'original':>9} {'p99':>5} {'sys ms ours':>11} {'original':>9} "
          f"{'switches ours':>13} {'original':>9}")
    for entry in ratios:
        ours, theirs = entry["ours"], entry["original"]
        print(f"{entry['method']:<6} {ours['cpu_ms']:>15.3f} {theirs['cpu_ms']:>9.3f} {entry['ratio']:>5.2f}x "
              f"{'met' if entry['cpu_goal_met'] else 'NOT':>5} {ours['rps']:>10.0f} {theirs['rps']:>9.0f} "
              f"{ours['p99_ms']:>11.2f} {theirs['p99_ms']:>9.2f} {'met' if entry['p99_goal_met'] else 'NOT':>5} "
              f"{ours['system_ms']:>11.3f} {theirs['system_ms']:>9.3f} {ours['switches']:>13.2f} {theirs['switches']:>9.2f}")
    print("(sys ms: the CPU per request spent in the kernel, included in CPU ms/req; switches: context switches "
          "per request, all threads of the process tree)")


def export_baseline(ref: str, workdir: Path) -> Path | None:
    """containers/ of the commit ``ref``, extracted under ``workdir``; None when git cannot give it
    (not a git checkout, a shallow clone without that commit)."""
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "containers"],
                                 capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as error:
        print(f"baseline {ref}: not available ({error}); only the working tree is measured", file=sys.stderr)
        return None
    target = workdir / "baseline"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "containers"


def create_tables(url: str) -> None:
    """bench-<service> for each service, by `make tables`' helper (keyed as the template keys it)."""
    from create_tables import create_table, make_client

    from generator.model.config import DEFAULT_SERVICES

    client = make_client(url, "us-east-1")
    specs = {spec.name: spec for spec in DEFAULT_SERVICES}
    for name, _ in SERVICES:
        create_table(client, f"bench-{name}", specs[name])


def load_clients(baseline: Path | None, workdir: Path) -> dict[str, tuple]:
    """{label: (transport module, sigv4 module)}: the working tree's, and the baseline's loaded
    beside them under other module names (its transport's import of itemstore.sigv4 redirected)."""
    sys.path.insert(0, str(CONTAINERS))
    from itemstore import sigv4, transport

    modules = {}
    if baseline is not None:
        folder = workdir / "baseline-modules"
        folder.mkdir()
        names = {"sigv4": "baseline_sigv4", "transport": "baseline_transport"}
        for name in ("sigv4", "transport"):
            source = (baseline / "itemstore" / f"{name}.py").read_text()
            redirected = source.replace("from itemstore.sigv4 import", "from baseline_sigv4 import")
            if name == "transport" and redirected == source:
                raise SystemExit("the baseline transport does not import itemstore.sigv4 as expected")
            path = folder / f"{names[name]}.py"
            path.write_text(redirected)
            spec = importlib.util.spec_from_file_location(names[name], path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[names[name]] = module
            spec.loader.exec_module(module)
        modules["before"] = (sys.modules["baseline_transport"], sys.modules["baseline_sigv4"])
    modules["after"] = (transport, sigv4)
    return modules


class StaticCredentials:
    """A provider handing out the same frozen task-role-like credentials (long session token)."""

    def __init__(self) -> None:
        from botocore.credentials import Credentials

        self.frozen = Credentials("ASIAEXAMPLEEXAMPLE12", "secret", SESSION_TOKEN).get_frozen_credentials()

    def get_frozen_credentials(self):
        return self.frozen


def _cpu_per_call(function, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        function()
    return 1e6 * (time.process_time() - started) / calls


def bench_client_calls(modules: dict[str, tuple], dynalite_url: str, rounds: int = 7,
                       calls: int = 2000) -> dict[tuple[str, str], list[float]]:
    """CPU µs per GetItem and PutItem call of each client, in this process, against dynalite (whose
    CPU is not counted): the clients take turns, ``rounds`` times, ABBA."""
    table = "bench-foodstore"
    key = dockerfile_env_and_cmd("food")[0]["TABLE_KEY"]
    get_body = json.dumps({"TableName": table, "Key": {key: {"S": "bench-1"}}}).encode()
    put_body = json.dumps({"TableName": table, "Item": {
        key: {"S": "bench-client"}, "name": {"S": "Margherita"}, "price": {"N": "8.5"}, "stock": {"N": "120"},
        "tags": {"L": [{"S": "vegetarian"}, {"S": "classic"}]}, "available": {"BOOL": True},
        "nutrition": {"M": {"kcal": {"N": "800"}, "salt_g": {"N": "2.25"}}}}}).encode()
    credentials = StaticCredentials()
    clients = {label: transport.DynamoDBClient(dynalite_url, "us-east-1", credentials, connect_timeout=2,
                                               read_timeout=10, max_attempts=1)
               for label, (transport, _) in modules.items()}
    labels = list(clients)
    results: dict[tuple[str, str], list[float]] = {}
    for operation, body in (("GetItem", get_body), ("PutItem", put_body)):
        for label in labels:  # warm-up: connections open, caches filled
            _cpu_per_call(partial(clients[label].call, operation, body), calls // 10)
        for round_ in range(rounds):
            for label in labels if round_ % 2 == 0 else labels[::-1]:
                micros = _cpu_per_call(partial(clients[label].call, operation, body), calls)
                results.setdefault((operation, label), []).append(micros)
    for client in clients.values():
        client.close()
    return results


def bench_signers(modules: dict[str, tuple], rounds: int = 7, calls: int = 20000) -> dict[str, list[float]]:
    """CPU µs per signature of a GetItem request: each client's signer, and botocore's SigV4Auth on
    an AWSRequest (what signing with a maintained signer costs per call); taking turns, ``rounds``
    times."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    transport = modules["after"][0]
    body = json.dumps({"TableName": "bench-foodstore", "Key": {"foodId": {"S": "bench-1"}}}).encode()
    credentials = StaticCredentials().frozen
    host = "dynamodb.us-east-1.amazonaws.com"
    signers = {}
    for label, (_, sigv4) in modules.items():
        signer = sigv4.SigV4Signer("us-east-1", "dynamodb", host)
        signers[f"itemstore.sigv4 ({label})"] = lambda signer=signer: signer.sign(
            {"Content-Type": transport.CONTENT_TYPE, "X-Amz-Target": transport.TARGET_PREFIX + "GetItem"},
            body, credentials)
    theirs = SigV4Auth(credentials, "dynamodb", "us-east-1")

    def botocore_sigv4() -> None:
        request = AWSRequest(method="POST", url=f"https://{host}/", data=body,
                             headers={"Content-Type": transport.CONTENT_TYPE,
                                      "X-Amz-Target": transport.TARGET_PREFIX + "GetItem"})
        theirs.add_auth(request)

    signers["botocore SigV4Auth"] = botocore_sigv4
    crt = awscrt_signer(body, credentials, host, transport)
    if crt is not None:
        signers["awscrt aws_sign_request"] = crt
    results: dict[str, list[float]] = {}
    for sign in signers.values():
        _cpu_per_call(sign, calls // 10)  # warm-up
    names = list(signers)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            results.setdefault(name, []).append(_cpu_per_call(signers[name], calls))
    return results


def awscrt_signer(body: bytes, credentials, host: str, transport):
    """Signing the same request with AWS's awscrt (the way botocore's CrtSigV4Auth configures it),
    when awscrt can be imported: it is not a dependency, so this row appears only where it was
    installed for the measurement. Checked to give the own signer's Authorization first."""
    try:
        import awscrt.auth
        import awscrt.http
    except ImportError:
        return None
    import datetime
    import hashlib

    provider = awscrt.auth.AwsCredentialsProvider.new_static(credentials.access_key, credentials.secret_key,
                                                            credentials.token)
    target = transport.TARGET_PREFIX + "GetItem"

    def sign(when: datetime.datetime | None = None) -> dict[str, str]:
        request = awscrt.http.HttpRequest("POST", "/", awscrt.http.HttpHeaders(
            [("Host", host), ("Content-Type", transport.CONTENT_TYPE), ("X-Amz-Target", target)]))
        config = awscrt.auth.AwsSigningConfig(
            algorithm=awscrt.auth.AwsSigningAlgorithm.V4,
            signature_type=awscrt.auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
            credentials_provider=provider, region="us-east-1", service="dynamodb",
            date=when or datetime.datetime.now(datetime.UTC), use_double_uri_encode=False,
            should_normalize_uri_path=True, signed_body_value=hashlib.sha256(body).hexdigest(),
            signed_body_header_type=awscrt.auth.AwsSignedBodyHeaderType.NONE)
        awscrt.auth.aws_sign_request(request, config).result()
        return dict(request.headers)

    when = datetime.datetime(2026, 3, 5, 10, 15, 2, tzinfo=datetime.UTC)
    from itemstore.sigv4 import SigV4Signer

    ours = SigV4Signer("us-east-1", "dynamodb", host).sign(
        {"Content-Type": transport.CONTENT_TYPE, "X-Amz-Target": target}, body, credentials, "20260305T101502Z")
    if sign(when)["Authorization"] != ours["Authorization"]:
        raise SystemExit("awscrt signs the benchmark request differently from itemstore.sigv4")
    return sign


def _change(before: float, after: float) -> str:
    return f"{100 * (after - before) / before:+.1f} %"


def print_results(rows: list[dict], clients: dict, signers: dict, args) -> None:
    load = os.getloadavg()
    print(f"\n{args.seconds:g} s per row, {args.connections} connections, wrk on loopback, "
          f"gunicorn as the image runs it, dynalite as DynamoDB; {os.cpu_count()} CPUs; "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)")
    print(f"{'service':<10} {'tree':<8} {'method':<6} {'round':>5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'CPU ms/req':>10} {'user':>6} {'sys':>6} {'switch':>6} {'errors':>6} {'MiB rest':>8} {'MiB peak':>8} "
          f"{'load':>5}")
    for row in rows:
        print(f"{row['service']:<10} {row['tree']:<8} {row['method']:<6} {row['round']:>5} {row['rps']:>8.0f} "
              f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['cpu_ms']:>10.3f} {row['user_ms']:>6.3f} "
              f"{row['system_ms']:>6.3f} {row['switches']:>6.2f} {row['errors']:>6} {row['rest_mib']:>8.1f} "
              f"{row['peak_mib']:>8.1f} {row['load']:>5.1f}")
    print(f"(user, sys: CPU ms per request in user and kernel mode; switch: context switches per request, all "
          f"threads; MiB: the gunicorn tree's PSS at rest and at its peak under load, the smallest Fargate task has "
          f"{FARGATE_SMALLEST_MIB} MiB; load: the 1-minute load average as the row ended)")
    trees = list(dict.fromkeys(row["tree"] for row in rows))
    if "before" in trees:
        print(f"\n{'CPU ms/request, mean of rounds':<32} {'before':>8} {'after':>8} {'change':>9}")
        for service, method in dict.fromkeys((row["service"], row["method"]) for row in rows):
            mean = {tree: statistics.fmean(row["cpu_ms"] for row in rows if (row["service"], row["method"],
                                                                              row["tree"]) == (service, method, tree))
                    for tree in ("before", "after")}
            print(f"{service + ' ' + method:<32} {mean['before']:>8.3f} {mean['after']:>8.3f} "
                  f"{_change(mean['before'], mean['after']):>9}")
    operations = list(dict.fromkeys(operation for operation, _ in clients))
    labels = list(dict.fromkeys(label for _, label in clients))
    print(f"\n{'client call, in-process':<28} " + " ".join(f"{label + ' µs':>16}" for label in labels)
          + (f" {'change':>9}" if "before" in labels else ""))
    print("(CPU per call against dynalite, median of rounds; min–max in brackets)")
    for operation in operations:
        cells, medians = [], {}
        for label in labels:
            values = clients[(operation, label)]
            medians[label] = statistics.median(values)
            cells.append(f"{medians[label]:>5.1f} ({min(values):.0f}–{max(values):.0f})".rjust(16))
        change = f" {_change(medians['before'], medians['after']):>9}" if "before" in labels else ""
        print(f"{operation:<28} " + " ".join(cells) + change)
    reference = "itemstore.sigv4 (before)" if "itemstore.sigv4 (before)" in signers else "itemstore.sigv4 (after)"
    base = statistics.median(signers[reference])
    gets = [row["cpu_ms"] for row in rows if row["method"] == "GET" and row["tree"] == trees[0]]
    get_ms = statistics.fmean(gets) if gets else None
    print(f"\n{'signer, GetItem, in-process':<28} {'CPU µs/signature':>16} {'min–max':>11} "
          f"{'vs ' + reference:>30}" + (f" {'of a GET':>9}" if get_ms else ""))
    for name, values in signers.items():
        median = statistics.median(values)
        share = f" {100 * (median - base) / (1000 * get_ms):>+7.1f} %" if get_ms else ""
        print(f"{name:<28} {median:>16.1f} {f'{min(values):.1f}–{max(values):.1f}':>11} "
              f"{median - base:>+27.1f} µs" + share)
    if get_ms:
        print(f"(of a GET: the difference as a share of the {trees[0]} tree's mean {get_ms:.3f} ms of CPU per GET)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per row (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--rounds", type=int, default=2, help="rows per tree and method, alternating (default 2)")
    parser.add_argument("--service", choices=[s for s, _ in SERVICES], help="only this service")
    parser.add_argument("--original", type=Path, default=os.environ.get("ORIGINAL") or None,
                        help=f"a checkout of {ORIGINAL_FOLDER} ({ORIGINAL_REPOSITORY}), measured beside the "
                             "foodstore (default ORIGINAL from the environment; unset: not measured)")
    parser.add_argument("--baseline", default=os.environ.get("BENCH_BASELINE", BASELINE_REF),
                        help="git commit whose containers/ is measured beside the working tree's ('none': "
                             "skip; default BENCH_BASELINE, else %(default)s)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench-containers does it)")
    if not DYNALITE.exists():
        raise SystemExit("dynalite is missing: `make node_modules/.installed`")
    original = prepare_original(args.original) if args.original is not None else None
    for name, value in AWS_ENV.items():
        os.environ[name] = value

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-containers-") as tmp:
        workdir = Path(tmp)
        baseline = None if args.baseline == "none" else export_baseline(args.baseline, workdir)
        trees = ([("before", baseline)] if baseline is not None else []) + [("after", CONTAINERS)]
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
                    rows.extend(bench_service(name, image, url, args, workdir, trees,
                                              original if name == ORIGINAL_SERVICE else None))
            modules = load_clients(baseline, workdir)
            clients = bench_client_calls(modules, url)
            signers = bench_signers(modules)
        finally:
            dynalite.terminate()
            dynalite.wait(30)

    if baseline is not None:
        print(f"\nbefore: containers/ of {args.baseline}; after: the working tree's")
    print_results(rows, clients, signers, args)
    if original is not None:
        print(f"original: {original} (node {node_version()})")
        print_original(original_ratios(rows))
    else:
        print("\n" + original_help("The original was not measured (ORIGINAL unset)."))
    return 1 if any(row["errors"] for row in rows) else 0


def node_version() -> str:
    return subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
