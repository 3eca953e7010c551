"""The figures and samples of the docs (docs/*.md and README.md), generated from the code, never typed.

A page marks each one with an HTML comment pair that renders as nothing on GitHub and on the site:

    the default stack creates <!-- sample:default-resources -->115<!-- /sample --> resources

``SAMPLES`` maps each name to the function that produces its text today. Without arguments this
script lists the stale marks and exits 1 if there are any; with ``--write`` it rewrites them.
tests/test_docs_samples.py fails when a mark is stale, unknown, or a sample unused.

    .venv/bin/python scripts/docs_samples.py --write
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A mark's body is inline (``115``) or a block; a block's text starts and ends with a blank line,
# so that Markdown reads the fenced block or table as such and the comments as raw HTML beside it.
MARK = re.compile(r"<!-- sample:(?P<name>[a-z0-9-]+) -->(?P<body>.*?)<!-- /sample -->", re.S)
DIFF_COMMAND = "ecsapi diff today.json --config two-azs.toml"


def pages() -> list[Path]:
    """Every Markdown file whose marks this script owns: the docs site's pages and the README."""
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _block(text: str) -> str:
    return f"\n\n{text.strip(chr(10))}\n\n"


def _usd(amount: float) -> str:
    return f"${amount:,.2f}"


def _cli(*arguments: str) -> tuple[int, str]:
    """(exit status, stdout) of ``ecsapi ARGUMENTS`` in-process."""
    from generator.tooling.cli import main

    out = io.StringIO()
    # stderr too: the template-size warning is not part of any sample.
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(list(arguments))
    return status, out.getvalue()


@functools.cache
def _config(name: str):
    """A stacks/ configuration by name ("default" is the built-in default, which stacks/default.toml equals)."""
    from generator.model.config import StackConfig
    from generator.model.config_file import load_config

    return StackConfig() if name == "default" else load_config(REPO / "stacks" / f"{name}.toml")


def _idle_costs(config) -> list[tuple[str, str, float]]:
    """``ecsapi describe``'s idle monthly cost rows (the same functions, the same template)."""
    from generator.tooling.describe import idle_monthly_cost
    from generator.tooling.monitoring_cost import idle_monitoring_items
    from generator.tooling.release import ReleaseSettings
    from generator.tooling.render import render_template

    _, template, _ = render_template(config, ReleaseSettings())
    *fixed, by_use = idle_monthly_cost(config)
    return [*fixed, *idle_monitoring_items(config, template), by_use]


def _idle_total(config) -> float:
    return sum(usd for *_, usd in _idle_costs(config))


def diff_sample() -> str:
    """``ecsapi diff`` of the default template against ``az_count = 2``, with its exit status."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            _cli("template", "--out", ".")
            (rendered,) = [p for p in Path(".").glob("ecsapi-v*.json") if not p.name.endswith(".openapi.json")]
            rendered.rename("today.json")
            Path("two-azs.toml").write_text("az_count = 2\n")
            status, out = _cli(*DIFF_COMMAND.split()[1:])
        finally:
            os.chdir(here)
    return _block(f"```console\n$ {DIFF_COMMAND}\n{out}$ echo $?\n{status}\n```")


def default_resources() -> str:
    from generator.tooling.release import ReleaseSettings
    from generator.tooling.render import render_template

    _, _, usage = render_template(_config("default"), ReleaseSettings())
    return str(usage.resources)


def lean_cost_table() -> str:
    """The idle-cost table ``ecsapi describe --config stacks/lean.toml`` prints, as it prints it."""
    _, out = _cli("describe", "--config", str(REPO / "stacks" / "lean.toml"))
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Estimated idle monthly cost")) + 2
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("  total:"))
    return _block("```\n" + "\n".join(lines[start:end + 1]) + "\n```")


def _lean_with(**changes) -> float:
    return _idle_total(dataclasses.replace(_config("lean"), **changes))


def lean_second_service() -> str:
    """What a second service like the first adds to the lean stack's idle cost, a month."""
    from generator.model.config import ServiceSpec

    lean = _config("lean")
    second = ServiceSpec(name="second", path="/second/items/{itemId}", cpu=lean.services[0].cpu,
                         memory=lean.services[0].memory, min_tasks=lean.services[0].min_tasks)
    return _usd(_lean_with(services=(*lean.services, second)) - _idle_total(lean))


def lean_single_nat() -> str:
    """The lean stack with one NAT gateway instead of its tasks' public addresses."""
    from generator.model.config import NatMode

    return _usd(_lean_with(nat_mode=NatMode.SINGLE))


def nat_gateway_month() -> float:
    from generator.model.prices import HOURS_PER_MONTH, NAT_GATEWAY_HOUR

    return NAT_GATEWAY_HOUR * HOURS_PER_MONTH


def public_ipv4_month() -> float:
    from generator.model.prices import HOURS_PER_MONTH, PUBLIC_IPV4_HOUR

    return PUBLIC_IPV4_HOUR * HOURS_PER_MONTH


# The interface endpoints a task needs without any internet route: ECR's API and registry, CloudWatch Logs.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs")


def interface_endpoints_month() -> float:
    """The endpoints in each of the lean stack's AZs, a month (generator/model/prices.py)."""
    from generator.model.prices import HOURS_PER_MONTH, INTERFACE_ENDPOINT_AZ_HOUR

    return len(INTERFACE_ENDPOINTS) * _config("lean").az_count * INTERFACE_ENDPOINT_AZ_HOUR * HOURS_PER_MONTH


def lean_with_interface_endpoints() -> str:
    """The lean stack with interface endpoints instead of its tasks' public addresses."""
    from generator.tooling.describe import tasks_with_public_ip

    lean = _config("lean")
    return _usd(_idle_total(lean) - tasks_with_public_ip(lean) * public_ipv4_month() + interface_endpoints_month())


def container_insights_cost() -> str:
    """The default stack's Container Insights line."""
    (usd,) = [usd for item, _, usd in _idle_costs(_config("default")) if item == "Container Insights"]
    return _usd(usd)


def per_million_requests() -> str:
    from generator.tooling.describe import cost_per_million_requests

    return _usd(sum(usd for *_, usd in cost_per_million_requests(_config("default"))))


def account_quota_table() -> str:
    """The account quotas a launch of the default stack draws on (generator/model/account_quotas.py)."""
    from generator.model.account_quotas import ACCOUNT_QUOTAS

    rows = ["| quota (Service Quotas code) | AWS default | the default stack needs | if short |", "| --- | --- | --- | --- |"]
    for quota in ACCOUNT_QUOTAS:
        default = "set per account" if quota.default is None else f"{quota.default} {quota.scope}"
        rows.append(f"| {quota.name} (`{quota.quota_code}`) | {default} | {quota.needs(_config('default'))} | "
                    f"{quota.fallback} |")
    return _block("\n".join(rows))


SAMPLES: dict[str, Callable[[], str]] = {
    "diff": diff_sample,
    "default-resources": default_resources,
    "default-idle-cost": lambda: _usd(_idle_total(_config("default"))),
    "default-container-insights-cost": container_insights_cost,
    "per-million-requests": per_million_requests,
    "lean-cost-table": lean_cost_table,
    "lean-idle-cost": lambda: _usd(_idle_total(_config("lean"))),
    "lean-single-nat-cost": lean_single_nat,
    "lean-second-service-cost": lean_second_service,
    "nat-gateway-month": lambda: _usd(nat_gateway_month()),
    "public-ipv4-month": lambda: _usd(public_ipv4_month()),
    "nat-and-address-month": lambda: _usd(nat_gateway_month() + public_ipv4_month()),
    "interface-endpoints-month": lambda: _usd(interface_endpoints_month()),
    "lean-interface-endpoints-cost": lean_with_interface_endpoints,
    "account-quotas": account_quota_table,
}


@functools.cache
def sample(name: str) -> str:
    return SAMPLES[name]()


def marks(text: str) -> list[tuple[str, str]]:
    """(name, body) of every mark in ``text``, in order."""
    return [(m["name"], m["body"]) for m in MARK.finditer(text)]


def rewrite(text: str) -> str:
    """``text`` with every mark's body replaced by the sample's text today."""
    return MARK.sub(lambda m: f"<!-- sample:{m['name']} -->{sample(m['name'])}<!-- /sample -->", text)


def main(argv: list[str]) -> int:
    stale = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        fresh = rewrite(text)
        if fresh != text:
            stale.append(page.relative_to(REPO))
            if "--write" in argv:
                page.write_text(fresh, encoding="utf-8")
    for page in stale:
        print(f"{'rewrote' if '--write' in argv else 'stale'}: {page}")
    return 1 if stale and "--write" not in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
