"""`make publish` against moto in server mode over HTTP: first publish, re-publish, refused
overwrite, a failed upload halfway, an unreadable bucket, and a dry run that needs no network."""

from __future__ import annotations

import http.client
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from generator import StackConfig
from generator.tooling import assets
from generator.tooling.publish import PublishError, launch_stack_markdown, main, plan, public_read_policy, publish
from generator.tooling.release import ReleaseSettings
from tests.support.moto import threaded_moto
from tests.support.processes import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
RELEASE = ReleaseSettings(bucket="fork-releases", bucket_region="us-east-1", prefix="ecsapi/")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def moto_endpoint():
    with threaded_moto() as url:
        yield url


@pytest.fixture
def s3(moto_endpoint, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint)
    requests = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=RELEASE.bucket)
    client.put_bucket_policy(
        Bucket=RELEASE.bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [public_read_policy(RELEASE)]})
    )
    yield requests
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=RELEASE.bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=RELEASE.bucket, Key=item["Key"])
    client.delete_bucket(Bucket=RELEASE.bucket)


@pytest.fixture
def checkout(tmp_path):
    """A copy of templates/ and README.md for publish to rewrite."""
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    return tmp_path


def run(checkout: Path, endpoint: str, *extra: str) -> int:
    return main(["--endpoint-url", endpoint, "--templates", str(checkout / "templates"),
                 "--readme", str(checkout / "README.md"), *extra])


def published(s3) -> dict[str, dict]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=RELEASE.bucket).get("Contents", [])]
    return {key: s3.head_object(Bucket=RELEASE.bucket, Key=key) for key in keys}


@pytest.fixture
def fork_release(monkeypatch):
    monkeypatch.setenv("ECSAPI_RELEASE_BUCKET", RELEASE.bucket)
    monkeypatch.setenv("ECSAPI_RELEASE_PREFIX", RELEASE.prefix)


def test_first_publish_uploads_every_release_file_with_its_type_and_digest(s3, moto_endpoint, checkout, fork_release):
    assert run(checkout, moto_endpoint) == 0
    objects = published(s3)
    folder = f"ecsapi/v{RELEASE.version}/"
    expected = {folder + name for name in (RELEASE.template_file(), f"ecsapi-v{RELEASE.version}.openapi.json",
                                           *assets.release_files())}
    assert set(objects) == expected
    for key, head in objects.items():
        body = s3.get_object(Bucket=RELEASE.bucket, Key=key)["Body"].read()
        assert head["Metadata"]["sha256"] == assets.sha256(body)
    assert objects[folder + RELEASE.template_file()]["ContentType"] == "application/json"
    assert objects[folder + assets.SOURCE_ARCHIVE]["ContentType"] == "application/x-tar"
    # The released archive is the one whose digest the template pins.
    archive = s3.get_object(Bucket=RELEASE.bucket, Key=folder + assets.SOURCE_ARCHIVE)["Body"].read()
    assert assets.sha256(archive) == assets.pinned_digests()[assets.SOURCE_ARCHIVE]
    # Only now do the buttons point at the release.
    url = "fork-releases.s3.us-east-1.amazonaws.com%2Fecsapi%2Fv"
    page = (checkout / "templates" / "launch-stack.md").read_text()
    assert url in page and "from the default configuration" in page
    for region in RELEASE.regions:
        assert f"region={region}#/stacks/quickcreate?templateURL=" in page
    assert url in (checkout / "README.md").read_text()


def test_the_launch_page_names_the_configuration_that_was_published(s3, moto_endpoint, checkout, fork_release):
    config = REPO / "stacks" / "three-services.toml"
    assert run(checkout, moto_endpoint, "--config", str(config)) == 0
    assert f"from `{config}`" in (checkout / "templates" / "launch-stack.md").read_text()
    template = s3.get_object(Bucket=RELEASE.bucket, Key=RELEASE.key(RELEASE.template_file()))["Body"].read()
    assert b"OrdersService" in template  # the buttons launch the configuration just published


def test_publishing_the_same_bytes_again_changes_nothing(s3, moto_endpoint, checkout, fork_release, capsys):
    assert run(checkout, moto_endpoint) == 0
    before = {k: h["LastModified"] for k, h in published(s3).items()}
    assert run(checkout, moto_endpoint) == 0
    assert {k: h["LastModified"] for k, h in published(s3).items()} == before
    assert "0 uploaded" in capsys.readouterr().out


def test_a_version_published_with_other_bytes_is_refused_unless_forced(s3, moto_endpoint, checkout, fork_release,
                                                                       capsys):
    key = RELEASE.key(RELEASE.template_file())
    s3.put_object(Bucket=RELEASE.bucket, Key=key, Body=b"{}", Metadata={"sha256": assets.sha256(b"{}")})
    readme = (checkout / "README.md").read_text()
    assert run(checkout, moto_endpoint) == 1
    assert "already published with other bytes" in capsys.readouterr().err
    assert list(published(s3)) == [key]  # nothing else was uploaded either
    assert (checkout / "README.md").read_text() == readme
    assert run(checkout, moto_endpoint, "--force") == 0
    assert s3.get_object(Bucket=RELEASE.bucket, Key=key)["Body"].read() != b"{}"


class FailingProxy:
    """Forwards to moto, but answers 500 to a PUT of any key containing ``fail_on``."""

    def __init__(self, upstream: str, fail_on: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "PUT" and fail_on in self.path:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream_connection = http.client.HTTPConnection(host, int(port), timeout=10)
                upstream_connection.request(self.command, self.path, body=body, headers=dict(self.headers))
                response = upstream_connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream_connection.close()

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _forward  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_failed_upload_halfway_leaves_the_launch_page_untouched_and_a_rerun_finishes(
    s3, moto_endpoint, checkout, fork_release, capsys
):
    launch_page = (checkout / "templates" / "launch-stack.md").read_bytes()
    readme = (checkout / "README.md").read_bytes()
    proxy = FailingProxy(moto_endpoint, fail_on=assets.SOURCE_ARCHIVE)
    try:
        assert run(checkout, proxy.url) == 1
    finally:
        proxy.close()
    error = capsys.readouterr().err
    assert "failed" in error and "launch-stack page was not changed" in error
    assert (checkout / "templates" / "launch-stack.md").read_bytes() == launch_page
    assert (checkout / "README.md").read_bytes() == readme
    assert not list((checkout / "templates").glob(".*.tmp"))
    assert run(checkout, moto_endpoint) == 0
    assert len(published(s3)) == len(plan(StackConfig(), ReleaseSettings.resolve()))


def test_a_bucket_others_cannot_read_is_refused_with_the_statement_to_add(s3, moto_endpoint):
    s3.delete_bucket_policy(Bucket=RELEASE.bucket)
    with pytest.raises(PublishError, match="no policy statement letting anyone read ecsapi/") as refused:
        publish(plan(StackConfig(), RELEASE), RELEASE, s3)
    assert '"Principal": "*"' in str(refused.value)
    assert published(s3) == {}


def test_a_public_access_block_on_policies_is_named(s3):
    s3.put_public_access_block(
        Bucket=RELEASE.bucket,
        PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                        "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    )
    with pytest.raises(PublishError, match="BlockPublicPolicy and RestrictPublicBuckets"):
        publish(plan(StackConfig(), RELEASE), RELEASE, s3)


def test_a_missing_bucket_is_named(s3, moto_endpoint):
    other = ReleaseSettings(bucket="no-such-bucket-here", prefix="x/")
    with pytest.raises(PublishError, match="no-such-bucket-here is not reachable"):
        publish(plan(StackConfig(), other), other, s3)


def test_dry_run_lists_every_upload_and_needs_no_network_or_credentials(checkout, capsys, monkeypatch):
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    readme = (checkout / "README.md").read_bytes()
    # An endpoint nothing listens on: a dry run that tried the network would fail.
    assert run(checkout, f"http://127.0.0.1:{free_port()}", "--dry-run") == 0
    out = capsys.readouterr().out
    for upload in plan(StackConfig(), ReleaseSettings.resolve()):
        assert f"would upload  {upload.key}  {len(upload.data)} bytes" in out
    assert (checkout / "README.md").read_bytes() == readme


def test_the_committed_launch_page_is_for_this_version_and_says_whether_it_was_published():
    release = ReleaseSettings()
    committed = (REPO / "templates" / "launch-stack.md").read_text()
    assert committed == launch_stack_markdown(release, None) or committed.startswith(
        f"# Launch ecsapi v{release.version}\n\nPublished by `make publish`"
    ), "templates/launch-stack.md belongs to another version: publish this one, or regenerate the unpublished page"
