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
