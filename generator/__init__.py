"""ecsapi: the CloudFormation template for container APIs on ECS Fargate behind an HTTP API.

    from generator import ServiceSpec, StackConfig, build_template
"""

from .config import DeletionPolicy, MfaMode, NatMode, ServiceSpec, StackConfig, ThreatProtection
from .errors import ConfigError
from .release import ReleaseSettings
from .stack import build_template

__all__ = [
    "ConfigError", "DeletionPolicy", "MfaMode", "NatMode", "ReleaseSettings", "ServiceSpec", "StackConfig",
    "ThreatProtection", "build_template",
]
