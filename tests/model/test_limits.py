"""Quotas are checked before anything is written, and the error says how many services fit."""

from __future__ import annotations

import pytest

from generator import ConfigError, ServiceSpec, StackConfig
from generator.tooling.cli import main
from generator.tooling.render import render_template

# What the default options allow: a service takes 17 resources (14 of its own, and 3 alarms: task
# floor, scaling ceiling, table) of CloudFormation's 500 per template, and about 36 KB of the
# 1,000,000-byte template body an S3-hosted template may have: the body binds first, at 21
# services named like these (svc0 ... svc20; 22 take 1,002,809 bytes).
MOST_SERVICES = 21  # 22 before the topic policy listed each alarm's ARN (issue 26)
RESOURCES_PER_SERVICE = 17
MAX_TEMPLATE_BYTES_S3 = 1_000_000


def many(count: int) -> StackConfig:
    return StackConfig(services=tuple(ServiceSpec(name=f"svc{i}", path=f"/svc{i}/items/{{id}}") for i in range(count)))


def test_the_most_services_that_fit_render(release):
    _, template, usage = render_template(many(MOST_SERVICES), release)
    per_service = usage.template_bytes / MOST_SERVICES
    assert usage.resources + RESOURCES_PER_SERVICE <= 500
    assert usage.template_bytes <= MAX_TEMPLATE_BYTES_S3 < usage.template_bytes + per_service
    assert len(template["Resources"]) == usage.resources


def test_without_alarms_each_service_takes_three_resources_fewer(release):
    _, _, with_alarms = render_template(many(2), release)
    _, _, without = render_template(StackConfig(services=many(2).services, alarms=False), release)
    # Two services' three alarms each, and the API's two alarms, the topic, its policy and subscription.
    assert with_alarms.resources - without.resources == 2 * 3 + 2 + 3


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
