"""Lambda functions that back the stack's custom resources: inline code, role and log group.

The code is ordinary Python in :mod:`generator.runs_in_aws`; :func:`inline_code` renders a module and
the shared protocol module into one file, because an inline ``ZipFile`` holds exactly one file
(CloudFormation names it ``index``, so the handler is ``index.handler``; "AWS::Lambda::Function
Code", AWS CloudFormation User Guide). Inline code keeps a release a set of files in one S3
location: a function package in S3 would have to sit in a bucket of the stack's own region.

CloudFormation invokes a custom resource's function asynchronously, and Lambda retries a failed or
timed-out asynchronous invocation twice by default ("How Lambda handles errors and retries with
asynchronous invocation", AWS Lambda Developer Guide). The handlers answer every event themselves
(generator/runs_in_aws/custom_resource.py), so a retry could only repeat work that has been
answered already: each function gets an ``AWS::Lambda::EventInvokeConfig`` with
``MaximumRetryAttempts`` 0 (it allows 0 to 2; "AWS::Lambda::EventInvokeConfig", AWS CloudFormation
Template Reference), and the custom resource must depend on it (:attr:`Function.ready`), so that
retries are off before CloudFormation's first event.
"""

from __future__ import annotations

from awacs.aws import Statement
from awacs.helpers.trust import make_simple_assume_policy
from troposphere import GetAtt, Ref, Template, awslambda, iam, kms, logs

from generator.model.config import StackConfig
from generator.model.package_data import package_file
from generator.model.records import dataclass
from generator.template import iam as policies
from generator.template.checkov import (
    FUNCTION_NOT_IN_VPC,
    FUNCTION_WITHOUT_DLQ,
    FUNCTION_WITHOUT_RESERVED_CONCURRENCY,
    skip_checks,
)
from generator.template.logs import add_log_group
from generator.template.names import logical_id

# A runtime Lambda supports with a deprecation date years ahead ("Lambda runtimes", AWS Lambda
# Developer Guide: python3.13 is supported on Amazon Linux 2023).
PYTHON_RUNTIME = "python3.13"
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
PROTOCOL_MODULE = "custom_resource"
# The one line by which a function module imports the protocol; rendering replaces it with the
# protocol module itself.
PROTOCOL_IMPORT = "from .custom_resource import "
# Lambda's retries of a failed asynchronous invocation (0 to 2; Lambda's default is 2).
NO_RETRIES = 0
# Versionless functions: the invoke configuration applies to the unpublished version.
LATEST = "$LATEST"


@dataclass(frozen=True)
class Function:
    """A Lambda function of the stack with its role, log group and retry setting."""

    function: awslambda.Function
    role: iam.Role
    log_group: logs.LogGroup
    invoke_config: awslambda.EventInvokeConfig

    @property
    def ready(self) -> list[str]:
        """What a resource invoking the function must ``DependsOn``: its retry setting in place."""
        return [self.invoke_config.title]


def inline_code(module: str, package_name: str = "generator.runs_in_aws") -> str:
    """``generator/runs_in_aws/custom_resource.py`` followed by ``generator/runs_in_aws/<module>.py``,
    without the latter's import of the former: one self-contained file."""
    protocol = package_file(package_name, f"{PROTOCOL_MODULE}.py").read_text(encoding="utf-8")
    source = package_file(package_name, f"{module}.py").read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    imports = [index for index, line in enumerate(lines) if line.startswith(PROTOCOL_IMPORT)]
    if len(imports) != 1:
        raise ValueError(f"generator/runs_in_aws/{module}.py must import the protocol once as '{PROTOCOL_IMPORT}...'")
    # The import may run over several lines in parentheses: drop through its closing one.
    end = imports[0]
    if "(" in lines[end]:
        while ")" not in lines[end]:
            end += 1
    del lines[imports[0] : end + 1]
    # ``from __future__`` must come first in a file; the protocol module's is kept, the second dropped.
    body = "".join(line for line in lines if line.strip() != "from __future__ import annotations")
    return f"{protocol}\n\n# ---- {module}.py ----\n{body}"


def add_function(
    template: Template,
    config: StackConfig,
    key: kms.Key | None,
    name: str,
    module: str,
    statements: list[Statement],
    timeout_seconds: int,
    memory_mb: int = 256,
    entry_point: str = "handler",
    retry_attempts: int = NO_RETRIES,
    condition: str | None = None,
) -> Function:
    """``<Name>Function`` running ``entry_point`` of ``generator/runs_in_aws/<module>.py``, with a
    role granting exactly ``statements`` plus writing to its own log group (retention as every log
    group), and ``retry_attempts`` retries of a failed asynchronous invocation (default none: see
    the module docstring). Everything exists under ``condition`` when one is given."""
    log_group = add_log_group(template, config, key, logical_id(name, "FunctionLogGroup"), condition=condition)
    role = template.add_resource(
        policies.role(
            logical_id(name, "FunctionRole"),
            make_simple_assume_policy(LAMBDA_PRINCIPAL),
            f"{name.lower()}-function",
            policies.write_log_streams(log_group),
            *statements,
            condition=condition,
        )
    )
    function = template.add_resource(
        awslambda.Function(
            logical_id(name, "Function"),
            **({"Condition": condition} if condition else {}),
            Runtime=PYTHON_RUNTIME,
            Handler=f"index.{entry_point}",
            Code=awslambda.Code(ZipFile=inline_code(module)),
            Role=GetAtt(role, "Arn"),
            Timeout=timeout_seconds,
            MemorySize=memory_mb,
            # Text is the default log format; troposphere 4.11.1's LoggingConfig (the class of a
            # newer resource that shadows the function's) does not accept LogFormat.
            LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(log_group)),
        )
    )
    skip_checks(function, FUNCTION_NOT_IN_VPC, FUNCTION_WITHOUT_DLQ, FUNCTION_WITHOUT_RESERVED_CONCURRENCY)
    invoke_config = template.add_resource(
        awslambda.EventInvokeConfig(
            logical_id(name, "FunctionInvokeConfig"),
            **({"Condition": condition} if condition else {}),
            FunctionName=Ref(function),
            Qualifier=LATEST,
            MaximumRetryAttempts=retry_attempts,
        )
    )
    return Function(function=function, role=role, log_group=log_group, invoke_config=invoke_config)
