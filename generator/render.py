"""Rendering: the template and the launch-stack page as text, deterministic to the byte."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from troposphere import Template

from .release import LAUNCH_BUTTON_IMAGE, ReleaseSettings

LAUNCH_STACK_FILE = "launch-stack.md"


def template_json(template: Template) -> str:
    """The template as JSON text; see :func:`to_json`."""
    return to_json(template.to_dict())


def to_json(data: dict) -> str:
    """Sorted keys, two-space indent, trailing newline: the same input gives the same bytes."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def launch_stack_markdown(release: ReleaseSettings, template_file: str) -> str:
    """A Launch Stack button per supported region for the released ``template_file``."""
    rows = "\n".join(
        f"| {region} | [![Launch Stack]({LAUNCH_BUTTON_IMAGE})]({release.launch_url(region, template_file)}) |"
        for region in release.regions
    )
    return f"""# Launch ecsapi v{release.version}

One click opens the CloudFormation console's quick-create page in that region with the released
template ({release.template_url(template_file)}) and the stack name `{release.stack_name}`.
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
