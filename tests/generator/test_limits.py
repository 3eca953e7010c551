"""Quotas are checked before anything is written, and the error says how many services fit."""

from __future__ import annotations

import pytest

from generator import ConfigError, ServiceSpec, StackConfig
from generator.tooling.cli import main
from generator.tooling.render import render_template

MOST_SERVICES = 30  # the default options under CloudFormation's 500 resources (31 before the EventBridge answer)


def many(count: int) -> StackConfig:
    return StackConfig(services=tuple(ServiceSpec(name=f"svc{i}", path=f"/svc{i}/items/{{id}}") for i in range(count)))


def test_the_most_services_that_fit_render(release):
    _, template, usage = render_template(many(MOST_SERVICES), release)
    assert usage.resources <= 500 < usage.resources + 14
    assert len(template["Resources"]) == usage.resources


def test_one_service_more_is_refused_saying_how_many_fit(release):
    with pytest.raises(ConfigError) as caught:
        render_template(many(MOST_SERVICES + 1), release)
    assert caught.value.field == "services"
    assert f"at most {MOST_SERVICES} services like these fit" in str(caught.value)


def test_a_refused_config_writes_nothing(tmp_path, capsys):
    path = tmp_path / "big.toml"
    path.write_text("".join(f'[[services]]\nname = "svc{i}"\npath = "/svc{i}/items/{{id}}"\n' for i in range(40)))
    out = tmp_path / "out"
    assert main(["--config", str(path), "--out", str(out)]) == 2
    assert not out.exists()
    assert f"at most {MOST_SERVICES} services" in capsys.readouterr().err
