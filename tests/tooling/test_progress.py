"""generator/tooling/progress.py: the deploy's live view, its plain lines and its failure report,
rendered from the event sequence of a full create of the default template (fixtures/create-events.json,
made by fixtures/make_create_events.py)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from generator.tooling.progress import Progress, duration, where_to_look
from tests.support.cloudformation import BUILD_LOG, failed_create, read_events

# The 2.0.0 default template has 89 resources.
FIXTURE = Path(__file__).with_name("fixtures") / "create-events.json"
TEMPLATE = Path(__file__).with_name("fixtures") / "ecsapi-v2.0.0-release.json"


@pytest.fixture
def events() -> list[dict]:
    return read_events(FIXTURE)


def progress_until(events: list[dict], moment: datetime) -> Progress:
    total = len(json.loads(TEMPLATE.read_text())["Resources"])
    progress = Progress("my-api", total, events[0]["Timestamp"])
    for event in events:
        if event["Timestamp"] <= moment:
            progress.add(event)
    return progress


def test_the_fixture_is_a_full_create_of_every_resource(events):
    resources = set(json.loads(TEMPLATE.read_text())["Resources"])
    complete = {e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"}
    assert complete == resources | {"my-api"}


def test_the_view_counts_resources_done_and_names_the_slow_steps_in_progress(events):
    build_started = next(e["Timestamp"] for e in events if e["LogicalResourceId"] == "ImageBuild")
    moment = build_started + timedelta(minutes=2)
    lines = progress_until(events, moment).lines(moment)
    done = sum(1 for e in events if e["ResourceStatus"] == "CREATE_COMPLETE" and e["Timestamp"] <= moment
               and e["LogicalResourceId"] != "my-api")
    assert lines[0].startswith(f"my-api: CREATE_IN_PROGRESS  {done}/89 resources done")
    build = next(line for line in lines if "ImageBuild (Custom::ImageBuild)" in line)
    assert build.split()[0] == "2m00s"
    assert "image build" in build
    # The longest-running first.
    ages = [line.split()[0] for line in lines[1:]]
    seconds = [int(a.split("m")[0]) * 60 + int(a.split("m")[1][:-1]) if "m" in a else int(a[:-1]) for a in ages]
    assert seconds == sorted(seconds, reverse=True)


def test_every_slow_step_is_named_while_it_runs(events):
    named = {"Custom::ImageBuild": "image build", "AWS::CloudFront::Distribution": "CloudFront",
             "AWS::EC2::NatGateway": "NAT gateway", "AWS::ECS::Service": "steady state"}
    for kind, words in named.items():
        started = next(e for e in events if e["ResourceType"] == kind)
        moment = started["Timestamp"] + timedelta(seconds=30)
        line = next(line for line in progress_until(events, moment).lines(moment)
                    if f"{started['LogicalResourceId']} ({kind})" in line)
        assert words in line


def test_at_the_end_everything_is_done_and_nothing_in_progress(events):
    end = events[-1]["Timestamp"]
    lines = progress_until(events, end).lines(end)
    assert lines == [f"my-api: CREATE_COMPLETE  89/89 resources done  ({duration(end - events[0]['Timestamp'])} elapsed)"]


def test_plain_lines_carry_time_status_resource_and_count(events):
    progress = Progress("my-api", 93, events[0]["Timestamp"])
    lines = []
    for event in events[:4]:
        progress.add(event)
        lines.append(progress.line(event))
    assert lines[0].split() == ["09:00:00", "CREATE_IN_PROGRESS", "my-api", "(AWS::CloudFormation::Stack)", "[0/93]",
                                "User", "Initiated"]
    assert all("\x1b" not in line for line in lines)


def test_the_first_failure_is_the_cause_not_the_cancellations(events):
    sequence = failed_create(events)
    progress = Progress("my-api", 93, events[0]["Timestamp"])
    for event in sequence:
        progress.add(event)
    failed = progress.first_failure()
    assert failed["LogicalResourceId"] == "ImageBuild"
    assert where_to_look(failed, "my-api", "us-east-1") == f"the image build's CodeBuild log: {BUILD_LOG}"
    assert any(line.startswith("  FAILED: ImageBuild: Build failed") for line in progress.lines(sequence[-1]["Timestamp"]))


def test_where_to_look_for_other_failures_names_the_command():
    event = {"ResourceType": "AWS::EC2::Subnet", "ResourceStatusReason": "conflict"}
    assert "describe-stack-events --region eu-west-1 --stack-name s" in where_to_look(event, "s", "eu-west-1")
    service = {"ResourceType": "AWS::ECS::Service", "ResourceStatusReason": "did not stabilize"}
    assert "aws ecs describe-services" in where_to_look(service, "s", "eu-west-1")


# --- the view, drawn by ecsapi deploy's watch loop --------------------------------------------------


class ReplayedStack:
    """DescribeStackEvents and DescribeStacks answered from the fixture as of a clock that each
    poll moves forward by a minute: the stack as CloudFormation would show it while it is created."""

    def __init__(self, events: list[dict]):
        self.events, self.clock = events, events[0]["Timestamp"]

    def visible(self) -> list[dict]:
        return [e for e in self.events if e["Timestamp"] <= self.clock]

    def describe_stack_events(self, StackName, NextToken=None):
        newest_first = list(reversed(self.visible()))
        return {"StackEvents": newest_first}

    def describe_stacks(self, StackName):
        stack_events = [e for e in self.visible() if e["ResourceType"] == "AWS::CloudFormation::Stack"]
        return {"Stacks": [{"StackName": StackName, "StackStatus": stack_events[-1]["ResourceStatus"]}]}

    def tick(self, seconds):
        self.clock += timedelta(minutes=1)


def watch_replay(events, terminal: bool):
    import io

    from generator.tooling import deploy

    stack = ReplayedStack(events)
    out = io.StringIO()
    console = deploy.Console(out=out, err=out, ask=lambda prompt: "", interactive=True, terminal=terminal,
                             sleep=stack.tick, now=lambda: stack.clock, poll_seconds=60)
    progress = Progress("my-api", 89, events[0]["Timestamp"])
    status = deploy.watch(stack, "my-api", "us-east-1", progress, "CREATE", console)
    return status, out.getvalue()


def test_on_a_terminal_the_view_is_redrawn_in_place_until_the_create_completes(events):
    status, out = watch_replay(events, terminal=True)
    assert status == "CREATE_COMPLETE"
    parts = re.split(r"\x1b\[(\d+)F\x1b\[J", out)
    frames, ups = parts[0::2], [int(n) for n in parts[1::2]]
    # One frame a minute for a create of about nine minutes, each moving up over exactly the
    # lines of the one before and erasing them.
    assert 8 <= len(frames) <= 11
    assert ups == [len(frame.splitlines()) for frame in frames[:-1]]
    assert "image build (CodeBuild builds and pushes the container image)" in out
    assert "CloudFront distribution" in out and "NAT gateway" in out and "steady state" in out
    assert frames[-1].splitlines()[0].startswith("my-api: CREATE_COMPLETE  89/89 resources done")


def test_off_a_terminal_every_event_is_one_plain_line(events):
    status, out = watch_replay(events, terminal=False)
    assert status == "CREATE_COMPLETE"
    assert "\x1b" not in out
    assert len(out.splitlines()) == len(events)
    assert out.splitlines()[-1].startswith(f"{events[-1]['Timestamp']:%H:%M:%S} CREATE_COMPLETE")


def test_a_view_taller_than_the_terminal_is_cut_to_fit_and_says_how_much_more(monkeypatch):
    import io
    import os

    from generator.tooling import deploy

    out = io.StringIO()
    out.fileno = lambda: 1
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((40, 6)))
    screen = deploy.Screen(deploy.Console(out=out, terminal=True))
    screen.draw([f"line {i} " + "x" * 60 for i in range(10)])
    drawn = out.getvalue().splitlines()
    assert len(drawn) == 5 and drawn[-1] == "  ... and 6 more"
    assert all(len(line) <= 39 for line in drawn)
    screen.draw(["one"])
    assert out.getvalue().endswith("\x1b[5F\x1b[Jone\n")
