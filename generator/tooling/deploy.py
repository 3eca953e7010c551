"""``ecsapi deploy``: render, upload, create a change set, show it with the diff's warnings, ask,
execute, and watch with a live view; on failure say what failed and where to look, on success
print the outputs.

Everything that can be found wrong before a change is checked first (region, credentials, stack
state, bucket, parameters, capabilities): until the change set is executed nothing in the
account changes except the uploaded template (and the template bucket, when ecsapi creates it).
Exit status: 0 deployed or nothing to deploy, 1 not deployed (declined, failed, cancelled),
2 a problem found before any change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from generator.tooling.aws import AwsProblem, credentials_problem, error_code, error_message, stack_of
from generator.tooling.progress import Progress, where_to_look

EXIT_DONE, EXIT_NOT_DEPLOYED, EXIT_ERROR = 0, 1, 2
# CreateChangeSet's template size limits (AWS CloudFormation API Reference, CreateChangeSet):
# TemplateBody at most 51,200 bytes, so every ecsapi variant goes through TemplateURL (S3).
# DescribeStacks statuses (API Reference, Stack.StackStatus) a change set cannot start from.
BUSY = "_IN_PROGRESS"
DEAD_ENDS = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "CREATE_FAILED", "UPDATE_ROLLBACK_FAILED")
SUCCESS = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
# CreateChangeSet, Capabilities: the IAM resource types that need CAPABILITY_IAM, and the names that
# make it CAPABILITY_NAMED_IAM (AWS CloudFormation API Reference, CreateChangeSet).
IAM_TYPES = ("AWS::IAM::AccessKey", "AWS::IAM::Group", "AWS::IAM::InstanceProfile", "AWS::IAM::ManagedPolicy",
             "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::UserToGroupAddition")
IAM_NAMES = ("RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName")
# A change set with nothing to do fails with one of these reasons (CloudFormation User Guide,
# "Update CloudFormation stacks using change sets").
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
EPILOG = """\
examples:
  ecsapi deploy --stack-name my-api --region eu-west-1
  ecsapi deploy --stack-name my-api --config stacks/small.toml --parameter FoodstoreMinTasks=2
  ecsapi deploy --stack-name my-api --yes        (CI: no question; plain lines when not a terminal)

exit status: 0 deployed (or nothing to deploy), 1 not deployed (declined, failed, cancelled),
2 a problem found before any change
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ecsapi deploy", allow_abbrev=False, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Render the template, upload it to S3, create a CloudFormation change set, show it "
        "(with what ecsapi diff warns about), ask, execute it and watch it to the end.",
    )
    p.add_argument("--stack-name", required=True, metavar="NAME")
    p.add_argument("--region", metavar="REGION", help="default: the configured one")
    p.add_argument("--config", type=Path, metavar="FILE", help="stack configuration (default: the built-in default)")
    p.add_argument("--template", type=Path, metavar="FILE",
                   help="deploy this template file instead of rendering --config")
    p.add_argument("--bucket", metavar="BUCKET",
                   help="S3 bucket for the template, in the stack's region (default: ecsapi-deploy-ACCOUNT-REGION, "
                   "created if missing)")
    p.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                   help="a template parameter (repeat); others keep their deployed value, or their default")
    p.add_argument("--yes", action="store_true", help="execute without asking")
    return p


@dataclass
class Console:
    """Where deploy talks to: standard streams by default; tests give their own."""

    out: object = field(default_factory=lambda: sys.stdout)
    err: object = field(default_factory=lambda: sys.stderr)
    ask: Callable[[str], str] = input
    interactive: bool = field(default_factory=lambda: sys.stdin.isatty())
    terminal: bool = field(default_factory=lambda: sys.stdout.isatty())
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    poll_seconds: float = 5.0

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)


def main(argv: list[str], console: Console | None = None) -> int:
    args = parser().parse_args(argv)
    console = console or Console()
    try:
        return deploy(args, console)
    except AwsProblem as error:
        print(f"ecsapi: {error}", file=console.err)
        return EXIT_ERROR


def change_set_name(now) -> str:
    """``ecsapi-<UTC time>-<random>``: readable in the console, and unique even for two deploys in the
    same second (a name a stack already has would collide with the earlier change set). Change set
    names match ``[a-zA-Z][-a-zA-Z0-9]*``, 128 characters at most ("CreateChangeSet", AWS
    CloudFormation API Reference)."""
    import secrets

    return f"ecsapi-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


def deploy(args, console: Console) -> int:
    from generator.tooling.aws import session

    template, text = _template(args)
    given = _parameters(args.parameter, template)
    aws = session(args.region)
    region, name = aws.region_name, args.stack_name
    cloudformation, s3 = aws.client("cloudformation"), aws.client("s3")
    account = _account(aws)
    stack = stack_of(cloudformation, name)
    change_set_type = _change_set_type(stack, name, region)
    if change_set_type == "UPDATE":
        _refuse_impossible_update(cloudformation, name, template)
    bucket = _bucket(s3, args.bucket, account, region, console)
    url = _upload(s3, bucket, account, region, name, text)
    capabilities = required_capabilities(template, cloudformation, url)
    parameters = _parameter_list(template, given, stack)
    change_set = change_set_name(console.now())
    try:
        cloudformation.create_change_set(
            StackName=name, ChangeSetName=change_set, ChangeSetType=change_set_type, TemplateURL=url,
            Parameters=parameters, Capabilities=capabilities,
            Description=f"ecsapi deploy of {template.get('Metadata', {}).get('ecsapi', {}).get('version', 'a template')}",
        )
    except Exception as error:
        raise _named(error, name, region) from None
    try:
        status, described = _review(cloudformation, name, region, stack, template, given, change_set,
                                    change_set_type, capabilities, args, console)
    except KeyboardInterrupt:
        _discard(cloudformation, name, change_set, change_set_type)
        console.say("\nInterrupted before executing: the change set is deleted. Nothing changed.")
        return EXIT_NOT_DEPLOYED
    if status is not None:
        return status
    # The events already there belong to earlier operations: the view starts after the newest
    # (by id, not by time, so a skewed local clock loses nothing).
    before = {e["EventId"] for e in cloudformation.describe_stack_events(StackName=name)["StackEvents"]}
    started = console.now()
    cloudformation.execute_change_set(StackName=name, ChangeSetName=change_set)
    # The change set lists what the operation touches, conditions evaluated (a create with given
    # images builds none, so the template's count would be too high).
    progress = Progress(name, len(described.get("Changes", [])), started)
    final = watch(cloudformation, name, region, progress, change_set_type, console, before)
    if progress.cancelled and final == "UPDATE_ROLLBACK_COMPLETE":
        console.say(f"{name}: {final} - the update was cancelled as you asked and rolled back; nothing changed.")
        return EXIT_NOT_DEPLOYED
    return _finish(cloudformation, name, region, final, console)


def _review(cloudformation, name, region, stack, template, given, change_set, change_set_type, capabilities,
            args, console) -> tuple[int | None, dict]:
    """Wait for the change set, show it, ask: (an exit status when it is not executed, the change set)."""
    described = _wait_for_change_set(cloudformation, name, change_set, console)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        _discard(cloudformation, name, change_set, change_set_type)
        if any(text_ in reason for text_ in NO_CHANGES):
            console.say(f"No changes: stack {name} already runs this template with these parameters. Nothing changed.")
            return EXIT_DONE, described
        raise AwsProblem(f"CloudFormation refused the change set: {reason}")
    if not described["Changes"] and not given and change_set_type == "UPDATE":
        from generator.tooling import changes
        from generator.tooling.aws import deployed_template

        if not changes.compare(deployed_template(cloudformation, name), template).any:
            _discard(cloudformation, name, change_set, change_set_type)
            console.say(f"No changes: stack {name} already runs this template. Nothing changed.")
            return EXIT_DONE, described
    _show(console, cloudformation, name, stack, template, described, capabilities)
    if given:
        console.say("Parameters given: " + ", ".join(f"{k}={v}" for k, v in sorted(given.items())))
    if not args.yes:
        if not console.interactive:
            _discard(cloudformation, name, change_set, change_set_type)
            console.say("Not executed: standard input is not a terminal and --yes was not given. Nothing changed.")
            return EXIT_NOT_DEPLOYED, described
        answer = console.ask(f"Execute this change set on {name} in {region}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            _discard(cloudformation, name, change_set, change_set_type)
            console.say("Not executed; the change set is deleted. Nothing changed.")
            return EXIT_NOT_DEPLOYED, described
    return None, described


# --- before any change -----------------------------------------------------------------------------


def _template(args) -> tuple[dict, str]:
    if args.template and args.config:
        raise AwsProblem("give either --template or --config, not both")
    if args.template:
        from generator.tooling.aws import parse_template

        try:
            text = args.template.read_text(encoding="utf-8")
            return parse_template(text), text
        except (OSError, ValueError) as error:
            raise AwsProblem(f"cannot read the template {args.template}: {error}") from None
    from generator.model.config import StackConfig
    from generator.model.errors import ConfigError
    from generator.tooling.release import ReleaseSettings
    from generator.tooling.render import render_template

    try:
        release_file: dict[str, object] = {}
        if args.config:
            from generator.model.config_file import load_config_file

            config, release_file = load_config_file(args.config)
        else:
            config = StackConfig()
        # The file's [release] table too: the same template `ecsapi template --config` writes.
        text, template, _ = render_template(config, ReleaseSettings.resolve(release_file))
    except ConfigError as error:
        raise AwsProblem(f"configuration error{f' in {args.config}' if args.config else ''}: {error}") from None
    return json.loads(text), text


def _parameters(pairs: list[str], template: dict) -> dict[str, str]:
    known = template.get("Parameters", {})
    given = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals:
            raise AwsProblem(f"--parameter {pair!r} is not KEY=VALUE")
        if key not in known:
            raise AwsProblem(f"--parameter {key}: the template has no such parameter; it has "
                             + (", ".join(sorted(known)) or "none"))
        given[key] = value
    return given


def _account(aws) -> str:
    try:
        return aws.client("sts").get_caller_identity()["Account"]
    except Exception as error:
        problem = credentials_problem(error)
        if problem:
            raise problem from None
        raise AwsProblem(f"cannot reach AWS STS in {aws.region_name}: {error}") from None


def _refuse_impossible_update(cloudformation, name: str, template: dict) -> None:
    """Before anything is uploaded: an update that cannot be made in place (changes.refusals_of)."""
    from generator.tooling import changes
    from generator.tooling.aws import deployed_template

    deployed = deployed_template(cloudformation, name)
    reasons = changes.refusals_of(deployed.get("Resources", {}), template.get("Resources", {}))
    if reasons:
        raise AwsProblem(f"stack {name} cannot be updated to this template in place: " + "; ".join(reasons))


def _change_set_type(stack: dict | None, name: str, region: str) -> str:
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"
    status = stack["StackStatus"]
    if status in DEAD_ENDS:
        raise AwsProblem(
            f"stack {name} is {status}: CloudFormation cannot update it. Delete it "
            f"(aws cloudformation delete-stack --region {region} --stack-name {name}; its retained "
            "tables, user pool and logs stay) and deploy again")
    if status.endswith(BUSY):
        raise AwsProblem(f"stack {name} is {status}: another operation is running; wait for it to end "
                         f"(aws cloudformation wait stack-update-complete --region {region} --stack-name {name})")
    return "UPDATE"


def _bucket(s3, bucket: str | None, account: str, region: str, console: Console) -> str:
    """The bucket the template goes to, checked to belong to ``account``.

    The default name ``ecsapi-deploy-<account>-<region>`` is predictable and bucket names are global,
    so anyone may create it first; what goes in is a template that creates IAM roles. Every S3 call
    names the expected owner (``ExpectedBucketOwner``: S3 answers 403 Access Denied when another
    account owns the bucket, "Verifying bucket ownership with bucket owner condition", Amazon S3
    User Guide), and a bucket that exists is also looked for among the account's own buckets.
    """
    own = bucket is None
    if bucket is None:
        bucket = f"ecsapi-deploy-{account}-{region}"
    found = _bucket_region(s3, bucket, region, account, own=own)
    if found is None and own:
        _create_bucket(s3, bucket, account, region)
        console.say(f"Created bucket {bucket} for templates (private; ecsapi deploy reuses it).")
        return bucket
    if found is None:
        raise AwsProblem(f"there is no bucket {bucket}: create it (aws s3 mb s3://{bucket} --region {region}) "
                         "or leave out --bucket to use ecsapi's own")
    _refuse_foreign(s3, bucket, account, region, own)
    if found != region:
        # CloudFormation reads TemplateURL from a bucket in the stack's region (AWS CloudFormation
        # API Reference, CreateStack TemplateURL: "located in an S3 bucket in the same region as the stack").
        raise AwsProblem(f"bucket {bucket} is in {found}, the stack in {region}: CloudFormation reads the "
                         f"template from a bucket in the stack's region; give --bucket in {region} or leave it out")
    return bucket


def _foreign(bucket: str, account: str, region: str, own: bool) -> AwsProblem:
    whose = "the default template bucket" if own else "bucket"
    return AwsProblem(
        f"{whose} {bucket} belongs to another AWS account, not to {account}: ecsapi deploy uploads nothing "
        f"to it. Give --bucket with a bucket of yours in {region}")


def _create_bucket(s3, bucket: str, account: str, region: str) -> None:
    arguments: dict = {"Bucket": bucket}
    if region != "us-east-1":  # S3 CreateBucket: us-east-1 takes no LocationConstraint
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**arguments)
    except Exception as error:
        # "BucketAlreadyExists": the name is taken by another account ("CreateBucket", Amazon S3
        # API Reference: BucketAlreadyOwnedByYou is the answer when it is this account's).
        if error_code(error) == "BucketAlreadyExists":
            raise _foreign(bucket, account, region, own=True) from None
        if error_code(error) != "BucketAlreadyOwnedByYou":
            raise AwsProblem(f"cannot create bucket {bucket}: {error_message(error)}") from None
    s3.put_public_access_block(Bucket=bucket, ExpectedBucketOwner=account, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})


def _refuse_foreign(s3, bucket: str, account: str, region: str, own: bool) -> None:
    """Refuse ``bucket`` unless ListBuckets (the caller's own buckets) has it; without permission to
    list, ExpectedBucketOwner on every call is the check."""
    try:
        owned = s3.list_buckets(Prefix=bucket).get("Buckets", [])
    except Exception as error:
        if error_code(error) in ("AccessDenied", "403"):
            return
        raise AwsProblem(f"cannot check who owns bucket {bucket}: {error_message(error)}") from None
    if bucket not in {b["Name"] for b in owned}:
        raise _foreign(bucket, account, region, own)


def _bucket_region(s3, bucket: str, region: str, account: str, own: bool) -> str | None:
    """The bucket's region, or None when there is no such bucket."""
    try:
        location = s3.get_bucket_location(Bucket=bucket, ExpectedBucketOwner=account).get("LocationConstraint")
    except Exception as error:
        code = error_code(error)
        if code in ("NoSuchBucket", "404"):
            return None
        problem = credentials_problem(error)
        if problem:
            raise problem from None
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            # With ExpectedBucketOwner, S3 answers 403 for a bucket another account owns.
            raise AwsProblem(f"{_foreign(bucket, account, region, own)} (S3 {code})") from None
        raise AwsProblem(f"cannot check bucket {bucket}: {error_message(error)}") from None
    # GetBucketLocation answers no constraint for us-east-1 (and "EU" for the oldest eu-west-1 buckets).
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def _upload(s3, bucket: str, account: str, region: str, name: str, text: str) -> str:
    body = text.encode("utf-8")
    key = f"ecsapi/{name}/{hashlib.sha256(body).hexdigest()[:20]}.json"
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", ExpectedBucketOwner=account)
    except Exception as error:
        raise AwsProblem(f"cannot upload the template to s3://{bucket}/{key}: {error_message(error)}") from None
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def required_capabilities(template: dict, cloudformation=None, url: str | None = None) -> list[str]:
    """The capabilities the template needs: from its resources, and what ValidateTemplate says."""
    needed = set()
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") in IAM_TYPES:
            named = any(key in resource.get("Properties", {}) for key in IAM_NAMES)
            needed.add("CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM")
    if template.get("Transform"):
        needed.add("CAPABILITY_AUTO_EXPAND")
    if cloudformation is not None and url is not None:
        try:
            needed |= set(cloudformation.validate_template(TemplateURL=url).get("Capabilities", []))
        except Exception as error:
            raise AwsProblem(f"CloudFormation refused the template: {error_message(error)}") from None
    if "CAPABILITY_NAMED_IAM" in needed:
        needed.discard("CAPABILITY_IAM")
    return sorted(needed)


def _parameter_list(template: dict, given: dict[str, str], stack: dict | None) -> list[dict]:
    deployed = {p["ParameterKey"] for p in (stack or {}).get("Parameters", [])}
    out = []
    for key in sorted(template.get("Parameters", {})):
        if key in given:
            out.append({"ParameterKey": key, "ParameterValue": given[key]})
        elif key in deployed and stack and stack["StackStatus"] != "REVIEW_IN_PROGRESS":
            out.append({"ParameterKey": key, "UsePreviousValue": True})
    return out


def _named(error: Exception, name: str, region: str) -> AwsProblem:
    code, message = error_code(error), error_message(error)
    if code == "InsufficientCapabilitiesException":
        return AwsProblem(f"CloudFormation wants capabilities ecsapi did not pass ({message}); the template "
                          "creates IAM resources: report this, and meanwhile use aws cloudformation deploy "
                          "--capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM")
    problem = credentials_problem(error)
    if problem:
        return problem
    if code == "AccessDenied" or "not authorized" in message:
        return AwsProblem(f"you may not create change sets on {name} in {region} ({message}); the caller needs "
                          "cloudformation:CreateChangeSet and the permissions of the resources it creates")
    return AwsProblem(f"CloudFormation refused the change set: {code} {message}".strip())


def _wait_for_change_set(cloudformation, name: str, change_set: str, console: Console) -> dict:
    while True:
        described = cloudformation.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            pages = [described]
            while pages[-1].get("NextToken"):
                pages.append(cloudformation.describe_change_set(StackName=name, ChangeSetName=change_set,
                                                                NextToken=pages[-1]["NextToken"]))
            described["Changes"] = [c for page in pages for c in page.get("Changes", [])]
            return described
        console.sleep(min(console.poll_seconds, 2.0))


def _discard(cloudformation, name: str, change_set: str, change_set_type: str) -> None:
    """Delete the change set, and the empty stack a CREATE change set made (REVIEW_IN_PROGRESS)."""
    cloudformation.delete_change_set(StackName=name, ChangeSetName=change_set)
    if change_set_type == "CREATE":
        cloudformation.delete_stack(StackName=name)


def _show(console: Console, cloudformation, name: str, stack: dict | None, template: dict, described: dict,
          capabilities: list[str]) -> None:
    from generator.tooling import changes
    from generator.tooling.aws import deployed_template

    if stack is not None and stack["StackStatus"] != "REVIEW_IN_PROGRESS":
        old = deployed_template(cloudformation, name)
        console.say(changes.text(changes.compare(old, template), f"stack {name}", "this template").rstrip("\n"))
        console.say("")
    console.say(f"CloudFormation's change set ({len(described['Changes'])} changes):")
    for change in described["Changes"]:
        c = change.get("ResourceChange", {})
        replacement = c.get("Replacement")
        flag = {"True": "  REPLACEMENT", "Conditional": "  replacement: conditional"}.get(replacement or "", "")
        console.say(f"  {c.get('Action', '?'):<7} {c.get('LogicalResourceId')} ({c.get('ResourceType')}){flag}")
    if capabilities:
        console.say(f"Capabilities acknowledged: {', '.join(capabilities)} (the stack creates IAM roles)")


# --- while it runs ------------------------------------------------------------------------------------


def new_events(cloudformation, name: str, seen: set[str]) -> list[dict]:
    """The stack's events not yet seen, oldest first (DescribeStackEvents answers newest first,
    paginated: reading stops at the first event seen before)."""
    fresh, token = [], None
    while True:
        page = cloudformation.describe_stack_events(StackName=name, **({"NextToken": token} if token else {}))
        stop = False
        for event in page["StackEvents"]:
            if event["EventId"] in seen:
                stop = True
                break
            fresh.append(event)
        token = page.get("NextToken")
        if stop or not token:
            break
    for event in fresh:
        seen.add(event["EventId"])
    return list(reversed(fresh))


class Screen:
    """The live view on a terminal: rewrites its own lines in place."""

    def __init__(self, console: Console):
        self.console, self.height = console, 0

    def draw(self, lines: list[str]) -> None:
        out = self.console.out
        if self.height:
            out.write(f"\x1b[{self.height}F\x1b[J")  # to the first line drawn, clear to the end
        try:
            width, rows = os.get_terminal_size(out.fileno())
        except (AttributeError, OSError, ValueError):  # not a real terminal (a test's buffer)
            width, rows = 200, 50
        if len(lines) > rows - 1:
            # Moving up past the top of the screen cannot be undone: keep the view shorter than it.
            lines = [*lines[: rows - 2], f"  ... and {len(lines) - rows + 2} more"]
        out.write("".join(line[: width - 1] + "\n" for line in lines))
        out.flush()
        self.height = len(lines)


def watch(cloudformation, name: str, region: str, progress: Progress, change_set_type: str,
          console: Console, seen: set[str] | None = None) -> str:
    """Follow the stack to the end of the operation (its events after ``seen``); Ctrl-C asks what
    to do. The final status."""
    seen = set(seen or ())
    screen = Screen(console) if console.terminal else None
    while True:
        try:
            for event in new_events(cloudformation, name, seen):
                progress.add(event)
                if screen is None:
                    console.say(progress.line(event))
            status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
            progress.stack_status = status
            if screen is not None:
                screen.draw(progress.lines(console.now()))
            if not status.endswith(BUSY):
                return status
            console.sleep(console.poll_seconds)
        except KeyboardInterrupt:
            if screen is not None:
                screen.height = 0
            choice = _interrupted(cloudformation, name, region, progress, change_set_type, console)
            if choice == "stop":
                console.say(f"Stopped watching; the operation goes on in AWS. Follow it with: "
                            f"aws cloudformation describe-stack-events --region {region} --stack-name {name}")
                return "WATCH_STOPPED"


def _interrupted(cloudformation, name, region, progress, change_set_type, console) -> str:
    console.say("")
    if change_set_type == "UPDATE" and progress.stack_status in ("UPDATE_IN_PROGRESS", ""):
        prompt = "[c] cancel the update (CloudFormation rolls back)  [s] stop watching  [Enter] keep watching: "
    else:
        # CancelUpdateStack cancels only an update in UPDATE_IN_PROGRESS (AWS CloudFormation API
        # Reference, CancelUpdateStack); a create runs to its end (or rolls back by itself).
        prompt = "A create cannot be cancelled.  [s] stop watching  [Enter] keep watching: "
    try:
        answer = console.ask(prompt).strip().lower()
    except (KeyboardInterrupt, EOFError):
        answer = "s"
    if answer == "c" and prompt.startswith("[c]"):
        try:
            cloudformation.cancel_update_stack(StackName=name)
            progress.cancelled = True
            console.say(f"Cancelling the update of {name}: CloudFormation rolls back to the previous state.")
        except Exception as error:
            console.say(f"Could not cancel: {error_message(error)}")
        return "watch"
    return "stop" if answer == "s" else "watch"


# --- the end ---------------------------------------------------------------------------------------


def _finish(cloudformation, name: str, region: str, status: str, console: Console) -> int:
    if status == "WATCH_STOPPED":
        return EXIT_NOT_DEPLOYED
    if status in SUCCESS:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        console.say(f"{name}: {status}")
        outputs = sorted(stack.get("Outputs", []), key=lambda o: (o["OutputKey"] != "APITestPage", o["OutputKey"]))
        for output in outputs:
            console.say(f"  {output['OutputKey']}: {output['OutputValue']}")
        return EXIT_DONE
    return _report_failure(cloudformation, name, region, status, console)


def _report_failure(cloudformation, name: str, region: str, status: str, console: Console) -> int:
    # Read the whole operation's events again: the cause may be older than the view's window.
    events = []
    token = None
    while True:
        page = cloudformation.describe_stack_events(StackName=name, **({"NextToken": token} if token else {}))
        events += page["StackEvents"]
        token = page.get("NextToken")
        if not token:
            break
    events.reverse()
    # The operation is the events after the last user-initiated start of the stack.
    starts = [i for i, e in enumerate(events) if e["ResourceType"] == "AWS::CloudFormation::Stack"
              and e["ResourceStatus"] in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")
              and e.get("ResourceStatusReason", "") == "User Initiated"]
    progress = Progress(name, 0, datetime.min.replace(tzinfo=UTC))
    for event in events[starts[-1] if starts else 0:]:
        progress.add(event)
    failed = progress.first_failure()
    console.say(f"{name}: {status} - the deploy failed.")
    if failed is not None:
        console.say(f"  First failure: {failed['LogicalResourceId']} ({failed['ResourceType']}): "
                    f"{failed.get('ResourceStatusReason', '(no reason given)')}")
        console.say(f"  Where to look: {where_to_look(failed, name, region)}")
    return EXIT_NOT_DEPLOYED
