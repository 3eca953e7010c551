"""What make local plans for your own services, without servers: which command, folder and
environment each task gets (ecsapi_local.own_services), and the health check's argv."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecsapi_local.own_services import HealthCheck, LocalRunError, plan_services, task_environment
from ecsapi_local.template_reader import read_template, render
from generator.model.config_file import load_config
from tests.support.processes import REPO  # noqa: E402

EXAMPLE = REPO / "examples" / "orders" / "orders.toml"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return load_config(EXAMPLE), read_template(render(EXAMPLE, tmp_path_factory.mktemp("orders")))


def test_the_plan_runs_the_local_command_from_the_stack_files_folder(example):
    config, stack = example
    plan = plan_services(stack, config, EXAMPLE.parent)
    task = plan.own["orders"]
    assert task.argv == tuple(config.services[0].local.command) and task.cwd == EXAMPLE.parent
    assert task.environment == {"BIND_HOST": "127.0.0.1", "GUNICORN_WORKERS": "1", "RECEIPT_KEY": "local-receipt-key"}
    assert plan.item_store == () and plan.skipped == ()


def test_the_task_environment_is_the_definitions_then_local_values_then_local_endpoints(example):
    config, stack = example
    task = plan_services(stack, config, EXAMPLE.parent).own["orders"]
    [container] = stack.containers
    names = {t.logical_id: f"local-{t.logical_id}" for t in stack.tables}
    resolver = stack.resolver("eu-west-1", "local", names)
    base = {"HOME": "/h", "PATH": "/usr/bin", "AWS_PROFILE": "prod", "AWS_ENDPOINT_URL_DYNAMODB": "https://prod"}
    env = task_environment(task, container, resolver, 18123, "http://127.0.0.1:9999", "eu-west-1", base)
    assert env["ORDERS_TABLE"] == "local-OrdersOrdersTable"
    assert env["ORDER_EVENTS_TABLE"] == "local-OrdersOrderEventsTable"
    assert env["RECEIPT_KEY"] == "local-receipt-key" and env["BIND_HOST"] == "127.0.0.1"
    assert env["PORT"] == "18123" and env["DRAIN_SECONDS"] == "0"
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:9999"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_ACCESS_KEY_ID"] == "local" and "AWS_PROFILE" not in env
    assert env["PATH"] == f"{Path(sys.executable).parent}:/usr/bin" and env["HOME"] == "/h"


def test_skipping_an_unknown_service_is_refused_naming_the_services(example):
    config, stack = example
    with pytest.raises(LocalRunError, match=r"--skip nope: there is no service 'nope'; the services are orders"):
        plan_services(stack, config, EXAMPLE.parent, ("nope",))
    assert plan_services(stack, config, EXAMPLE.parent, ("orders",)).own == {}


@pytest.mark.parametrize(("command", "argv"), [
    (["CMD-SHELL", "curl -f http://127.0.0.1:8080/healthz || exit 1"],
     ["/bin/sh", "-c", "curl -f http://127.0.0.1:18123/healthz || exit 1"]),
    (["CMD", "wget", "-qO-", "http://localhost:8080/x"], ["wget", "-qO-", "http://localhost:18123/x"]),
    (["CMD", "check", "127.0.0.1:80800"], ["check", "127.0.0.1:80800"]),  # another port stays
])
def test_the_health_check_runs_as_ecs_runs_it_on_the_tasks_own_port(command, argv):
    check = HealthCheck("t-1", {"Command": command, "Interval": 5, "Timeout": 2, "Retries": 3, "StartPeriod": 0},
                        {}, 8080, 18123)
    assert check.argv == argv
