"""What the local stack refuses before it starts anything: a port in use, a missing prerequisite,
a bad configuration. Each ends with one line naming the problem and exit status 2."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from ecsapi_local.supervisor import port_free

pytestmark = pytest.mark.integration


def _nothing_started(stack, blocked: int | None = None) -> None:
    assert "is up" not in stack.output
    assert stack.process_tree() == set()
    assert not (stack.data / "dynamodb").exists()
    for name, port in stack.ports.items():
        if port != blocked and name != "containers":
            assert port_free(port), (name, port)


@pytest.mark.parametrize("component, option", [
    ("api", "--api-port"), ("dynamodb", "--dynamodb-port"), ("page", "--page-port"),
    ("petstore container", "--containers-port"),
])
def test_a_port_in_use_is_refused_by_name_and_nothing_starts(make_stack, component, option):
    stack = make_stack()
    port = stack.ports["containers"] + 1 if component == "petstore container" else stack.ports[component]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        stack.start(wait=False)
        assert stack.wait_exit() == 2
        _nothing_started(stack, blocked=port)
    assert stack.lines[-1] == (
        f"local: port {port} on 127.0.0.1 is already in use (wanted for {component}): stop what listens there, "
        f"or choose another port with {option} / ECSAPI_LOCAL_{option[2:-5].upper()}_PORT; nothing was started")


def test_a_missing_node_is_named_with_how_to_install_it(make_stack, monkeypatch):
    # A PATH with everything but node: the stack is run by absolute path, the rest of the tools stay.
    node = Path(shutil.which("node")).resolve()
    stack = make_stack()
    monkeypatch.setenv("PATH", os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "node").exists()))
    assert shutil.which("node") is None, node
    stack.start(wait=False)
    assert stack.wait_exit() == 2
    assert "node is missing" in stack.output and "apt-get install nodejs npm" in stack.output
    _nothing_started(stack)


def test_a_bad_configuration_is_refused_before_anything_starts(make_stack, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[[services]]\nname = "foodstore"\npath = "/foodstore/foods"\n')
    stack = make_stack(config=config)
    stack.start(wait=False)
    assert stack.wait_exit() == 2
    assert stack.lines[-1].startswith(f"local: configuration error in {config}: services[0].path")
    _nothing_started(stack)
