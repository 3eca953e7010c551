"""``make publish``: ship a release — every file a launched stack reads — to one S3 location, then
point the Launch Stack buttons at it.

A release is ``s3://<bucket>/<prefix>v<version>/``: the template and its OpenAPI document, the
container source archive and the test page (generator/tooling/assets.py). CloudFormation (for the
template URL of the quick-create page) and the stack's own CodeBuild project and page publisher
read these files anonymously over HTTPS from any account, so the bucket must let anyone read that
prefix; :func:`check_bucket` says exactly what is missing instead of letting a launch fail later.

Publishing is idempotent and careful: a file already published with the same bytes is skipped, a
file published with other bytes is refused unless forced (a version names one set of bytes), and
the launch-stack page and the README button change only after every upload succeeded.
``--dry-run`` prints every action and touches nothing, not even the network.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.model.config import StackConfig
from generator.model.config_file import load_config_file
from generator.model.errors import ConfigError
from generator.tooling import assets
from generator.tooling.release import (
    LAUNCH_BUTTON_IMAGE,
    ReleaseSettings,
    add_release_arguments,
    given_release_options,
)
from generator.tooling.render import openapi_file, render_openapi, render_template, write_atomically

REPO = assets.REPO
CONTENT_TYPES = assets.CONTENT_TYPES
# Released files never change (a version names one set of bytes): caches may keep them.
CACHE_CONTROL = "public, max-age=300"
DIGEST_METADATA = "sha256"
LAUNCH_STACK_FILE = "launch-stack.md"
# The stack name the quick-create page suggests.
STACK_NAME = "ecsapi"
README_BUTTON = re.compile(r"(<!-- launch-stack:start -->\n).*?(\n<!-- launch-stack:end -->)", re.DOTALL)


class PublishError(Exception):
    """A publish that cannot go on; the message says what to do. Nothing after it was changed."""


@dataclass(frozen=True)
class Upload:
    key: str
    data: bytes
    content_type: str

    @property
    def digest(self) -> str:
        return assets.sha256(self.data)


def plan(config: StackConfig, release: ReleaseSettings) -> list[Upload]:
    """Every file of the release, rendered in memory (a quota or config error stops here)."""
    text, _, _ = render_template(config, release)
    files: dict[str, bytes] = {
        release.template_file(): text.encode(),
        openapi_file(Path("."), release).name: render_openapi(config, release).encode(),
        **assets.release_files(),
    }
    return [
        Upload(release.key(name), data, CONTENT_TYPES[Path(name).suffix])
        for name, data in sorted(files.items())
    ]


def public_read_policy(release: ReleaseSettings) -> dict:
    """The bucket policy statement a release bucket needs: anyone may read the release prefix."""
    return {
        "Sid": "EcsapiReleasesArePublic",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{release.bucket}/{release.prefix}*",
    }


def check_bucket(s3, release: ReleaseSettings) -> None:
    """Raise PublishError naming what stops CloudFormation and CodeBuild in other accounts from
    reading the release: a missing bucket, a public-access block on policies, no public-read
    statement for the prefix."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=release.bucket)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise PublishError(
            f"bucket {release.bucket} is not reachable ({code}): create it in {release.bucket_region} "
            f"or set ECSAPI_RELEASE_BUCKET to a bucket you own"
        ) from None
    try:
        block = s3.get_public_access_block(Bucket=release.bucket)["PublicAccessBlockConfiguration"]
    except ClientError:
        block = {}
    blocking = sorted(k for k in ("BlockPublicPolicy", "RestrictPublicBuckets") if block.get(k))
    if blocking:
        raise PublishError(
            f"bucket {release.bucket} has {' and '.join(blocking)} on, so no account but yours can read "
            f"the release; turn them off for this bucket (aws s3api put-public-access-block ...)"
        )
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=release.bucket)["Policy"])
    except ClientError:
        policy = {"Statement": []}
    if not any(_grants_public_read(statement, release) for statement in policy.get("Statement", [])):
        raise PublishError(
            f"bucket {release.bucket} has no policy statement letting anyone read {release.prefix}*; "
            f"CloudFormation and the stack's build read the release anonymously. Add:\n"
            + json.dumps(public_read_policy(release), indent=2)
        )


def _grants_public_read(statement: dict, release: ReleaseSettings) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    resources = statement.get("Resource", [])
    resources = [resources] if isinstance(resources, str) else resources
    principal = statement.get("Principal")
    wanted = f"arn:aws:s3:::{release.bucket}/"
    return (
        statement.get("Effect") == "Allow"
        and "Condition" not in statement
        and principal in ("*", {"AWS": "*"})
        and any(a in ("s3:GetObject", "s3:*", "*") for a in actions)
        and any(
            r.startswith(wanted) and r.endswith("*") and release.key("").startswith(r[len(wanted):-1])
            for r in resources
        )
    )


def publish(
    uploads: list[Upload], release: ReleaseSettings, s3, force: bool = False, out=sys.stdout
) -> tuple[int, int]:
    """Upload what is new; skip identical files; refuse changed ones unless ``force``.
    Returns (uploaded, unchanged). Every conflict is found before anything is written."""
    from botocore.exceptions import ClientError

    check_bucket(s3, release)
    pending, unchanged, conflicts = [], 0, []
    for upload in uploads:
        try:
            head = s3.head_object(Bucket=release.bucket, Key=upload.key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise PublishError(f"cannot read s3://{release.bucket}/{upload.key}: {error}") from None
            pending.append(upload)
            continue
        if head.get("Metadata", {}).get(DIGEST_METADATA) == upload.digest:
            unchanged += 1
            print(f"unchanged  s3://{release.bucket}/{upload.key}", file=out)
        else:
            conflicts.append(upload)
    if conflicts and not force:
        names = "\n  ".join(f"s3://{release.bucket}/{u.key}" for u in conflicts)
        raise PublishError(
            f"version {release.version} is already published with other bytes:\n  {names}\n"
            "bump the version (generator/version.py), or pass --force to overwrite it"
        )
    for upload in pending + conflicts:
        try:
            s3.put_object(
                Bucket=release.bucket,
                Key=upload.key,
                Body=upload.data,
                ContentType=upload.content_type,
                CacheControl=CACHE_CONTROL,
                Metadata={DIGEST_METADATA: upload.digest},
                ChecksumAlgorithm="SHA256",
            )
        except ClientError as error:
            raise PublishError(
                f"upload of s3://{release.bucket}/{upload.key} failed ({error}); the launch-stack page "
                "was not changed. Run `make publish` again: files already uploaded are skipped"
            ) from None
        print(f"uploaded   s3://{release.bucket}/{upload.key} ({len(upload.data)} bytes, {upload.content_type})",
              file=out)
    return len(pending) + len(conflicts), unchanged


def launch_stack_markdown(release: ReleaseSettings, source: str | None) -> str:
    """A Launch Stack button per region for the template ``publish`` just uploaded from ``source``.

    Written only after the upload, so every button launches a template that exists, rendered from
    the configuration named here (never the default release when another configuration was published).
    ``source=None`` renders the page of a version not published yet, which says so.
    """
    template_file = release.template_file()
    rows = "\n".join(
        f"| {region} | [![Launch Stack]({LAUNCH_BUTTON_IMAGE})]({release.launch_url(region, template_file, STACK_NAME)}) |"
        for region in release.regions
    )
    state = (
        f"Published by `make publish` from {source} to `s3://{release.bucket}/{release.folder}`."
        if source
        else f"**Not published yet**: these buttons work once `make publish` has uploaded v{release.version} to\n"
        f"`s3://{release.bucket}/{release.folder}` (see the README's \"Publishing a release\")."
    )
    return f"""# Launch ecsapi v{release.version}

{state}
One click opens the CloudFormation console's quick-create page in that region with that template
({release.url(template_file)}) and the stack name `{STACK_NAME}`. Review the parameters (task
counts, optional container images), tick the IAM acknowledgement, and create the stack. The stack's
Outputs give the API URL, one URL per service, the Cognito ids and the test page.

| Region | Launch |
| --- | --- |
{rows}
"""


def readme_button(release: ReleaseSettings) -> str:
    region = release.regions[0]
    url = release.launch_url(region, release.template_file(), STACK_NAME)
    return f"[![Launch Stack]({LAUNCH_BUTTON_IMAGE})]({url}) **Launch Stack** in {region}"


def point_buttons_at(release: ReleaseSettings, source: str, templates: Path, readme: Path) -> list[Path]:
    """Rewrite launch-stack.md and the README's button for ``release``, both or neither."""
    text = readme.read_text(encoding="utf-8")
    if not README_BUTTON.search(text):
        raise PublishError(f"{readme} has no <!-- launch-stack:start --> ... <!-- launch-stack:end --> block")
    files = {
        templates / LAUNCH_STACK_FILE: launch_stack_markdown(release, source),
        readme: README_BUTTON.sub(lambda m: m.group(1) + readme_button(release) + m.group(2), text),
    }
    write_atomically(files)
    return list(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.tooling.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, metavar="FILE", help="stack configuration (default: the default stack)")
    parser.add_argument("--dry-run", action="store_true", help="print every action; touch nothing")
    parser.add_argument("--force", action="store_true", help="overwrite files of this version that differ")
    parser.add_argument("--endpoint-url", help="S3 endpoint (tests and S3-compatible stores)")
    parser.add_argument("--templates", type=Path, default=REPO / "templates", help=argparse.SUPPRESS)
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help=argparse.SUPPRESS)
    add_release_arguments(parser)
    args = parser.parse_args(argv)
    try:
        config, release_file = load_config_file(args.config) if args.config else (StackConfig(), {})
        release = ReleaseSettings.resolve(release_file, given_release_options(args))
        uploads = plan(config, release)
    except ConfigError as error:
        print(f"ecsapi publish: configuration error: {error}", file=sys.stderr)
        return 2
    location = f"s3://{release.bucket}/{release.folder}"
    if args.dry_run:
        print(f"dry run: would publish ecsapi {release.version} to {location} ({release.bucket_region})")
        for upload in uploads:
            print(f"would upload  {upload.key}  {len(upload.data)} bytes  {upload.content_type}  sha256 {upload.digest}")
        print(f"would check   the bucket policy lets anyone read {release.prefix}* (CloudFormation, CodeBuild)")
        print(f"would rewrite {args.templates / LAUNCH_STACK_FILE} and the button in {args.readme}")
        return 0
    import boto3

    s3 = boto3.client("s3", region_name=release.bucket_region, endpoint_url=args.endpoint_url)
    try:
        uploaded, unchanged = publish(uploads, release, s3, force=args.force)
        source = f"`{args.config}`" if args.config else "the default configuration"
        written = point_buttons_at(release, source, args.templates, args.readme)
    except PublishError as error:
        print(f"ecsapi publish: {error}", file=sys.stderr)
        return 1
    print(f"published {location}: {uploaded} uploaded, {unchanged} unchanged")
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
