"""The custom-resource protocol: every event gets exactly one answer at the pre-signed URL, over a
real HTTP server on loopback, and the inline rendering runs as the single file Lambda gets."""

from __future__ import annotations

import logging
import re
import shutil
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from generator.runs_in_aws import custom_resource
from generator.runs_in_aws.custom_resource import (
    AWS_MAX_ATTEMPTS,
    MAX_RESPONSE_BYTES,
    Deferred,
    ResourceFailed,
    Result,
    aws_config,
    run,
    send_response,
    worst_case_seconds,
)
from generator.template.functions import inline_code
from tests.support.cloudformation import Context, ResponseServer

pytestmark = pytest.mark.integration  # a loopback HTTP server stands in for CloudFormation's pre-signed URL

LAMBDAS = Path(custom_resource.__file__).parent


@pytest.fixture
def cloudformation():
    server = ResponseServer()
    yield server
    server.close()


def event(url: str, request_type: str = "Create", **extra) -> dict:
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "req-1",
        "LogicalResourceId": "ImageBuild",
        "ResourceType": "Custom::ImageBuild",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", "Archive": "abc"},
        **extra,
    }


def test_success_sends_physical_id_and_data_with_the_empty_content_type_the_url_is_signed_for(cloudformation):
    seen = []

    def handler(request):
        seen.append(request)
        return Result("image-1", {"Digest": "sha256:00"})

    run(event(cloudformation.url), Context(60), handler)
    [response] = cloudformation.responses
    assert response["path"].startswith("/presigned?X-Amz-Signature=abc")
    assert response["headers"]["Content-Type"] == ""
    assert response["body"] == {
        "Status": "SUCCESS", "Reason": "", "PhysicalResourceId": "image-1", "NoEcho": False,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "RequestId": "req-1",
        "LogicalResourceId": "ImageBuild", "Data": {"Digest": "sha256:00"},
    }
    assert seen[0].properties == {"Archive": "abc"}  # ServiceToken is not a property of the resource


def test_an_exception_becomes_failed_with_its_message_and_where_the_log_is(cloudformation):
    def handler(request):
        raise ResourceFailed("build 7 failed: COMMAND_EXECUTION_ERROR")

    run(event(cloudformation.url), Context(60), handler)
    body = cloudformation.responses[0]["body"]
    assert body["Status"] == "FAILED"
    assert "build 7 failed: COMMAND_EXECUTION_ERROR" in body["Reason"]
    assert "/aws/lambda/test" in body["Reason"]
    # A failed Create still needs an id, which the Delete that follows receives.
    assert body["PhysicalResourceId"] == "ImageBuild-failed-req-1"


def test_an_unexpected_error_is_reported_not_left_to_cloudformations_hour_long_timeout(cloudformation):
    run(event(cloudformation.url, "Update", PhysicalResourceId="image-1"), Context(60),
        lambda request: {}["missing"])
    body = cloudformation.responses[0]["body"]
    assert body["Status"] == "FAILED" and body["Reason"].startswith("KeyError")
    assert body["PhysicalResourceId"] == "image-1"  # an update that fails keeps the old id


def test_a_handler_still_running_at_the_deadline_gets_failed_sent_once(cloudformation, monkeypatch):
    monkeypatch.setattr(custom_resource, "RESPONSE_MARGIN_SECONDS", 0.0)
    release = threading.Event()

    def slow(request):
        assert request.seconds_left() < 1
        release.wait(5)
        return Result("late")

    started = time.monotonic()
    worker = threading.Thread(target=run, args=(event(cloudformation.url), Context(0.5), slow))
    worker.start()
    deadline = time.monotonic() + 5
    while not cloudformation.responses and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cloudformation.responses, "no answer at the deadline"
    assert time.monotonic() - started < 3
    release.set()
    worker.join(5)
    [response] = cloudformation.responses  # the handler's late success is not sent as well
    assert response["body"]["Status"] == "FAILED" and "timed out" in response["body"]["Reason"]


def test_a_long_reason_is_cut_so_the_response_fits_cloudformations_limit(cloudformation):
    def handler(request):
        raise ResourceFailed("é" * 10_000)

    run(event(cloudformation.url), Context(60), handler)
    response = cloudformation.responses[0]
    assert response["size"] <= MAX_RESPONSE_BYTES
    assert response["body"]["Reason"].endswith("...")


def test_an_unreachable_response_url_is_logged_not_raised(caplog):
    closed = ResponseServer()
    closed.close()
    handled = []
    with caplog.at_level(logging.INFO, logger=custom_resource.LOG.name):
        run(event(closed.url), Context(60), lambda request: handled.append(request) or Result("x"))
    assert len(handled) == 1  # the handler ran; only the answer could not be delivered
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert re.fullmatch(r"gave up sending SUCCESS after \d+ tries", failure.getMessage())
    # Every try before it logged the connection error it met.
    tries = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert tries and all("Connection refused" in message for message in tries)


def test_inline_code_is_one_file_that_lambda_can_load_and_run(tmp_path, monkeypatch, cloudformation):
    package = tmp_path / "fake_lambdas"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(LAMBDAS / "custom_resource.py", package / "custom_resource.py")
    (package / "echo.py").write_text(
        "from __future__ import annotations\n\n"
        "from .custom_resource import Result, run\n\n\n"
        "def handler(event, context):\n"
        "    run(event, context, lambda request: Result('echo', dict(request.properties)))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code = inline_code("echo", "fake_lambdas")
    assert "from .custom_resource" not in code
    assert code.count("from __future__ import annotations") == 1
    index = types.ModuleType("index")  # what Lambda imports for Handler "index.handler"
    sys.modules["index"] = index
    try:
        exec(compile(code, "index.py", "exec"), index.__dict__)
        index.handler(event(cloudformation.url), Context(60))
    finally:
        del sys.modules["index"]
    assert cloudformation.responses[0]["body"]["Data"] == {"Archive": "abc"}


def test_inline_code_refuses_a_module_that_does_not_import_the_protocol_once(tmp_path, monkeypatch):
    package = tmp_path / "bad_lambdas"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(LAMBDAS / "custom_resource.py", package / "custom_resource.py")
    (package / "alone.py").write_text("def handler(event, context):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="must import the protocol once"):
        inline_code("alone", "bad_lambdas")


def test_a_deferred_answer_sends_nothing_and_the_watchdog_stays_quiet(cloudformation, monkeypatch):
    monkeypatch.setattr(custom_resource, "RESPONSE_MARGIN_SECONDS", 0.0)
    run(event(cloudformation.url), Context(0.5), lambda request: Deferred("the build answers"))
    time.sleep(1.0)  # past the deadline at which the watchdog would have answered FAILED
    assert cloudformation.responses == []


def test_the_handler_sees_the_request_id_and_where_to_answer(cloudformation):
    seen = []
    run(event(cloudformation.url), Context(60), lambda request: seen.append(request) or Result("x"))
    assert (seen[0].request_id, seen[0].response_url) == ("req-1", cloudformation.url)
    assert seen[0].stack_id == "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"


def test_the_answer_is_put_again_after_s3_errors_until_it_is_taken():
    server = ResponseServer(refusals=(503, 500))
    try:
        sent = send_response(event(server.url), "SUCCESS", "id-1", "", {}, time.monotonic() + 20)
    finally:
        server.close()
    assert sent is True
    assert server.refused == [503, 500]
    [response] = server.responses
    assert response["body"]["PhysicalResourceId"] == "id-1"


def test_an_answer_the_url_refuses_with_a_4xx_is_not_tried_again():
    server = ResponseServer(refusals=(403, 403))
    try:
        sent = send_response(event(server.url), "SUCCESS", "id-1", "", {}, time.monotonic() + 20)
    finally:
        server.close()
    assert sent is False
    assert server.refused == [403] and server.responses == []


def test_an_unreachable_url_is_tried_a_bounded_number_of_times_within_the_deadline():
    closed = ResponseServer()
    closed.close()
    started = time.monotonic()
    sent = send_response(event(closed.url), "FAILED", "id-1", "why", {}, started + 2.0)
    assert sent is False
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("seconds_left", [0.0, 0.5, 3, 10, 30, 60, 120, 900])
def test_an_aws_call_s_worst_case_fits_the_time_left(seconds_left):
    config = aws_config(seconds_left)
    assert config.retries["mode"] == "standard"
    attempts = config.retries["total_max_attempts"]
    assert 1 <= attempts <= AWS_MAX_ATTEMPTS
    if seconds_left >= 3:
        assert worst_case_seconds(config) <= seconds_left
    else:  # almost no time: one try, a second each way, and the watchdog answers if it hangs
        assert (attempts, config.connect_timeout, config.read_timeout) == (1, 1.0, 1.0)


def test_an_aws_call_with_time_to_spare_gets_every_try_and_the_full_timeouts():
    config = aws_config(900)
    assert (config.retries["total_max_attempts"], config.connect_timeout, config.read_timeout) == (AWS_MAX_ATTEMPTS, 5.0, 30.0)
