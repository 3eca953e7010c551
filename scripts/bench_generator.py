"""Benchmark: how long generating a stack takes, in-process and as a cold CLI process.

Prints one table: for 1, 2, 10 and the most services that fit, the median in-process render time
(build + JSON), its cost per service, the median wall time of a cold `ecsapi template` process (the
console script pip installs beside the interpreter, what a user runs; `python -m generator` where
there is none, as `make template` runs it: the two execute the same instructions to within 0.1%)
with its interquartile range and its median CPU time (user + system), and the template's size; then the cold time of the default stack with `--format yaml`, the
only command that loads YAML support.
Target for the default (2-service) stack: a cold process at least 30 times faster than an
equivalent AWS CDK synth (scripts/cdk_equivalent/app.js, the same stack in aws-cdk-lib, timed as
`node app.js`: without the CDK CLI, so a lower bound on `cdk synth`), and render time growing
linearly with the number of services. (The 1.0.0 and 2.0.0 absolute target, 0.15 s, was withdrawn:
a ratio measured side by side holds on a slow or a busy machine alike.)

Side by side means interleaved: the ratio comes from its own runs, a cold `ecsapi template`, then a
CDK synth, then `ecsapi template` again, and so on (CDK_PAIRS of each), and is the ratio of the two
medians. Timed minutes apart, as the table's runs and a block of CDK runs used to be, the two saw a
machine whose speed had drifted meanwhile (other load on a shared host), and the ratio of one run
of this benchmark swung from 17x to 41x on an otherwise idle machine at an unchanged instruction
count. Interleaved, a slow spell slows both commands of the pairs it spans, so it moves both
medians and much less their ratio (25x to 33x in five runs on a shared machine: docs/performance.md).
Each pair's own ratio is printed too (median and spread): a wide spread says the machine changed
speed within a few seconds, and the figure is less sure.

The cold process runs with compiled bytecode, as an installed ecsapi does (pip compiles it at
install): the benchmark compiles the checkout's packages first, since an environment with
PYTHONDONTWRITEBYTECODE set would otherwise have every run compile them again (~50 ms of CPU).

Notes: ``.bench/generator-profile.md`` gets the two profiles of one cold default run the
README's performance section quotes: ``python -X importtime`` grouped by package with the
costliest modules, and cProfile's costliest functions. The summary lines are printed too, and,
where valgrind is installed, the instructions one cold default run executes (callgrind), the figure
that compares two versions whatever the machine's load.

Wall times grow on a busy machine, so the machine's CPU count and load average (before and after)
are printed with the numbers, a load above half the CPU count is flagged, and the cold process's
CPU time, which a busy machine inflates far less, is shown beside its wall time. Each measurement is taken
`--runs` times after one untimed warm-up run (the side-by-side comparison CDK_PAIRS times), and the
median is reported.
"""

from __future__ import annotations

import argparse
import collections
import compileall
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator import ReleaseSettings, ServiceSpec, StackConfig
from generator.model.limits import fit_of
from generator.tooling.render import render_template, usage_of

CDK_TARGET_RATIO = 30
CDK_APP = Path(__file__).resolve().parent / "cdk_equivalent"
CDK_PAIRS = 11  # each synth takes seconds: fewer runs than --runs, still a median
REPO = Path(__file__).resolve().parents[1]
# The checkout's packages a cold run imports (the rest of what it imports was compiled at install).
PACKAGES = ("generator", "containers/itemstore", "ecsapi_local")
NOTES = REPO / ".bench" / "generator-profile.md"
PROFILE_RUNS = 7  # -X importtime runs, medians per module
TOP = 15  # rows of each profile table
LAYERS = ("model", "template", "runs_in_aws", "tooling")
# cProfile rows of the import machinery itself: the modules' own rows show where import time goes.
IMPORT_MACHINERY = ("<frozen importlib", "<built-in method builtins.__import__>", "<frozen runpy>")


def services(count: int) -> StackConfig:
    if count == 2:
        return StackConfig()  # the default stack, exactly what `make template` renders
    return StackConfig(services=tuple(ServiceSpec(name=f"svc{i}", path=f"/svc{i}/items/{{id}}") for i in range(count)))


def as_toml(config: StackConfig) -> str:
    return "".join(f'[[services]]\nname = "{s.name}"\npath = "{s.path}"\n' for s in config.services)


def timed(action, runs: int) -> list[float]:
    """Seconds per call of ``action``, ``runs`` times, after one untimed warm-up call (which pays
    for cold disk caches and bytecode compilation, not what is measured)."""
    action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def quartiles_ms(samples: list[float]) -> str:
    """``p25–p75`` in milliseconds: how far the runs spread around the median."""
    low, _, high = statistics.quantiles(samples, n=4)
    return f"{low * 1000:.0f}–{high * 1000:.0f}"


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def machine_load() -> str:
    """CPU count (and how many this process may use) and the 1/5/15-minute load averages."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} CPUs ({usable_cpus()} usable), load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


def busy(cpus: int) -> bool:
    return os.getloadavg()[0] > cpus / 2


# The console script pip wrote for this environment (setup.cfg's entry point): what a user runs.
ECSAPI_SCRIPT = Path(sys.executable).with_name("ecsapi")


def cold_program() -> list[str]:
    """The interpreter's arguments that start the CLI: the ``ecsapi`` script, run by the interpreter
    its first line names (this one), or ``-m generator`` where the script is not installed."""
    return [str(ECSAPI_SCRIPT)] if ECSAPI_SCRIPT.is_file() else ["-m", "generator"]


def cold_command(scratch: Path, *options: str) -> list[str]:
    return [sys.executable, *cold_program(), "template", "--out", str(scratch / "out"), *options]


def run_once(command: list[str], **popen) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``command``. CPU time (user + system, from the
    kernel's accounting of finished children) counts only the process's own work, so it grows far
    less than wall time when other work shares the CPUs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # stderr too: the CLI's one-line note that a template is too large to deploy inline is not news here.
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def timed_process(command: list[str], runs: int, **popen) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of each of ``runs`` runs of ``command``, after a warm-up run."""
    run_once(command, **popen)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = run_once(command, **popen)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


Timings = tuple[list[float], list[float]]  # (wall seconds, CPU seconds) per run


def side_by_side(first, second, pairs: int) -> tuple[Timings, Timings]:
    """Timings of ``first()`` and ``second()`` (each returns one run's (wall, CPU) seconds), run in
    turn ``pairs`` times (first, second, first, second, ...) after one untimed warm-up of each, so
    that run i of each saw the same machine (see the docstring on why)."""
    first()
    second()
    timings: tuple[Timings, Timings] = (([], []), ([], []))
    for _ in range(pairs):
        for action, (walls, cpus) in zip((first, second), timings, strict=True):
            wall, cpu = action()
            walls.append(wall)
            cpus.append(cpu)
    return timings


def pair_ratios(ours: list[float], theirs: list[float]) -> list[float]:
    """How many times longer each of ``theirs`` took than the one of ``ours`` timed beside it."""
    return [other / own for own, other in zip(ours, theirs, strict=True)]


def cdk_beside_ecsapi(scratch: Path) -> tuple[Timings, Timings] | None:
    """(cold ``ecsapi template`` of the default stack, cold ``node app.js`` of the CDK equivalent),
    timed side by side, CDK_PAIRS runs each; None (and a note) when the CDK app's packages are not
    installed (``make bench-generator`` installs them)."""
    if not (CDK_APP / "node_modules" / "aws-cdk-lib").is_dir():
        print(f"note: {CDK_APP.name}/node_modules is missing: run `make bench-generator` for the CDK comparison",
              file=sys.stderr)
        return None
    ecsapi = cold_command(scratch)
    cdk = ["node", str(CDK_APP / "app.js")]
    env = {**os.environ, "CDK_OUTDIR": str(scratch / "cdk.out")}
    return side_by_side(lambda: run_once(ecsapi), lambda: run_once(cdk, cwd=CDK_APP, env=env), CDK_PAIRS)


def instruction_count(scratch: Path) -> int | None:
    """Instructions one cold default run executes, counted by valgrind's callgrind: unlike time, a
    busy machine does not change it, so it compares two versions measured at different loads.
    None (and a note) when valgrind is not installed (Debian package ``valgrind``)."""
    if shutil.which("valgrind") is None:
        print("note: valgrind is not installed: no instruction count", file=sys.stderr)
        return None
    result = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cold_command(scratch)],
                            capture_output=True, text=True, check=True)
    return collected(result.stderr)


def collected(report: str) -> int | None:
    """The instruction count in callgrind's closing report (``==PID== Collected : N``), or None."""
    found = re.search(r"^==\d+== Collected : (\d+)$", report, re.MULTILINE)
    return int(found[1]) if found else None


def compile_bytecode() -> None:
    """Compile the checkout's packages, as pip does when it installs a wheel (see the docstring)."""
    for package in PACKAGES:
        if not compileall.compile_dir(str(REPO / package), quiet=1):
            raise SystemExit(f"bench: compiling {package} failed")


def import_groups(name: str) -> str:
    """The package group a module's import time is counted under."""
    parts = name.split(".")
    top = parts[0]
    if top == "generator":
        return f"generator.{parts[1]}" if len(parts) > 1 and parts[1] in LAYERS else "generator"
    if top in ("troposphere", "awacs", "itemstore", "orjson", "cfn_flip"):
        return top
    return "standard library and start-up"


def import_profile(scratch: Path) -> tuple[list[str], list[str]]:
    """(a table by package group, a table of the costliest modules) from -X importtime, medians
    of PROFILE_RUNS cold default runs, self time in ms."""
    own: dict[str, list[float]] = collections.defaultdict(list)
    cumulative: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(PROFILE_RUNS):
        result = subprocess.run([sys.executable, "-X", "importtime", *cold_command(scratch)[1:]],
                                capture_output=True, text=True, check=True)
        for line in result.stderr.splitlines():
            found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
            if found:
                own[found[3]].append(int(found[1]) / 1000)
                cumulative[found[3]].append(int(found[2]) / 1000)
    median = {name: statistics.median(values) for name, values in own.items()}
    groups: dict[str, list[float]] = collections.defaultdict(list)
    for name, ms in median.items():
        groups[import_groups(name)].append(ms)
    total = sum(median.values())
    by_group = ["| package | modules | self ms | share |", "| --- | ---: | ---: | ---: |"]
    for group, values in sorted(groups.items(), key=lambda item: -sum(item[1])):
        by_group.append(f"| {group} | {len(values)} | {sum(values):.1f} | {sum(values) / total:.0%} |")
    by_group.append(f"| all imports | {len(median)} | {total:.1f} | 100% |")
    costliest = ["| module | self ms | with its imports ms |", "| --- | ---: | ---: |"]
    for name, ms in sorted(median.items(), key=lambda item: -item[1])[:TOP]:
        costliest.append(f"| {name} | {ms:.1f} | {statistics.median(cumulative[name]):.1f} |")
    return by_group, costliest


def call_profile(scratch: Path) -> list[str]:
    """The costliest functions of one cold default run under cProfile, by cumulative time
    (cProfile's own overhead inflates Python-heavy code: read it for shares, not for totals)."""
    stats_file = scratch / "cold.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(stats_file), *cold_program(), "template",
                    "--out", str(scratch / "out")], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    stats = pstats.Stats(str(stats_file))
    total = stats.total_tt
    rows = ["| function | calls | own ms | cumulative ms | share |", "| --- | ---: | ---: | ---: | ---: |"]
    entries = sorted(stats.stats.items(), key=lambda item: -item[1][3])  # (cc, nc, tt, ct, callers)
    shown = 0
    for (filename, line, function), (_, calls, own, cumulative, _) in entries:
        where = function if filename == "~" else f"{relative_source(filename)}:{line}({function})"
        if cumulative > total or "cProfile" in where or where.startswith(IMPORT_MACHINERY):
            continue
        rows.append(f"| {where} | {calls} | {own * 1000:.1f} | {cumulative * 1000:.1f} | "
                    f"{cumulative / total:.0%} |")
        shown += 1
        if shown == 2 * TOP:
            break
    rows.append(f"| (the whole run) | | | {total * 1000:.1f} | 100% |")
    return rows


def relative_source(filename: str) -> str:
    """A source path without the machine's prefix: the checkout's, site-packages', or the stdlib's."""
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", f"{REPO.as_posix()}/", "/lib/python"):
        if marker in path:
            tail = path.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python" and "/" in tail else tail
    return path


def cdk_comparison(ecsapi: Timings, cdk: Timings) -> list[str]:
    """The lines that compare the side-by-side runs: each command's medians, the ratio of the wall
    medians (the figure held against the target) and of the CPU medians, and how the ratios of the
    single pairs spread."""
    (ecsapi_walls, ecsapi_cpu), (cdk_walls, cdk_cpu) = ecsapi, cdk
    ratio = statistics.median(cdk_walls) / statistics.median(ecsapi_walls)
    cpu_ratio = statistics.median(cdk_cpu) / statistics.median(ecsapi_cpu)
    ratios = pair_ratios(ecsapi_walls, cdk_walls)
    low, _, high = statistics.quantiles(ratios, n=4)
    verdict = "meets" if ratio >= CDK_TARGET_RATIO else "MISSES"
    return [
        f"side by side, {len(cdk_walls)} pairs (ecsapi template, node {CDK_APP.name}/app.js, ecsapi template, ...):",
        f"  cold ecsapi template: {statistics.median(ecsapi_walls) * 1000:.0f} ms median, p25–p75 "
        f"{quartiles_ms(ecsapi_walls)} ms, CPU {statistics.median(ecsapi_cpu) * 1000:.0f} ms",
        f"  equivalent CDK synth: {statistics.median(cdk_walls) * 1000:.0f} ms median, p25–p75 "
        f"{quartiles_ms(cdk_walls)} ms, CPU {statistics.median(cdk_cpu) * 1000:.0f} ms",
        f"  ecsapi is {ratio:.1f}x faster (wall, ratio of the medians), {cpu_ratio:.1f}x (CPU): {verdict} the "
        f"{CDK_TARGET_RATIO}x target",
        f"  the pairs' own ratios: median {statistics.median(ratios):.1f}x, p25–p75 {low:.1f}–{high:.1f}x, "
        f"lowest {min(ratios):.1f}x, highest {max(ratios):.1f}x",
    ]


def linearity(rows) -> str:
    """How the in-process render time grows per added service, first from 1 to 10 services, then
    from 10 to the most that fit; their ratio near 1 means linear growth."""
    times = {count: in_process for count, _, in_process, *_ in rows}
    most = max(times)
    early = (times[10] - times[1]) / 9
    late = (times[most] - times[10]) / (most - 10)
    verdict = "linear" if 0.5 <= late / early <= 1.5 else "NOT linear"
    return (f"growth: {early * 1000:.2f} ms per added service from 1 to 10 services, {late * 1000:.2f} ms "
            f"from 10 to {most}: {verdict} (ratio {late / early:.2f})")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--runs", type=int, default=21, help="repetitions per measurement (default 21)")
    runs = options.parse_args().runs
    if runs < 5:
        options.error("--runs: use at least 5, or the median and quartiles mean little")
    cpus = usable_cpus()
    load_before = machine_load()
    busy_before = busy(cpus)
    compile_bytecode()
    release = ReleaseSettings()
    most = fit_of(services(2), lambda config: usage_of(config, release))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for count in (1, 2, 10, most):
            config = services(count)
            text, _, usage = render_template(config, release)
            in_process = statistics.median(timed(lambda config=config: render_template(config, release), runs))
            command = cold_command(Path(scratch))
            if count != 2:
                path = Path(scratch) / f"{count}.toml"
                path.write_text(as_toml(config))
                command += ["--config", str(path)]
            cold = timed_process(command, runs)
            rows.append((count, usage.resources, in_process, in_process / count, cold, len(text.encode())))
        yaml_cold = timed_process(cold_command(Path(scratch), "--format", "yaml"), runs)
        cdk = cdk_beside_ecsapi(Path(scratch))
        busy_after = busy(cpus)
        by_group, costliest = import_profile(Path(scratch))
        calls = call_profile(Path(scratch))
        instructions = instruction_count(Path(scratch))

    program = " ".join(os.path.relpath(part) for part in (sys.executable, *cold_program()))
    print(f"Generator benchmark: {runs} runs each after a warm-up, medians; cold = a new `{program} template` process")
    print(f"machine before: {load_before}")
    print(f"machine after:  {machine_load()}")
    if busy_before or busy_after:
        print(f"WARNING: the 1-minute load average was above {cpus / 2:g} (half the usable CPUs): other work "
              "competed for the CPUs and the wall times below are inflated; rerun on a quiet machine")
    print()
    print("| services | resources | in-process ms | ms / service | cold CLI ms | cold p25–p75 ms | cold CPU ms "
          "| template bytes |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for count, resources, in_process, per_service, (walls, cpu), size in rows:
        print(f"| {count} | {resources} | {in_process * 1000:.1f} | {per_service * 1000:.2f} | "
              f"{statistics.median(walls) * 1000:.0f} | {quartiles_ms(walls)} | {statistics.median(cpu) * 1000:.0f} "
              f"| {size:,} |")
    print(linearity(rows))
    default_walls, default_cpu = next(row[4] for row in rows if row[0] == 2)
    default_cold = statistics.median(default_walls)
    print()
    print(f"default stack, cold process: {default_cold * 1000:.0f} ms median, CPU "
          f"{statistics.median(default_cpu) * 1000:.0f} ms")
    if cdk is not None:
        print("\n".join(cdk_comparison(*cdk)))
    if instructions is not None:
        print(f"default stack, cold process: {instructions / 1e6:.0f} million instructions (callgrind, one run)")
    yaml_walls, yaml_cpu = yaml_cold
    print(f"default stack, cold process with --format yaml (loads PyYAML and cfn_flip): "
          f"{statistics.median(yaml_walls) * 1000:.0f} ms median, p25–p75 {quartiles_ms(yaml_walls)} ms, "
          f"CPU {statistics.median(yaml_cpu) * 1000:.0f} ms")
    print()
    print(f"Where a cold default run's imports go (python -X importtime, medians of {PROFILE_RUNS} runs):")
    print("\n".join(by_group))
    NOTES.parent.mkdir(exist_ok=True)
    NOTES.write_text(
        f"# Profile of a cold `ecsapi template` (default stack), {machine_load()}\n\n"
        + (f"Instructions of one cold run (callgrind): {instructions / 1e6:.0f} million\n\n"
           if instructions is not None else "")
        + f"## Imports by package (python -X importtime, self time, medians of {PROFILE_RUNS} runs)\n\n"
        + "\n".join(by_group) + f"\n\n## The {TOP} costliest modules\n\n" + "\n".join(costliest)
        + "\n\n## Functions by cumulative time (cProfile, one run; its overhead inflates Python code)\n\n"
        + "\n".join(calls) + "\n",
        encoding="utf-8",
    )
    print(f"profile tables (imports, costliest modules, cProfile): {os.path.relpath(NOTES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
