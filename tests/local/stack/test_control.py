"""The control command, when no local stack answers: it says how to start one."""

from __future__ import annotations

import pytest

from ecsapi_local import control
from tests.support.processes import free_port


def test_deploy_without_a_running_stack_says_to_start_one(capsys):
    assert control.main(["--port", str(free_port()), "deploy", "foodstore"]) == 2
    assert "start it with `make local`" in capsys.readouterr().err


def test_deploy_needs_a_service_name():
    with pytest.raises(SystemExit):
        control.main(["deploy"])


def test_a_container_port_goes_with_deploy_only(capsys):
    with pytest.raises(SystemExit) as exit_info:
        control.main(["--port", str(free_port()), "scale-in", "foodstore", "--container-port", "8081"])
    assert exit_info.value.code == 2
    assert "--container-port" in capsys.readouterr().err
