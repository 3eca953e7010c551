"""The examples a user copies (examples/*/*.toml) render, lint and scan clean like the stacks/
variants (checkov scans them with the variants: tests/template/test_security.py), and say what
their READMEs say."""

from __future__ import annotations

import pytest

from generator import build_template
from generator.model.config_file import load_config
from generator.tooling.render import template_json
from tests.support.templates import EXAMPLES, cfn_lint


def test_there_is_an_example_of_your_own_service():
    assert "orders" in EXAMPLES
    config = load_config(EXAMPLES["orders"])
    assert not any(s.is_item_store for s in config.services)


def test_the_order_example_has_what_its_readme_promises():
    [orders] = load_config(EXAMPLES["orders"]).services
    methods = {r.method for r in orders.routes}
    assert {"POST", "DELETE"} <= methods
    assert any(r.scopes for r in orders.routes)
    assert [t.sort_key is not None for t in orders.tables] == [False, True]
    assert dict(orders.secrets) and dict(orders.local.secrets).keys() == dict(orders.secrets).keys()
    assert orders.container_health_check is not None
    assert (EXAMPLES["orders"].parent / "Dockerfile").exists()


@pytest.mark.integration
@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_each_example_has_zero_cfn_lint_findings(example, tmp_path):
    path = tmp_path / f"{example}.json"
    path.write_text(template_json(build_template(load_config(EXAMPLES[example]))))
    assert cfn_lint(path) == []
