"""The examples a user copies (examples/*/*.toml) render, lint and scan clean like the stacks/
variants, and say what their READMEs say."""

from __future__ import annotations

import pytest

from generator import build_template
from generator.model.config_file import load_config
from generator.tooling.render import template_json
from tests.support.processes import REPO
from tests.support.templates import cfn_lint, checkov_report

EXAMPLES = {path.parent.name: path for path in sorted((REPO / "examples").glob("*/*.toml"))}


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


@pytest.mark.integration
def test_checkov_finds_no_failed_check_in_the_examples(tmp_path):
    for name, path in EXAMPLES.items():
        (tmp_path / f"{name}.json").write_text(template_json(build_template(load_config(path))))
    report = checkov_report(tmp_path)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [], failed
    assert report["summary"]["passed"] > 60 * len(EXAMPLES)
