"""Where a release is published, shipped inside the package so an installed ecsapi renders the
same template as a checkout.

A release is a set of files in one S3 location, ``s3://<bucket>/<prefix>v<version>/``: the
templates, their OpenAPI documents, the container source archive and the test page. The defaults
below are this project's own release location; a fork publishes its own by overriding them from
the environment (``ECSAPI_RELEASE_BUCKET`` ...), the CLI (``--release-bucket`` ...: ``ecsapi`` and
``make publish``, generator/tooling/release.py) or a stack configuration's ``[release]`` table,
highest first: CLI, configuration, environment, default.

Data of the model: the builders (generator/template) read it, the tooling resolves and publishes it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from urllib.parse import quote

from generator.model.errors import ConfigError
from generator.model.patterns import lazy
from generator.model.records import dataclass
from generator.version import VERSION

VERSION_PATTERN = lazy(r"^\d+\.\d+\.\d+$")
REGION = lazy(r"^[a-z]{2}(-[a-z]+)+-\d$")
# S3 bucket naming rules (Amazon S3 User Guide, "General purpose bucket naming rules"): 3-63
# characters, lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.
BUCKET = lazy(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
PREFIX = lazy(r"^([A-Za-z0-9._-]+/)*$")
# The CloudFormation console's button image, hosted by AWS for exactly this use.
LAUNCH_BUTTON_IMAGE = "https://s3.amazonaws.com/cloudformation-examples/cloudformation-launch-stack.png"
ENVIRONMENT_PREFIX = "ECSAPI_RELEASE_"


@dataclass(frozen=True)
class ReleaseSettings:
    """The release this package builds: its version and where its files are published."""

    version: str = VERSION
    """Semantic version x.y.z (generator/version.py); names the release folder and the template files."""
    bucket: str = "ecsapi-templates"
    """S3 bucket that hosts releases; CloudFormation and CodeBuild in any account read it over HTTPS."""
    bucket_region: str = "us-east-1"
    """The bucket's region: file URLs use its regional endpoint."""
    prefix: str = "releases/"
    """Key prefix inside the bucket, ending in ``/`` (or empty); each version gets ``<prefix>v<version>/``."""
    regions: tuple[str, ...] = (
        "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1",
    )
    """Regions that get a Launch Stack button."""

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not VERSION_PATTERN.match(self.version):
            raise ConfigError("release.version", self.version, "use x.y.z")
        if not isinstance(self.bucket, str) or not BUCKET.match(self.bucket) or ".." in self.bucket:
            raise ConfigError("release.bucket", self.bucket, "give an S3 bucket name (3-63 of a-z 0-9 . -)")
        if not isinstance(self.bucket_region, str) or not REGION.match(self.bucket_region):
            raise ConfigError("release.bucket_region", self.bucket_region, "use a region name such as us-east-1")
        if not isinstance(self.prefix, str) or not PREFIX.match(self.prefix):
            raise ConfigError("release.prefix", self.prefix, "use folder names ending in / (A-Z a-z 0-9 . _ -), or ''")
        regions = (self.regions,) if isinstance(self.regions, str) else tuple(self.regions)
        if not regions:
            raise ConfigError("release.regions", list(regions), "list at least one region")
        for region in regions:
            if not isinstance(region, str) or not REGION.match(region):
                raise ConfigError("release.regions", region, "use region names such as us-east-1")
        object.__setattr__(self, "regions", regions)

    @classmethod
    def resolve(
        cls, *overrides: Mapping[str, object] | None, environ: Mapping[str, str] = os.environ
    ) -> ReleaseSettings:
        """The defaults, then ``ECSAPI_RELEASE_<FIELD>`` variables, then each mapping of
        ``overrides`` in order (configuration file, then CLI); ``None`` values are skipped."""
        names = {f.name for f in dataclasses.fields(cls)} - {"version"}
        values: dict[str, object] = {}
        for name in sorted(names):
            text = environ.get(ENVIRONMENT_PREFIX + name.upper())
            if text:
                values[name] = tuple(r.strip() for r in text.split(",") if r.strip()) if name == "regions" else text
        for mapping in overrides:
            for name, value in (mapping or {}).items():
                if name not in names:
                    raise ConfigError(f"release.{name}", value, f"unknown setting; known: {', '.join(sorted(names))}")
                if value is not None:
                    values[name] = value
        return cls(**values)

    @property
    def folder(self) -> str:
        """The key prefix of this version's files: ``releases/v1.2.0/``."""
        return f"{self.prefix}v{self.version}/"

    def key(self, file_name: str) -> str:
        return f"{self.folder}{file_name}"

    def url(self, file_name: str) -> str:
        """The HTTPS URL of a released file (the bucket's regional, virtual-hosted endpoint)."""
        return f"https://{self.bucket}.s3.{self.bucket_region}.amazonaws.com/{self.key(file_name)}"

    @property
    def file_stem(self) -> str:
        """``ecsapi-v<version>``: every file a release names after its version starts with it."""
        return f"ecsapi-v{self.version}"

    def template_file(self, output_format: str = "json") -> str:
        """``ecsapi-v<version>.json`` (or ``.yaml``): the version is part of the file name."""
        return f"{self.file_stem}.{output_format}"

    def openapi_file(self) -> str:
        """``ecsapi-v<version>.openapi.json``: the OpenAPI document beside the template."""
        return f"{self.file_stem}.openapi.json"

    def launch_url(self, region: str, file_name: str, stack_name: str) -> str:
        """The console's quick-create page for the released ``file_name`` in ``region``."""
        return (
            f"https://console.aws.amazon.com/cloudformation/home?region={region}#/stacks/quickcreate"
            f"?templateURL={quote(self.url(file_name), safe='')}&stackName={quote(stack_name)}"
        )
