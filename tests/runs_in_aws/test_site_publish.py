"""The test page publisher (generator/runs_in_aws/site_publish.py), run as the single file Lambda gets,
against moto in server mode (S3 and CloudFront over HTTP on loopback, real boto3 calls), with the
release served by a local HTTP server and CloudFormation's response URL by another."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from generator.template.functions import inline_code
from tests.support.cloudformation import Context, ResponseServer
from tests.support.moto import threaded_moto

pytestmark = pytest.mark.integration

REGION = "us-east-1"
PAGE = {
    "index.html": b"<!doctype html><title>ecsapi</title><script src=app.js></script>\n",
    "app.js": b"\"use strict\";\nconsole.log('ecsapi');\n",
    "style.css": b"body { font-family: sans-serif; }\n",
}
CONFIG = {
    "region": REGION, "apiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com",
    "userPoolId": "us-east-1_AbC", "clientId": "1abc",
    "passwordPolicy": {"minimumLength": 12, "requireLowercase": True, "requireUppercase": True,
                       "requireNumbers": True, "requireSymbols": True},
    "services": [{"name": "foodstore", "path": "/foodstore/foods/{foodId}", "idParameter": "foodId",
                  "protectedMethods": ["PUT"]}],
}


@pytest.fixture(scope="module")
def moto_server():
    """moto's threaded server on a free loopback port (tests.support.moto); yields its URL."""
    with threaded_moto() as url:
        yield url


@pytest.fixture
def aws(moto_server, monkeypatch):
    """boto3 in this process (and so the publisher) talks to moto only: AWS_ENDPOINT_URL covers
    every service, with fake credentials."""
    for name, value in {
        "AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return moto_server


@pytest.fixture
def bucket(aws):
    s3 = boto3.client("s3")
    name = f"site-{time.time_ns()}"
    s3.create_bucket(Bucket=name)
    # As the template makes it (generator/template/site.py): versioned.
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def distribution_id(aws):
    cloudfront = boto3.client("cloudfront")
    answer = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": str(time.time_ns()), "Comment": "test", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "b", "DomainName": "b.s3.us-east-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "b", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })
    return answer["Distribution"]["Id"]


class ReleaseServer:
    """The release location: serves ``files`` (path -> bytes) and answers 404 for anything else."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        served = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = served.get(self.path.lstrip("/"))
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/releases/v1.0.0/web/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def release_server():
    server = ReleaseServer({f"releases/v1.0.0/web/{name}": body for name, body in PAGE.items()})
    yield server
    server.close()


@pytest.fixture
def cloudformation():
    server = ResponseServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def lambda_index():
    """The publisher exactly as the template inlines it: one file, loaded as Lambda's ``index``."""
    module = types.ModuleType("index")
    sys.modules["index"] = module  # dataclasses look their module up while the file runs
    try:
        exec(compile(inline_code("site_publish"), "index.py", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules["index"]


def files(server: ReleaseServer, page: dict[str, bytes] = PAGE, digests: dict[str, str] | None = None) -> list[dict]:
    digests = digests or {name: hashlib.sha256(body).hexdigest() for name, body in page.items()}
    return [{"Key": name, "Url": server.base + name, "Sha256": digests[name]} for name in page]


def properties(bucket: str, distribution_id: str, file_list: list[dict], config: dict = CONFIG) -> dict:
    return {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:publish", "Bucket": bucket,
            "DistributionId": distribution_id, "Files": file_list, "Config": json.dumps(config),
            "ServiceTimeout": "180"}


def send(index, cloudformation: ResponseServer, request_type: str, props: dict, old: dict | None = None,
         physical_id: str | None = None) -> dict:
    """One CloudFormation event through the inlined handler; returns the response it PUT."""
    event = {
        "RequestType": request_type, "ResponseURL": cloudformation.url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/ecsapi/1", "RequestId": f"r-{time.time_ns()}",
        "LogicalResourceId": "SitePage", "ResourceType": "Custom::SitePage", "ResourceProperties": props,
    }
    if old is not None:
        event["OldResourceProperties"] = old
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    before = len(cloudformation.responses)
    index.handler(event, Context(60))
    assert len(cloudformation.responses) == before + 1, "exactly one answer per event"
    return cloudformation.responses[-1]["body"]


def stored(bucket: str) -> dict[str, dict]:
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    result = {}
    for key in keys:
        answer = s3.get_object(Bucket=bucket, Key=key)
        result[key] = {"body": answer["Body"].read(), "type": answer["ContentType"], "cache": answer.get("CacheControl")}
    return result


def test_create_writes_the_verified_page_and_the_stacks_config_with_their_content_types(
    lambda_index, cloudformation, release_server, bucket, distribution_id
):
    body = send(lambda_index, cloudformation, "Create", properties(bucket, distribution_id, files(release_server)))
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == f"s3://{bucket}/"
    objects = stored(bucket)
    assert sorted(objects) == ["app.js", "config.json", "index.html", "style.css"]
    for name, content in PAGE.items():
        assert objects[name]["body"] == content
    assert objects["index.html"]["type"] == "text/html; charset=utf-8"
    assert objects["app.js"]["type"] == "text/javascript; charset=utf-8"
    assert objects["style.css"]["type"] == "text/css; charset=utf-8"
    assert objects["config.json"]["type"] == "application/json"  # RFC 8259 defines no charset parameter
    assert json.loads(objects["config.json"]["body"]) == CONFIG
    assert {o["cache"] for o in objects.values()} == {"max-age=0, must-revalidate, s-maxage=86400"}
    # A create has nothing cached to invalidate.
    assert boto3.client("cloudfront").list_invalidations(DistributionId=distribution_id)["InvalidationList"]["Quantity"] == 0


def test_update_rewrites_removes_files_no_longer_listed_and_invalidates_the_distribution(
    lambda_index, cloudformation, release_server, bucket, distribution_id
):
    old = properties(bucket, distribution_id, files(release_server))
    assert send(lambda_index, cloudformation, "Create", old)["Status"] == "SUCCESS"
    release_server.files["releases/v1.0.0/web/index.html"] = b"<!doctype html><title>v2</title>\n"
    page = {"index.html": b"<!doctype html><title>v2</title>\n", "app.js": PAGE["app.js"]}
    new_config = {**CONFIG, "apiUrl": "https://xyz789.execute-api.us-east-1.amazonaws.com"}
    new = properties(bucket, distribution_id, files(release_server, page), new_config)
    body = send(lambda_index, cloudformation, "Update", new, old=old, physical_id=f"s3://{bucket}/")
    assert body["Status"] == "SUCCESS", body["Reason"]
    objects = stored(bucket)
    assert sorted(objects) == ["app.js", "config.json", "index.html"]  # style.css removed
    assert objects["index.html"]["body"] == page["index.html"]
    assert json.loads(objects["config.json"]["body"])["apiUrl"] == new_config["apiUrl"]
    invalidations = boto3.client("cloudfront").list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    assert invalidations["Quantity"] == 1
    assert invalidations["Items"][0]["Id"] == body["Data"]["InvalidationId"]
    detail = boto3.client("cloudfront").get_invalidation(DistributionId=distribution_id, Id=body["Data"]["InvalidationId"])
    assert detail["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/*"]


def test_delete_removes_every_version_so_the_versioned_bucket_can_be_deleted(
    lambda_index, cloudformation, release_server, bucket, distribution_id
):
    old = properties(bucket, distribution_id, files(release_server))
    assert send(lambda_index, cloudformation, "Create", old)["Status"] == "SUCCESS"
    # An update overwrites every file and removes style.css: noncurrent versions and a delete marker.
    new = properties(bucket, distribution_id, [f for f in files(release_server) if f["Key"] != "style.css"])
    assert send(lambda_index, cloudformation, "Update", new, old=old, physical_id=f"s3://{bucket}/")["Status"] == "SUCCESS"
    versions = boto3.client("s3").list_object_versions(Bucket=bucket)
    assert len(versions["Versions"]) > len(stored(bucket)) and versions["DeleteMarkers"]
    body = send(lambda_index, cloudformation, "Delete", new, physical_id=f"s3://{bucket}/")
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert stored(bucket) == {}
    versions = boto3.client("s3").list_object_versions(Bucket=bucket)
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    boto3.client("s3").delete_bucket(Bucket=bucket)  # what CloudFormation does next; fails if not empty


def test_a_digest_mismatch_fails_the_create_and_writes_nothing(lambda_index, cloudformation, release_server, bucket, distribution_id):
    digests = {name: hashlib.sha256(body).hexdigest() for name, body in PAGE.items()}
    digests["app.js"] = hashlib.sha256(b"what the template pinned").hexdigest()
    body = send(lambda_index, cloudformation, "Create", properties(bucket, distribution_id, files(release_server, digests=digests)))
    assert body["Status"] == "FAILED"
    assert "app.js" in body["Reason"] and "SHA-256" in body["Reason"] and digests["app.js"] in body["Reason"]
    assert stored(bucket) == {}  # nothing published, not even the files that matched


def test_a_digest_mismatch_on_update_leaves_the_published_page_as_it_was(
    lambda_index, cloudformation, release_server, bucket, distribution_id
):
    old = properties(bucket, distribution_id, files(release_server))
    assert send(lambda_index, cloudformation, "Create", old)["Status"] == "SUCCESS"
    release_server.files["releases/v1.0.0/web/app.js"] = b"tampered();\n"
    body = send(lambda_index, cloudformation, "Update", old, old=old, physical_id=f"s3://{bucket}/")
    assert body["Status"] == "FAILED" and "app.js" in body["Reason"]
    assert body["PhysicalResourceId"] == f"s3://{bucket}/"
    assert stored(bucket)["app.js"]["body"] == PAGE["app.js"]


def test_a_release_file_that_is_missing_fails_with_the_http_status(lambda_index, cloudformation, release_server, bucket, distribution_id):
    del release_server.files["releases/v1.0.0/web/style.css"]
    body = send(lambda_index, cloudformation, "Create", properties(bucket, distribution_id, files(release_server)))
    assert body["Status"] == "FAILED"
    assert "style.css" in body["Reason"] and "HTTP 404" in body["Reason"]
    assert stored(bucket) == {}


def test_an_unreachable_release_location_fails_instead_of_hanging(lambda_index, cloudformation, bucket, distribution_id):
    closed = ReleaseServer({})
    closed.close()  # nothing listens on its port any more
    started = time.monotonic()
    body = send(lambda_index, cloudformation, "Create", properties(bucket, distribution_id, files(closed)))
    assert body["Status"] == "FAILED" and "could not download index.html" in body["Reason"]
    assert time.monotonic() - started < 30


def test_delete_after_a_failed_create_and_delete_of_a_bucket_already_gone_succeed(
    lambda_index, cloudformation, release_server, bucket, distribution_id
):
    props = properties(bucket, distribution_id, files(release_server))
    body = send(lambda_index, cloudformation, "Delete", props, physical_id="SitePage-failed-r-1")
    assert body["Status"] == "SUCCESS" and body["PhysicalResourceId"] == "SitePage-failed-r-1"
    boto3.client("s3").delete_bucket(Bucket=bucket)
    body = send(lambda_index, cloudformation, "Delete", props, physical_id=f"s3://{bucket}/")
    assert body["Status"] == "SUCCESS", body["Reason"]


def test_writing_to_a_bucket_that_does_not_exist_is_reported_as_failed(lambda_index, cloudformation, release_server, distribution_id):
    body = send(lambda_index, cloudformation, "Create", properties("no-such-bucket-here", distribution_id, files(release_server)))
    assert body["Status"] == "FAILED" and "s3://no-such-bucket-here/" in body["Reason"]


def test_an_invalidation_of_an_unknown_distribution_fails_the_update(lambda_index, cloudformation, release_server, bucket):
    props = properties(bucket, "E0000000000000", files(release_server))
    body = send(lambda_index, cloudformation, "Update", props, old=props, physical_id=f"s3://{bucket}/")
    assert body["Status"] == "FAILED" and "E0000000000000" in body["Reason"]



def test_the_config_the_template_passes_is_published_as_the_page_reads_it(
    lambda_index, cloudformation, release_server, bucket, distribution_id, render
):
    """The default template's own Config property, with the values CloudFormation substitutes."""
    config_property = render()["Resources"]["SitePage"]["Properties"]["Config"]["Fn::Sub"]
    values = {"AWS::Region": REGION, "HttpApi.ApiEndpoint": "https://q1w2e3.execute-api.us-east-1.amazonaws.com",
              "UserPool": "us-east-1_Pool1", "UserPoolClient": "client1"}
    text = config_property
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    props = properties(bucket, distribution_id, files(release_server))
    props["Config"] = text
    assert send(lambda_index, cloudformation, "Create", props)["Status"] == "SUCCESS"
    published = json.loads(stored(bucket)["config.json"]["body"])
    assert published["apiUrl"] == values["HttpApi.ApiEndpoint"] and published["clientId"] == "client1"
    assert [s["name"] for s in published["services"]] == ["foodstore", "petstore"]
    assert published["passwordPolicy"]["minimumLength"] == 12


def test_a_config_that_is_not_a_json_object_fails(lambda_index, cloudformation, release_server, bucket, distribution_id):
    props = properties(bucket, distribution_id, files(release_server))
    props["Config"] = "[1, 2]"
    body = send(lambda_index, cloudformation, "Create", props)
    assert body["Status"] == "FAILED" and "JSON object" in body["Reason"]
    assert stored(bucket) == {}
