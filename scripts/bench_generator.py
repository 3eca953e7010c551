"""Benchmark: how long generating a stack takes, in-process and as a cold CLI process.

Prints one table: for 1, 2, 10 and the most services that fit, the median in-process render time
(build + JSON), its cost per service, the median wall time of a cold `python -m generator` process
(what `make template` runs), and the template's size. Target for the default (2-service) stack: a
cold process under 0.15 s median, and render time growing linearly with the number of services.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator import ReleaseSettings, ServiceSpec, StackConfig
from generator.limits import fit_of
from generator.render import render_template, usage_of

COLD_TARGET_SECONDS = 0.15


def services(count: int) -> StackConfig:
    if count == 2:
        return StackConfig()  # the default stack, exactly what `make template` renders
    return StackConfig(services=tuple(ServiceSpec(name=f"svc{i}", path=f"/svc{i}/items/{{id}}") for i in range(count)))


def as_toml(config: StackConfig) -> str:
    return "".join(f'[[services]]\nname = "{s.name}"\npath = "{s.path}"\n' for s in config.services)


def median_seconds(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--runs", type=int, default=15, help="repetitions per measurement (default 15)")
    runs = options.parse_args().runs
    release = ReleaseSettings()
    most = fit_of(services(2), lambda config: usage_of(config, release))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for count in (1, 2, 10, most):
            config = services(count)
            text, _, usage = render_template(config, release)
            in_process = median_seconds(lambda config=config: render_template(config, release), runs)
            command = [sys.executable, "-m", "generator", "template", "--out", str(Path(scratch) / "out")]
            if count != 2:
                path = Path(scratch) / f"{count}.toml"
                path.write_text(as_toml(config))
                command += ["--config", str(path)]
            cold = median_seconds(
                lambda command=command: subprocess.run(command, check=True, stdout=subprocess.DEVNULL), runs
            )
            rows.append((count, usage.resources, in_process, in_process / count, cold, len(text.encode())))

    print(f"Generator benchmark ({runs} runs each, medians; cold = a new `python -m generator template` process)")
    print()
    print("| services | resources | in-process ms | ms / service | cold CLI ms | template bytes |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for count, resources, in_process, per_service, cold, size in rows:
        print(f"| {count} | {resources} | {in_process * 1000:.1f} | {per_service * 1000:.2f} | {cold * 1000:.0f} | {size:,} |")
    default_cold = next(row[4] for row in rows if row[0] == 2)
    verdict = "meets" if default_cold < COLD_TARGET_SECONDS else "MISSES"
    print()
    print(f"default stack, cold process: {default_cold * 1000:.0f} ms median: {verdict} the "
          f"{COLD_TARGET_SECONDS * 1000:.0f} ms target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
