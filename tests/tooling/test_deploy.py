"""ecsapi deploy and ecsapi diff --stack against moto's CloudFormation, S3 and STS in server mode over
HTTP. moto cannot create this project's API Gateway resources, so the plumbing (upload, change set,
execute, events, cancel, outputs) runs on a small template moto can create
(fixtures/moto-plumbing-stack.json). moto 5.2.5 has no CancelUpdateStack, does not fail an empty
change set and records no resource events for a change set: those are stubbed on the botocore client
(before-call handlers), each noted where it is used."""

from __future__ import annotations

import copy
import io
import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError

from generator.tooling import aws as aws_module
from generator.tooling import deploy
from generator.tooling.cli import main as cli_main
from tests.support.cloudformation import BUILD_LOG, failed_create, read_events
from tests.support.moto import moto_for_boto3
from tests.support.text import table

pytestmark = pytest.mark.integration

PLUMBING = Path(__file__).with_name("fixtures") / "moto-plumbing-stack.json"
# A full create of the default template, as describe_stack_events returns it (fixtures/make_create_events.py).
CREATE_EVENTS = Path(__file__).with_name("fixtures") / "create-events.json"
STACK = "plumb"
BUCKET = "ecsapi-deploy-123456789012-us-east-1"  # moto's account, the default region


@pytest.fixture
def moto(monkeypatch):
    with moto_for_boto3(monkeypatch) as url:
        yield SimpleNamespace(url=url, cloudformation=boto3.client("cloudformation"), s3=boto3.client("s3"))


def console(answers=(), interactive=True) -> tuple[deploy.Console, io.StringIO, list[str]]:
    out, prompts, queue = io.StringIO(), [], list(answers)

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return queue.pop(0)

    return (deploy.Console(out=out, err=out, ask=ask, interactive=interactive, terminal=False,
                           sleep=lambda seconds: None, poll_seconds=0), out, prompts)


def run(*argv: str, answers=(), interactive=True):
    c, out, prompts = console(answers, interactive)
    status = deploy.main(["--stack-name", STACK, "--template", str(PLUMBING), *argv], c)
    return status, out.getvalue(), prompts


def create_directly(moto) -> None:
    """A deployed stack to update (CreateStack: moto records outputs for it, not for change sets)."""
    moto.cloudformation.create_stack(StackName=STACK, TemplateBody=PLUMBING.read_text(), Capabilities=["CAPABILITY_IAM"])


def label(moto) -> str:
    stack = moto.cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["QueueLabel"]


def pending_change_sets(moto) -> list[str]:
    """Change sets not executed (moto keeps executed ones listed; CloudFormation deletes them)."""
    return [s["ChangeSetName"] for s in moto.cloudformation.list_change_sets(StackName=STACK)["Summaries"]
            if s["ExecutionStatus"] != "EXECUTE_COMPLETE"]


def stacks(moto) -> list[str]:
    return [s["StackName"] for s in moto.cloudformation.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"]


def with_session_hooks(monkeypatch, hooks: dict):
    """Every client deploy makes comes from this session, with ``hooks`` (event -> handler)."""
    session = aws_module.boto3_session("us-east-1")
    for event, handler in hooks.items():
        session.events.register(event, handler)
    monkeypatch.setattr(aws_module, "session", lambda region: session)


def client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


# --- the way through ----------------------------------------------------------------------------------


def test_deploy_creates_the_stack_through_a_change_set_from_the_uploaded_template(moto):
    status, out, _ = run("--yes")
    assert status == 0, out
    assert moto.cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    (uploaded,) = moto.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"ecsapi/{STACK}/")["Contents"]
    assert moto.s3.get_object(Bucket=BUCKET, Key=uploaded["Key"])["Body"].read() == PLUMBING.read_bytes()
    assert "Created bucket ecsapi-deploy-123456789012-us-east-1" in out
    assert ["Add", "Queue (AWS::SQS::Queue)"] in table(out)
    assert "Capabilities acknowledged: CAPABILITY_IAM" in out
    # Not a terminal: one plain line per event, no cursor movement.
    # time, status, stack, type, then the count and reason
    assert any(line.split()[1:4] == ["CREATE_COMPLETE", "plumb", "(AWS::CloudFormation::Stack)"] for line in out.splitlines())
    assert "\x1b" not in out
    assert out.rstrip().endswith(f"{STACK}: CREATE_COMPLETE")


def test_deploying_the_same_template_again_changes_nothing(moto):
    assert run("--yes")[0] == 0
    status, out, _ = run("--yes")
    assert status == 0
    assert "No changes" in out and "Nothing changed." in out
    assert pending_change_sets(moto) == []


def test_an_update_prints_the_outputs_api_test_page_first(moto):
    create_directly(moto)
    status, out, _ = run("--parameter", "QueueLabel=second", "--yes")
    assert status == 0, out
    assert label(moto) == "second"
    tail = out[out.index(f"{STACK}: UPDATE_COMPLETE"):].splitlines()[1:]
    assert [line.split(":")[0].strip() for line in tail] == ["APITestPage", "ApiUrl", "TableName"]


def test_answering_no_executes_nothing_and_deletes_the_change_set(moto):
    create_directly(moto)
    status, out, prompts = run("--parameter", "QueueLabel=second", answers=["n"])
    assert status == 1
    assert prompts == [f"Execute this change set on {STACK} in us-east-1? [y/N] "]
    assert label(moto) == "first"
    assert pending_change_sets(moto) == []
    assert "Nothing changed." in out


def test_without_a_terminal_and_without_yes_a_new_stack_is_not_left_behind(moto):
    status, out, prompts = run(interactive=False)
    assert status == 1 and prompts == []
    assert "--yes was not given" in out
    # The CREATE change set made a REVIEW_IN_PROGRESS stack; it is gone with the change set.
    assert STACK not in stacks(moto)


# --- Ctrl-C ---------------------------------------------------------------------------------------


def interrupt_once(calls: list):
    """Ctrl-C while deploy watches: at its second DescribeStackEvents (the first is its look at the
    events before executing, which the view then skips)."""
    def handler(**kwargs):
        calls.append("events")
        if len(calls) == 2:
            raise KeyboardInterrupt
    return handler


def test_ctrl_c_during_an_update_cancels_it_with_cancel_update_stack(moto, monkeypatch):
    create_directly(moto)
    calls, cancelled = [], []

    def cancel(params, **kwargs):
        # moto 5.2.5 has no CancelUpdateStack: answer for it, and record what deploy sent.
        cancelled.append(params["body"]["StackName"])
        return SimpleNamespace(status_code=200), {}

    with_session_hooks(monkeypatch, {
        "before-call.cloudformation.DescribeStackEvents": interrupt_once(calls),
        "before-call.cloudformation.CancelUpdateStack": cancel,
    })
    status, out, prompts = run("--parameter", "QueueLabel=second", "--yes", answers=["c"])
    assert prompts[0].startswith("[c] cancel the update")
    assert cancelled == [STACK]
    assert "Cancelling the update of plumb" in out
    assert status == 0  # moto finished the update before the cancel arrived: it says so at the end


def test_ctrl_c_then_stop_watching_leaves_the_operation_running(moto, monkeypatch):
    create_directly(moto)
    with_session_hooks(monkeypatch, {"before-call.cloudformation.DescribeStackEvents": interrupt_once([])})
    status, out, _ = run("--parameter", "QueueLabel=second", "--yes", answers=["s"])
    assert status == 1
    assert "Stopped watching; the operation goes on in AWS" in out


def test_ctrl_c_during_a_create_offers_no_cancel(moto, monkeypatch):
    with_session_hooks(monkeypatch, {"before-call.cloudformation.DescribeStackEvents": interrupt_once([])})
    status, _, prompts = run("--yes", answers=[""])
    assert prompts == ["A create cannot be cancelled.  [s] stop watching  [Enter] keep watching: "]
    assert status == 0


# --- errors before any change -------------------------------------------------------------------------


def assert_nothing_created(moto):
    assert stacks(moto) == []


def test_a_missing_bucket_is_named_with_the_fix(moto):
    status, out, _ = run("--bucket", "no-such-bucket", "--yes")
    assert status == 2
    assert "there is no bucket no-such-bucket: create it (aws s3 mb s3://no-such-bucket --region us-east-1)" in out
    assert_nothing_created(moto)


def test_a_bucket_in_another_region_is_refused(moto):
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="far-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    status, out, _ = run("--bucket", "far-away", "--yes")
    assert status == 2
    assert "bucket far-away is in eu-west-1, the stack in us-east-1" in out
    assert_nothing_created(moto)


def test_an_unknown_parameter_is_refused_naming_the_known_ones(moto):
    status, out, _ = run("--parameter", "Nope=1", "--yes")
    assert status == 2
    assert "--parameter Nope: the template has no such parameter; it has QueueLabel" in out
    assert_nothing_created(moto)


def test_no_region_and_an_unknown_region_are_named(moto, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    status, out, _ = run("--yes")
    assert status == 2 and "no AWS region: give --region REGION or set AWS_REGION" in out
    status, out, _ = run("--region", "mars-north-1", "--yes")
    assert status == 2 and "'mars-north-1' is not a region CloudFormation runs in" in out


def test_missing_credentials_are_named_with_the_fix(moto, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    status, out, _ = run("--yes")
    assert status == 2
    assert "no AWS credentials: set AWS_PROFILE, run `aws configure`" in out


def test_a_capabilities_refusal_is_named_and_nothing_is_created(moto, monkeypatch):
    def refuse(**kwargs):
        # What CloudFormation answers when a template needs a capability the call did not pass.
        raise client_error("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]",
                           "CreateChangeSet")

    with_session_hooks(monkeypatch, {"before-call.cloudformation.CreateChangeSet": refuse})
    status, out, _ = run("--yes")
    assert status == 2
    assert "CloudFormation wants capabilities ecsapi did not pass (Requires capabilities : [CAPABILITY_NAMED_IAM])" in out
    assert_nothing_created(moto)


def test_a_refused_change_set_is_reported_and_removed(moto, monkeypatch):
    create_directly(moto)

    def failed(params, **kwargs):
        # A change set CloudFormation could not make (moto never fails one).
        return SimpleNamespace(status_code=200), {"Status": "FAILED", "StatusReason": "Template error: boom",
                                                  "Changes": []}

    deleted = []
    with_session_hooks(monkeypatch, {
        "before-call.cloudformation.DescribeChangeSet": failed,
        "before-call.cloudformation.DeleteChangeSet": lambda params, **kw: deleted.append(params["body"]["StackName"]) or (
            SimpleNamespace(status_code=200), {}),
    })
    status, out, _ = run("--parameter", "QueueLabel=second", "--yes")
    assert status == 2
    assert "CloudFormation refused the change set: Template error: boom" in out
    assert deleted == [STACK]
    assert label(moto) == "first"


def test_stacks_that_cannot_take_a_change_set_are_refused_with_the_fix():
    with pytest.raises(aws_module.AwsProblem, match="is ROLLBACK_COMPLETE: CloudFormation cannot update it. Delete it"):
        deploy._change_set_type({"StackStatus": "ROLLBACK_COMPLETE"}, "s", "us-east-1")
    with pytest.raises(aws_module.AwsProblem, match="is UPDATE_IN_PROGRESS: another operation is running"):
        deploy._change_set_type({"StackStatus": "UPDATE_IN_PROGRESS"}, "s", "us-east-1")
    assert deploy._change_set_type(None, "s", "us-east-1") == "CREATE"
    assert deploy._change_set_type({"StackStatus": "UPDATE_ROLLBACK_COMPLETE"}, "s", "us-east-1") == "UPDATE"


def test_the_default_template_needs_capability_iam_only(default_template):
    assert deploy.required_capabilities(default_template) == ["CAPABILITY_IAM"]


# --- a failed operation -------------------------------------------------------------------------------


class RecordedStack:
    """DescribeStackEvents/DescribeStacks answered from a recorded failing create (newest first,
    two pages), for the failure report."""

    def __init__(self, events):
        self.events = list(reversed(events))

    def describe_stack_events(self, StackName, NextToken=None):
        half = len(self.events) // 2
        return ({"StackEvents": self.events[:half], "NextToken": "2"} if NextToken is None
                else {"StackEvents": self.events[half:]})


def test_a_failed_create_reports_the_first_failure_and_the_build_log():
    sequence = failed_create(read_events(CREATE_EVENTS))
    sequence.append({**sequence[0], "EventId": "end", "ResourceStatus": "ROLLBACK_COMPLETE",
                     "Timestamp": sequence[-1]["Timestamp"]})
    c, out, _ = console()
    status = deploy._finish(RecordedStack(sequence), "my-api", "us-east-1", "ROLLBACK_COMPLETE", c)
    assert status == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "my-api: ROLLBACK_COMPLETE - the deploy failed."
    assert lines[1].startswith("  First failure: ImageBuild (Custom::ImageBuild): Build failed: COMMAND_EXECUTION_ERROR")
    assert lines[2] == f"  Where to look: the image build's CodeBuild log: {BUILD_LOG}"


# --- diff --stack ---------------------------------------------------------------------------------------


def test_diff_reads_the_deployed_template_over_http(moto, capsys, tmp_path):
    create_directly(moto)
    changed = copy.deepcopy(json.loads(PLUMBING.read_text()))
    changed["Resources"]["Items"]["Properties"]["KeySchema"][0]["AttributeName"] = "key"
    changed["Resources"]["Items"]["Properties"]["AttributeDefinitions"][0]["AttributeName"] = "key"
    new = tmp_path / "new.json"
    new.write_text(json.dumps(changed))
    assert cli_main(["diff", "--stack", STACK, str(new)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"ecsapi diff: stack {STACK} (us-east-1, CREATE_COMPLETE) -> {new}"
    # KeySchema is conditionally create-only in the DynamoDB table's schema, and UpdateTable takes no
    # key schema: a changed key is a certain replacement.
    assert "~ Items (AWS::DynamoDB::Table): REPLACE" in out
    assert "!! table Items will be REPLACED (UpdateReplacePolicy Retain)" in out
    assert cli_main(["diff", "--stack", STACK, str(PLUMBING)]) == 0
    assert cli_main(["diff", "--stack", "missing", str(PLUMBING)]) == 2
    assert "there is no stack 'missing' in us-east-1; check --stack and --region" in capsys.readouterr().err



def test_ctrl_c_at_the_question_deletes_the_change_set_and_changes_nothing(moto):
    c, out, _ = console()

    def interrupted(prompt):
        raise KeyboardInterrupt

    c.ask = interrupted
    status = deploy.main(["--stack-name", STACK, "--template", str(PLUMBING)], c)
    assert status == 1
    assert "Interrupted before executing: the change set is deleted. Nothing changed." in out.getvalue()
    assert STACK not in stacks(moto)


def test_an_empty_change_set_as_cloudformation_reports_it_changes_nothing(moto, monkeypatch):
    create_directly(moto)

    def empty(params, **kwargs):
        # CloudFormation fails a change set with nothing to do (moto makes an empty one instead).
        return SimpleNamespace(status_code=200), {
            "Status": "FAILED", "Changes": [],
            "StatusReason": "The submitted information didn't contain changes. Submit different information "
                            "to create a change set."}

    with_session_hooks(monkeypatch, {"before-call.cloudformation.DescribeChangeSet": empty})
    status, out, _ = run("--parameter", "QueueLabel=first", "--yes")
    assert status == 0
    assert "No changes: stack plumb already runs this template with these parameters. Nothing changed." in out
    assert pending_change_sets(moto) == []


def test_a_cancelled_update_that_rolled_back_says_so_and_exits_1(moto, monkeypatch):
    create_directly(moto)
    calls, cancelled = [], []

    def cancel(params, **kwargs):
        cancelled.append(params["body"]["StackName"])  # moto 5.2.5 has no CancelUpdateStack
        return SimpleNamespace(status_code=200), {}

    def rolled_back(params, **kwargs):
        # After the cancel, CloudFormation rolls the update back (moto had already completed it).
        if cancelled:
            return SimpleNamespace(status_code=200), {"Stacks": [{"StackName": STACK,
                                                                  "StackStatus": "UPDATE_ROLLBACK_COMPLETE"}]}
        return None

    with_session_hooks(monkeypatch, {
        "before-call.cloudformation.DescribeStackEvents": interrupt_once(calls),
        "before-call.cloudformation.CancelUpdateStack": cancel,
        "before-call.cloudformation.DescribeStacks": rolled_back,
    })
    status, out, _ = run("--parameter", "QueueLabel=second", "--yes", answers=["c"])
    assert status == 1
    assert "plumb: UPDATE_ROLLBACK_COMPLETE - the update was cancelled as you asked and rolled back" in out


def test_change_sets_made_in_the_same_second_have_different_valid_names():
    import re

    from generator.tooling.deploy import change_set_name

    now = datetime(2026, 12, 4, 18, 9, 35)
    names = {change_set_name(now) for _ in range(50)}
    assert len(names) == 50
    assert all(re.fullmatch(r"ecsapi-20261204180935-[0-9a-f]{8}", name) and len(name) <= 128 for name in names)


# --- who owns the template bucket ------------------------------------------------------------------


def squatter_s3(moto):
    """S3 as another account (moto's AssumeRole into 111111111111 gives that account's credentials)."""
    credentials = boto3.client("sts").assume_role(
        RoleArn="arn:aws:iam::111111111111:role/squatter", RoleSessionName="squatter")["Credentials"]
    return boto3.client("s3", aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def test_a_default_bucket_another_account_created_first_is_refused_and_gets_nothing(moto):
    squatter = squatter_s3(moto)
    squatter.create_bucket(Bucket=BUCKET)
    status, out, _ = run("--yes")
    assert status == 2
    assert f"the default template bucket {BUCKET} belongs to another AWS account, not to 123456789012" in out
    assert "--bucket" in out
    assert squatter.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert_nothing_created(moto)


def test_a_given_bucket_of_another_account_is_refused(moto):
    squatter_s3(moto).create_bucket(Bucket="not-mine")
    status, out, _ = run("--bucket", "not-mine", "--yes")
    assert status == 2
    assert "bucket not-mine belongs to another AWS account" in out
    assert_nothing_created(moto)


def test_every_s3_call_names_the_expected_bucket_owner(moto, monkeypatch):
    sent: list[tuple[str, str | None]] = []
    real_session = aws_module.session

    def recording_session(region):
        aws = real_session(region)
        def record(request, **_):
            owner = request.headers.get("x-amz-expected-bucket-owner")
            sent.append((request.method, owner.decode() if isinstance(owner, bytes) else owner))

        aws.events.register("before-send.s3", record)
        return aws

    monkeypatch.setattr(aws_module, "session", recording_session)
    status, _, _ = run("--yes")
    assert status == 0
    # GetBucketLocation, CreateBucket (which takes no owner: it fails on a name another account
    # holds), PutPublicAccessBlock, PutObject.
    assert sent == [("GET", "123456789012"), ("PUT", None), ("PUT", "123456789012"), ("PUT", "123456789012")]


# --- updates that cannot be made in place ------------------------------------------------------------


def network_template(cidr: str) -> str:
    return json.dumps({"Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": cidr}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": cidr.replace("/16", "/24")}},
    }})


def test_a_changed_vpc_cidr_is_refused_before_anything_is_uploaded(moto, tmp_path):
    moto.cloudformation.create_stack(StackName=STACK, TemplateBody=network_template("10.0.0.0/16"))
    changed = tmp_path / "changed.json"
    changed.write_text(network_template("10.1.0.0/16"))
    c, out, _ = console()
    status = deploy.main(["--stack-name", STACK, "--template", str(changed), "--yes"], c)
    assert status == 2
    text = out.getvalue()
    assert "cannot be updated to this template in place" in text
    assert "Elastic IP" in text and "internet gateway" in text and "InvalidSubnet.Conflict" in text
    assert pending_change_sets(moto) == []
    assert moto.s3.list_buckets()["Buckets"] == []
