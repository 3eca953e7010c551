"""ecsapi: the CloudFormation template for container APIs on ECS Fargate behind an HTTP API.

    from generator import ServiceSpec, StackConfig, build_template
"""

from . import lazy_imports

# Before anything imports troposphere: it imports cfn_flip (and PyYAML) for Template.to_yaml only.
lazy_imports.defer("cfn_flip")

from .config import DeletionPolicy, MfaMode, NatMode, ServiceSpec, StackConfig, ThreatProtection
from .errors import ConfigError
from .release import ReleaseSettings
from .stack import build_template

__all__ = [
    "ConfigError", "DeletionPolicy", "MfaMode", "NatMode", "ReleaseSettings", "ServiceSpec", "StackConfig",
    "ThreatProtection", "build_template",
]
