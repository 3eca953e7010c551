"""generator/template/actions.py: every IAM action the template modules name is one awacs knows for that
service, and is written as awacs writes it; no template module imports an awacs per-service module."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import awacs.aws
import pytest

from generator.template import actions

TEMPLATE_MODULES = sorted((Path(actions.__file__).parent).glob("*.py"))
SERVICES = {name: value for name, value in vars(actions).items() if isinstance(value, actions.Service)}


def named_actions() -> set[tuple[str, str, str]]:
    """(file, service variable, action) for each ``<service>.<Action>`` in the template modules,
    through whatever name each module imports the service as."""
    found = set()
    for path in TEMPLATE_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {alias.asname or alias.name: alias.name for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and node.module == "generator.template.actions"
                   for alias in node.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                found.add((path.name, aliases[node.value.id], node.attr))
    return found


def test_the_template_modules_name_their_actions_through_this_module():
    services_used = {service for _, service, _ in named_actions()}
    # The roles' services at least: a scan that finds nothing would pass the test below vacuously.
    assert {"dynamodb", "ecr", "logs", "kms", "s3", "iam", "sns"} <= services_used


def test_each_named_action_is_one_awacs_lists_for_the_service():
    # One test over every action, not one per action: parameters are made at collection, which
    # every test process of the suite repeats, and finding them parses every template module.
    unknown, misspelt = [], []
    for module, service, name in sorted(named_actions()):
        listed = getattr(importlib.import_module(f"awacs.{SERVICES[service].module}"), name, None)
        if not isinstance(listed, awacs.aws.Action):
            unknown.append(f"{module}: {service}.{name}")
        elif getattr(SERVICES[service], name).JSONrepr() != listed.JSONrepr():  # what the template holds
            misspelt.append(f"{module}: {service}.{name}")
    assert (unknown, misspelt) == ([], []), "actions awacs does not know, or spells otherwise"


def test_an_action_is_made_once_and_refuses_names_that_are_not_actions():
    assert actions.ecr.BatchGetImage is actions.ecr.BatchGetImage
    assert actions.awslambda.InvokeFunction.JSONrepr() == "lambda:InvokeFunction"
    with pytest.raises(AttributeError):
        actions.ecr.__deepcopy__  # noqa: B018 - the lookup is the test


def test_no_template_module_imports_an_awacs_service_module():
    # Importing one creates every action of the service (the cost actions.py exists to avoid).
    allowed = {"awacs", "awacs.aws", "awacs.helpers.trust"}
    imported = set()
    for path in TEMPLATE_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("awacs"):
                imported |= {node.module} if node.module != "awacs" else {f"awacs.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("awacs")}
    assert imported - allowed == set()
