"""Where a release is published: read from setup.cfg so the version and hosting live in one place."""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .errors import ConfigError

SETUP_CFG = Path(__file__).resolve().parent.parent / "setup.cfg"
SECTION = "ecsapi:release"
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# The CloudFormation console's button image, hosted by AWS for exactly this use.
LAUNCH_BUTTON_IMAGE = "https://s3.amazonaws.com/cloudformation-examples/cloudformation-launch-stack.png"


@dataclass(frozen=True)
class ReleaseSettings:
    """The release this checkout builds: version, image repository and template hosting."""

    version: str
    """Semantic version x.y.z; names the template file and tags the images."""
    image_repository: str
    """Images are ``<image_repository>/<service>:<version>``."""
    template_bucket: str
    """S3 bucket that hosts released templates."""
    template_prefix: str
    """Key prefix inside the bucket, ending in ``/`` (or empty)."""
    regions: tuple[str, ...]
    """Regions that get a Launch Stack button."""
    stack_name: str
    """Default stack name on the quick-create page."""

    def __post_init__(self) -> None:
        if not VERSION.match(self.version):
            raise ConfigError("metadata.version", self.version, "use x.y.z")
        if not self.image_repository or self.image_repository.endswith("/"):
            raise ConfigError(f"{SECTION}.image_repository", self.image_repository, "give registry/namespace without a trailing /")
        if not BUCKET.match(self.template_bucket):
            raise ConfigError(f"{SECTION}.template_bucket", self.template_bucket, "give an S3 bucket name")
        if self.template_prefix and not self.template_prefix.endswith("/"):
            raise ConfigError(f"{SECTION}.template_prefix", self.template_prefix, "end the prefix with /")
        if not self.regions:
            raise ConfigError(f"{SECTION}.regions", self.regions, "list at least one region")
        for region in self.regions:
            if not REGION.match(region):
                raise ConfigError(f"{SECTION}.regions", region, "use region names such as us-east-1")

    @classmethod
    def from_setup_cfg(cls, path: Path = SETUP_CFG) -> ReleaseSettings:
        parser = configparser.ConfigParser()
        if not parser.read(path):
            raise ConfigError("setup.cfg", str(path), "run from an ecsapi checkout (setup.cfg holds the release settings)")
        if not parser.has_section(SECTION):
            raise ConfigError(f"setup.cfg [{SECTION}]", None, "add the section (see the README)")
        section = parser[SECTION]
        try:
            return cls(
                version=parser["metadata"]["version"],
                image_repository=section["image_repository"],
                template_bucket=section["template_bucket"],
                template_prefix=section.get("template_prefix", ""),
                regions=tuple(r.strip() for r in section["regions"].split(",") if r.strip()),
                stack_name=section["stack_name"],
            )
        except KeyError as missing:
            raise ConfigError(f"setup.cfg [{SECTION}]", str(missing), "set every release setting (see the README)") from None

    def image(self, service_name: str) -> str:
        return f"{self.image_repository}/{service_name}:{self.version}"

    def template_file(self, output_format: str = "json") -> str:
        """``ecsapi-v<version>.json`` (or ``.yaml``): the version is part of the file name."""
        return f"ecsapi-v{self.version}.{output_format}"

    def template_url(self, file_name: str) -> str:
        return f"https://{self.template_bucket}.s3.amazonaws.com/{self.template_prefix}{file_name}"

    def launch_url(self, region: str, file_name: str) -> str:
        """The console's quick-create page for the released ``file_name`` in ``region``."""
        return (
            f"https://console.aws.amazon.com/cloudformation/home?region={region}#/stacks/quickcreate"
            f"?templateURL={quote(self.template_url(file_name), safe='')}&stackName={quote(self.stack_name)}"
        )
