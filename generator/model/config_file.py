"""Stack configuration from a TOML file: the same fields as :class:`StackConfig`, same checks, and
an optional ``[release]`` table (where the release is published: ``bucket``, ``bucket_region``,
``prefix``, ``regions``; checked by :meth:`ReleaseSettings.resolve`, which takes it as overrides).

Unknown keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from generator.model.config import ServiceSpec, StackConfig
from generator.model.domain import DomainSpec
from generator.model.errors import ConfigError

STACK_KEYS = tuple(f.name for f in dataclasses.fields(StackConfig))
RELEASE_TABLE = "release"
SERVICE_KEYS = tuple(f.name for f in dataclasses.fields(ServiceSpec))
DOMAIN_KEYS = tuple(f.name for f in dataclasses.fields(DomainSpec))


def _check_keys(table: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}{key}", table[key], f"unknown setting; known settings: {', '.join(allowed)}")


def config_from_mapping(data: dict) -> StackConfig:
    """A :class:`StackConfig` from parsed TOML (or any mapping of the same shape)."""
    _check_keys(data, (*STACK_KEYS, RELEASE_TABLE), "")
    settings = dict(data)
    settings.pop(RELEASE_TABLE, None)  # not the stack's: see release_from_mapping
    if "services" in settings:
        entries = settings["services"]
        if not isinstance(entries, list):
            raise ConfigError("services", entries, "write each service as a [[services]] table")
        services = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ConfigError(f"services[{index}]", entry, "write each service as a [[services]] table")
            _check_keys(entry, SERVICE_KEYS, f"services[{index}].")
            for required in ("name", "path"):
                if required not in entry:
                    raise ConfigError(f"services[{index}].{required}", None, f"every service needs a {required}")
            try:
                services.append(ServiceSpec(**entry))
            except ConfigError as error:
                raise error.within(f"services[{index}]") from None
        settings["services"] = tuple(services)
    if "domain" in settings:
        settings["domain"] = _domain(settings["domain"])
    return StackConfig(**settings)


def _domain(table: object) -> DomainSpec:
    """The ``[domain]`` table as a :class:`DomainSpec` (its fields' errors under ``domain.``)."""
    if not isinstance(table, dict):
        raise ConfigError("domain", table, "write the domain settings as a [domain] table")
    _check_keys(table, DOMAIN_KEYS, "domain.")
    return DomainSpec(**{"name": None, **table})


def release_from_mapping(data: dict) -> dict[str, object]:
    """The ``[release]`` table (empty when absent), as overrides for :meth:`ReleaseSettings.resolve`."""
    table = data.get(RELEASE_TABLE, {})
    if not isinstance(table, dict):
        raise ConfigError(RELEASE_TABLE, table, "write the release settings as a [release] table")
    return dict(table)


def load_config(path: Path) -> StackConfig:
    """Read and validate ``path``; any problem is a :class:`ConfigError` naming the setting."""
    return load_config_file(path)[0]


def load_config_file(path: Path) -> tuple[StackConfig, dict[str, object]]:
    """The stack configuration in ``path`` and its ``[release]`` overrides (empty when absent)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError("--config", str(path), f"cannot read the file ({error.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("--config", str(path), f"is not valid TOML: {error}") from None
    return config_from_mapping(data), release_from_mapping(data)
