"""The generator benchmark's own arithmetic: the package groups its import table adds up, the
linearity verdict on render time per service, source paths without the machine's prefix, and the
instruction count read from callgrind's report."""

from __future__ import annotations

import importlib.util

import pytest

from tests.support.processes import REPO


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_generator", REPO / "scripts" / "bench_generator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("module", "group"), [
    ("generator", "generator"),
    ("generator.version", "generator"),
    ("generator.template.network", "generator.template"),
    ("generator.model.config", "generator.model"),
    ("troposphere.validators.ec2", "troposphere"),
    ("awacs.aws", "awacs"),
    ("orjson.orjson", "orjson"),
    ("itemstore.settings", "itemstore"),
    ("uuid", "standard library and start-up"),
])
def test_modules_count_under_their_package(bench, module, group):
    assert bench.import_groups(module) == group


def rows(times: dict[int, float]) -> list[tuple]:
    """Benchmark rows (count, resources, in-process seconds, ...) with only what linearity reads."""
    return [(count, 0, seconds, None, None, 0) for count, seconds in times.items()]


def test_a_constant_cost_per_service_is_linear(bench):
    line = bench.linearity(rows({1: 0.015, 2: 0.020, 10: 0.060, 22: 0.120}))
    assert "5.00 ms per added service from 1 to 10" in line
    assert ": linear (ratio 1.00)" in line


def test_a_cost_per_service_that_grows_is_not_linear(bench):
    line = bench.linearity(rows({1: 0.015, 2: 0.020, 10: 0.060, 22: 0.300}))
    assert "NOT linear" in line


def test_source_paths_lose_the_machines_prefix(bench):
    assert bench.relative_source(f"{REPO}/generator/tooling/render.py") == "generator/tooling/render.py"
    assert bench.relative_source("/x/.venv/lib/python3.11/site-packages/troposphere/__init__.py") == \
        "troposphere/__init__.py"
    assert bench.relative_source("/usr/lib/python3.11/json/encoder.py") == "json/encoder.py"


def test_the_instruction_count_is_read_from_callgrinds_report(bench):
    report = "==4242== Events    : Ir\n==4242== Collected : 613470117\n==4242==\n==4242== I   refs:      613,470,117\n"
    assert bench.collected(report) == 613_470_117
    assert bench.collected("wrote templates/ecsapi.json\n") is None


def test_the_cold_run_is_the_console_script_a_user_runs(bench, tmp_path):
    command = bench.cold_command(tmp_path)
    script = bench.ECSAPI_SCRIPT
    assert command[:3] == [bench.sys.executable, str(script), "template"]
    # The script is what pip wrote for setup.cfg's entry point, and its first line names this interpreter.
    shebang = script.read_text(encoding="utf-8").splitlines()[0]
    assert shebang.startswith("#!") and bench.Path(shebang[2:].strip()).samefile(bench.sys.executable)


def test_without_the_console_script_the_cold_run_is_the_module(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "ECSAPI_SCRIPT", tmp_path / "no-such-script")
    assert bench.cold_command(tmp_path)[1:4] == ["-m", "generator", "template"]
