"""IAM actions by service, written as awacs writes them, without importing awacs' per-service modules.

awacs has a module per AWS service, and importing one creates an ``Action`` object for every action
the service has (``awacs.ec2`` alone ~830). The 13 modules the template named its ~60 actions from
made ~2,000 such objects in every cold ``ecsapi template``: ~20 million instructions (callgrind),
about 4% of the run. Here ``ecr.BatchGetImage`` is ``awacs.aws.Action("ecr", "BatchGetImage")``
(the class every awacs service module's actions derive from, with the same JSON,
``"ecr:BatchGetImage"``), made at its first use and the same object after that.

What the per-service constants also gave, a misspelt action failing at import, a test gives
instead: tests/template/test_actions.py checks every ``<service>.<Action>`` the template modules
name against the awacs module of that service.
"""

from __future__ import annotations

from awacs.aws import Action


class Service:
    """The actions of one AWS service: ``Service("ecr", "ecr").BatchGetImage`` is ``ecr:BatchGetImage``.

    ``prefix`` is the IAM service prefix; ``module`` the awacs module that lists the service's actions
    (they differ for Lambda: prefix ``lambda``, module ``awacs.awslambda``)."""

    def __init__(self, prefix: str, module: str) -> None:
        self.prefix = prefix
        self.module = module

    def __getattr__(self, name: str) -> Action:
        # Only for a name not set yet. IAM action names are PascalCase; anything else (copy's and
        # inspect's probes such as __deepcopy__) is not an action.
        if not name[:1].isupper():
            raise AttributeError(name)
        action = Action(self.prefix, name)
        setattr(self, name, action)
        return action

    def __repr__(self) -> str:
        return f"Service({self.prefix!r}, {self.module!r})"


awslambda = Service("lambda", "awslambda")
cloudfront = Service("cloudfront", "cloudfront")
codebuild = Service("codebuild", "codebuild")
dynamodb = Service("dynamodb", "dynamodb")
ec2 = Service("ec2", "ec2")
ecr = Service("ecr", "ecr")
iam = Service("iam", "iam")
kms = Service("kms", "kms")
logs = Service("logs", "logs")
s3 = Service("s3", "s3")
scheduler = Service("scheduler", "scheduler")
secretsmanager = Service("secretsmanager", "secretsmanager")
sns = Service("sns", "sns")
ssm = Service("ssm", "ssm")
