"""Benchmark: how long generating a stack takes, in-process and as a cold CLI process.

Prints one table: for 1, 2, 10 and the most services that fit, the median in-process render time
(build + JSON), its cost per service, the median wall time of a cold `.venv/bin/python -m generator`
process (what `make template` runs) with its interquartile range and its median CPU time (user +
system), and the template's size; then the cold time of the default stack with `--format yaml`, the
only command that loads YAML support.
Target for the default (2-service) stack: a cold process at least 30 times faster than an
equivalent AWS CDK synth (scripts/cdk_equivalent/app.js, the same stack in aws-cdk-lib, timed as
`node app.js` in the same run: without the CDK CLI, so a lower bound on `cdk synth`), and render
time growing linearly with the number of services. (The 1.0.0 and 2.0.0 absolute target, 0.15 s,
was withdrawn: a ratio measured side by side holds on a slow or a busy machine alike.)

Wall times grow on a busy machine, so the machine's CPU count and load average (before and after)
are printed with the numbers, a load above half the CPU count is flagged, and the cold process's
CPU time, which a busy machine inflates far less, is shown beside its wall time. Each measurement is taken
`--runs` times after one untimed warm-up run, and the median is reported.
"""

from __future__ import annotations

import argparse
import os
import resource
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
CDK_RUNS = 5  # each synth takes seconds: fewer runs, still a median


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


def cold_command(scratch: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "generator", "template", "--out", str(scratch / "out"), *options]


def timed_process(command: list[str], runs: int, **popen) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of each of ``runs`` runs of ``command``, after a warm-up run.
    CPU time (user + system, from the kernel's accounting of finished children) counts only the
    process's own work, so it grows far less than wall time when other work shares the CPUs."""
    # stderr too: the CLI's one-line note that a template is too large to deploy inline is not news here.
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def cdk_synth(scratch: Path) -> tuple[list[float], list[float]] | None:
    """Wall and CPU seconds of cold ``node app.js`` runs of the CDK equivalent, or None (and a
    note) when its packages are not installed (``make bench-generator`` installs them)."""
    if not (CDK_APP / "node_modules" / "aws-cdk-lib").is_dir():
        print(f"note: {CDK_APP.name}/node_modules is missing: run `make bench-generator` for the CDK comparison",
              file=sys.stderr)
        return None
    command = ["node", str(CDK_APP / "app.js")]
    env = {**os.environ, "CDK_OUTDIR": str(scratch / "cdk.out")}
    return timed_process(command, CDK_RUNS, cwd=CDK_APP, env=env)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--runs", type=int, default=21, help="repetitions per measurement (default 21)")
    runs = options.parse_args().runs
    if runs < 5:
        options.error("--runs: use at least 5, or the median and quartiles mean little")
    cpus = usable_cpus()
    load_before = machine_load()
    busy_before = busy(cpus)
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
        cdk = cdk_synth(Path(scratch))
    busy_after = busy(cpus)

    print(f"Generator benchmark: {runs} runs each after a warm-up, medians; cold = a new "
          f"`{os.path.relpath(sys.executable)} -m generator template` process")
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
    default_walls, default_cpu = next(row[4] for row in rows if row[0] == 2)
    default_cold = statistics.median(default_walls)
    print()
    print(f"default stack, cold process: {default_cold * 1000:.0f} ms median, CPU "
          f"{statistics.median(default_cpu) * 1000:.0f} ms")
    if cdk is not None:
        cdk_walls, cdk_cpu = cdk
        ratio = statistics.median(cdk_walls) / default_cold
        cpu_ratio = statistics.median(cdk_cpu) / statistics.median(default_cpu)
        verdict = "meets" if ratio >= CDK_TARGET_RATIO else "MISSES"
        print(f"equivalent CDK synth (node {CDK_APP.name}/app.js, {CDK_RUNS} runs): "
              f"{statistics.median(cdk_walls) * 1000:.0f} ms median, p25–p75 {quartiles_ms(cdk_walls)} ms, CPU "
              f"{statistics.median(cdk_cpu) * 1000:.0f} ms")
        print(f"ecsapi is {ratio:.1f}x faster (wall), {cpu_ratio:.1f}x (CPU): {verdict} the "
              f"{CDK_TARGET_RATIO}x target")
    yaml_walls, yaml_cpu = yaml_cold
    print(f"default stack, cold process with --format yaml (loads PyYAML and cfn_flip): "
          f"{statistics.median(yaml_walls) * 1000:.0f} ms median, p25–p75 {quartiles_ms(yaml_walls)} ms, "
          f"CPU {statistics.median(yaml_cpu) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
