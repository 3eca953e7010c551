"""Rendering: every file ecsapi writes, as text, deterministic to the byte, checked against the
quotas before anything is written. Pure: the CLI does the writing."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from troposphere import Template

from .config import StackConfig
from .limits import Usage, check_limits, is_troposphere_quota, quota_error
from .release import LAUNCH_BUTTON_IMAGE, ReleaseSettings
from .stack import build_template

LAUNCH_STACK_FILE = "launch-stack.md"
# The stack name the quick-create page suggests.
STACK_NAME = "ecsapi"
FORMATS = ("json", "yaml")


def render_template(
    config: StackConfig, release: ReleaseSettings, output_format: str = "json"
) -> tuple[str, dict, Usage]:
    """(text, the template as a dict, quota usage); raises ConfigError when a quota would be broken."""
    measure = lambda other: usage_of(other, release)  # noqa: E731 - only called on failure
    try:
        built = build_template(config, release)
    except ValueError as error:
        if not is_troposphere_quota(error):
            raise
        raise quota_error(config, f"the template would go over a CloudFormation quota ({error})", measure) from None
    template = built.to_dict()
    text = to_json(template) if output_format == "json" else built.to_yaml()
    usage = Usage.of(template, text)
    check_limits(config, usage, measure)
    return text, template, usage


def usage_of(config: StackConfig, release: ReleaseSettings) -> Usage:
    """The quota usage of ``config``'s JSON template (no quota check: for measuring)."""
    template = build_template(config, release).to_dict()
    return Usage.of(template, to_json(template))


def openapi_file(out: Path, release: ReleaseSettings) -> Path:
    return out / f"ecsapi-v{release.version}.openapi.json"


def render_openapi(config: StackConfig, release: ReleaseSettings) -> str:
    from .openapi import build_openapi  # only the commands that write it pay for the import

    return to_json(build_openapi(config, release))


def render_files(
    out: Path, config: StackConfig, release: ReleaseSettings, output_format: str = "json"
) -> dict[Path, str]:
    """Every file ``template`` writes, rendered in memory: nothing is written if any of it fails."""
    text, _, _ = render_template(config, release, output_format)
    template_name = release.template_file(output_format)
    return {
        out / template_name: text,
        out / LAUNCH_STACK_FILE: launch_stack_markdown(release, template_name),
        openapi_file(out, release): render_openapi(config, release),
    }


def template_json(template: Template) -> str:
    """The template as JSON text; see :func:`to_json`."""
    return to_json(template.to_dict())


def to_json(data: dict) -> str:
    """Sorted keys, two-space indent, trailing newline: the same input gives the same bytes."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def launch_stack_markdown(release: ReleaseSettings, template_file: str) -> str:
    """A Launch Stack button per supported region for the released ``template_file``."""
    rows = "\n".join(
        f"| {region} | [![Launch Stack]({LAUNCH_BUTTON_IMAGE})]({release.launch_url(region, template_file, STACK_NAME)}) |"
        for region in release.regions
    )
    return f"""# Launch ecsapi v{release.version}

One click opens the CloudFormation console's quick-create page in that region with the released
template ({release.url(template_file)}) and the stack name `{STACK_NAME}`.
Review the parameters (container images, task counts, the CORS origin of your web page), tick the
IAM acknowledgement, and create the stack. The stack's Outputs give the API URL, one URL per
service, and the Cognito user pool and app client ids.

| Region | Launch |
| --- | --- |
{rows}
"""


def write_atomically(files: dict[Path, str]) -> None:
    """Write every file through a temporary sibling and a rename, so a reader never sees half a
    file and a failure leaves the previous version in place. Callers render everything first."""
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
