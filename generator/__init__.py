"""ecsapi: the CloudFormation template for container APIs on ECS Fargate behind an HTTP API.

    from generator import ServiceSpec, StackConfig, build_template

The package is in layers, one folder each:

- ``generator.model``: the configuration (typed, validated data), AWS protocol facts and quotas.
- ``generator.template``: the CloudFormation builders, one module per AWS concern (``stack.py`` calls them).
- ``generator.runs_in_aws``: code that runs inside AWS (the custom resources' Lambda handlers, the image build).
- ``generator.tooling``: the command line, rendering and writing files, the release and its publisher.

The local emulator is a package of its own, ``ecsapi_local``.

Importing this package changes nothing in the importing process: the public names below load their
modules at first use (PEP 562 module ``__getattr__``), so ``import generator`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Public name -> the module that defines it (docs/library.md documents each one).
_PUBLIC = {
    "ConfigError": "generator.model.errors",
    "CpuArchitecture": "generator.model.config",
    "DeletionPolicy": "generator.model.config",
    "DomainSpec": "generator.model.domain",
    "MfaMode": "generator.model.config",
    "NatMode": "generator.model.config",
    "ServiceSpec": "generator.model.config",
    "StackConfig": "generator.model.config",
    "ThreatProtection": "generator.model.config",
    "load_config": "generator.model.config_file",
    "ReleaseSettings": "generator.model.release",
    "build_template": "generator.template.stack",
    "build_openapi": "generator.template.openapi",
    "template_json": "generator.tooling.render",
    "template_yaml": "generator.tooling.render",
}

__all__ = [
    "ConfigError", "CpuArchitecture", "DeletionPolicy", "DomainSpec", "MfaMode", "NatMode", "ReleaseSettings",
    "ServiceSpec", "StackConfig", "ThreatProtection", "build_openapi", "build_template", "load_config",
    "template_json", "template_yaml",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from generator.model.config import (
        CpuArchitecture,
        DeletionPolicy,
        MfaMode,
        NatMode,
        ServiceSpec,
        StackConfig,
        ThreatProtection,
    )
    from generator.model.config_file import load_config
    from generator.model.domain import DomainSpec
    from generator.model.errors import ConfigError
    from generator.model.release import ReleaseSettings
    from generator.template.openapi import build_openapi
    from generator.template.stack import build_template
    from generator.tooling.render import template_json, template_yaml


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'generator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
