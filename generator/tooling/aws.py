"""The edge to AWS for ``ecsapi diff --stack`` and ``ecsapi deploy``: boto3 clients for one region,
and AWS errors turned into one line that says what to do. boto3 is the ``aws`` extra
(``pip install 'ecsapi[aws]'``), imported only here and only by those commands."""

from __future__ import annotations

import functools
import json
from typing import Any


class AwsProblem(Exception):
    """Something in the AWS account or the caller's set-up stops the command; the message names it
    and the fix."""


def session(region: str | None):
    """A boto3 session for ``region`` (or the configured one); AwsProblem when boto3 is missing or
    no region is known."""
    try:
        found = boto3_session(region)
    except ImportError:
        raise AwsProblem("this command talks to AWS and needs boto3: pip install 'ecsapi[aws]'") from None
    if not found.region_name:
        raise AwsProblem("no AWS region: give --region REGION or set AWS_REGION (or a region in ~/.aws/config)")
    known = {region for partition in found.get_available_partitions()
             for region in found.get_available_regions("cloudformation", partition_name=partition)}
    if found.region_name not in known:
        raise AwsProblem(f"{found.region_name!r} is not a region CloudFormation runs in (as far as this boto3 "
                         "knows: a region newer than boto3 needs `pip install -U boto3`); give --region "
                         "with a region name such as us-east-1")
    return found


def boto3_session(region: str | None = None, **credentials: str):
    """A new ``boto3.Session`` for ``region`` (None: the configured one), with credentials and
    settings of its own (``credentials``: boto3.Session's ``aws_access_key_id``,
    ``aws_secret_access_key``, ``aws_session_token``; none: the usual chain), that reads the
    service models through this process's one loader.

    A loader parses each service model's JSON once (EC2's is several megabytes: a quarter of a
    preflight's CPU), but boto3 gives each session a loader of its own, so a process that checks
    or deploys more than once (a script over several Regions, the tests) parsed them all again each
    time. ImportError when boto3 is not installed.
    """
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader(core.get_config_variable("data_path")))
    found = boto3.session.Session(botocore_session=core, region_name=region, **credentials)
    # boto3.Session appends the folder of its resource models to the loader of every session.
    paths = core.get_component("data_loader").search_paths
    paths[:] = dict.fromkeys(paths)
    return found


@functools.cache
def _shared_loader(data_path: str | None):
    """botocore's loader for ``data_path`` (AWS_DATA_PATH, as botocore makes it for a session)."""
    from botocore.loaders import create_loader

    return create_loader(data_path)


def error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "") if hasattr(error, "response") else ""


def error_message(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Message", str(error)) \
        if hasattr(error, "response") else str(error)


def credentials_problem(error: Exception) -> AwsProblem | None:
    """The fix for missing or refused credentials, if that is what ``error`` is."""
    name = type(error).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return AwsProblem("no AWS credentials: set AWS_PROFILE, run `aws configure` or `aws sso login`, "
                          "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if error_code(error) in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                             "UnrecognizedClientException", "SignatureDoesNotMatch"):
        return AwsProblem(f"AWS refused the credentials ({error_code(error)}: {error_message(error)}); "
                          "refresh them (`aws sso login`, a new session token) and try again")
    return None


def stack_of(cloudformation, name: str) -> dict | None:
    """DescribeStacks for one stack: its description, or None when there is no such stack."""
    try:
        return cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except Exception as error:
        problem = credentials_problem(error)
        if problem:
            raise problem from None
        # CloudFormation API Reference, DescribeStacks: a missing stack is a ValidationError
        # "Stack with id NAME does not exist".
        if error_code(error) == "ValidationError" and "does not exist" in error_message(error):
            return None
        raise


def deployed_template(cloudformation, name: str) -> dict[str, Any]:
    """The template a deployed stack runs (GetTemplate, stage Original: as submitted, before any
    transform), parsed."""
    body = cloudformation.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
    # botocore hands a JSON template back already parsed, a YAML one as text.
    return body if isinstance(body, dict) else parse_template(body)


def parse_template(text: str) -> dict[str, Any]:
    """A template in JSON or in CloudFormation's YAML (short-form tags too)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        from cfn_flip import load_yaml

        loaded = load_yaml(text)
        if not isinstance(loaded, dict):
            raise ValueError("not a CloudFormation template (no mapping at the top)") from None
        return json.loads(json.dumps(loaded))  # plain dicts, for a deterministic diff
