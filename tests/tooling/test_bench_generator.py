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


def test_side_by_side_runs_the_two_commands_in_turn_after_a_warm_up_each(bench):
    order = []

    def timing(name, wall):
        def run():
            order.append(name)
            return wall * len(order), 0.5
        return run

    (ours, ours_cpu), (theirs, theirs_cpu) = bench.side_by_side(timing("ecsapi", 0.1), timing("cdk", 1.0), 3)
    assert order == ["ecsapi", "cdk"] * 4  # the first pair is the untimed warm-up
    assert ours == pytest.approx([0.3, 0.5, 0.7]) and theirs == pytest.approx([4.0, 6.0, 8.0])
    assert ours_cpu == theirs_cpu == [0.5, 0.5, 0.5]


def test_the_comparison_is_the_ratio_of_the_medians_with_each_pairs_ratio_beside_it(bench, monkeypatch):
    monkeypatch.setattr(bench, "CDK_TARGET_RATIO", 30)
    ecsapi = ([0.100, 0.200, 0.110, 0.120, 0.100], [0.09, 0.09, 0.10, 0.10, 0.10])
    cdk = ([3.0, 4.0, 3.3, 3.6, 3.5], [4.0, 4.0, 4.0, 4.0, 4.0])
    text = "\n".join(bench.cdk_comparison(ecsapi, cdk))
    assert "3.5 ms" not in text and "110 ms median" in text and "3500 ms median" in text
    assert "31.8x faster (wall" in text and "40.0x (CPU)" in text and "meets the 30x target" in text
    # The pairs' ratios: 30, 20, 30, 30, 35.
    assert "median 30.0x" in text and "lowest 20.0x" in text and "highest 35.0x" in text
    slower = ([0.120] * 5, ecsapi[1])
    assert "MISSES the 30x target" in "\n".join(bench.cdk_comparison(slower, cdk))


def test_pair_ratios_need_as_many_runs_of_each(bench):
    assert bench.pair_ratios([0.1, 0.2], [3.0, 4.0]) == pytest.approx([30.0, 20.0])
    with pytest.raises(ValueError):
        bench.pair_ratios([0.1], [3.0, 4.0])
