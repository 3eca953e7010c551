"""Publishes the API test page into the stack's site bucket (the ``Custom::SitePage`` resource).

Create and Update download the page's files from the release, refuse any whose SHA-256 differs
from the digest the template pins, then write them and ``config.json`` (the stack's own values,
which the template passes as ``Config``). Nothing is written until every file has been checked,
so a bad release leaves the published page as it was. Update also removes the files the old
properties listed and the new do not, and invalidates the distribution's cache so viewers get
the new page at once. The bucket keeps versions (overwritten and removed files become
noncurrent, and its lifecycle rule expires them), so Delete removes every version and delete
marker in it: CloudFormation can delete only an empty bucket, and a versioned bucket is empty only
when no version is left ("Deleting object versions from a versioning-enabled bucket", Amazon S3
User Guide). Nothing in the bucket is data: the stack writes all of it, and the bucket goes too.

Properties: ``Bucket``; ``DistributionId``; ``Files``, a list of ``{"Key", "Url", "Sha256"}``;
``Config``, the JSON text of config.json.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .custom_resource import Request, ResourceFailed, Result, aws_config, run

CONFIG_KEY = "config.json"
# generator/model/page.py's CONTENT_TYPES, copied because this code runs in Lambda without the
# package; tests/test_shared_facts.py compares the two.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}
# Browsers revalidate every time (a 304 from the edge when nothing changed), so a page that
# changed is never stale in a browser; CloudFront keeps files a day (s-maxage governs shared
# caches, "Managing how long content stays in the cache", Amazon CloudFront Developer Guide) and
# an Update invalidates them at once.
CACHE_CONTROL = "max-age=0, must-revalidate, s-maxage=86400"
# The page's files are a few kilobytes; anything far larger is not the page.
MAX_FILE_BYTES = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT_SECONDS = 20.0


def handler(event, context):
    run(event, context, publish)


def publish(request: Request) -> Result:
    """Create, Update or Delete the published page; raises ResourceFailed with the reason."""
    properties = request.properties
    bucket = properties["Bucket"]
    s3 = boto3.client("s3", config=aws_config(request.seconds_left()))
    if request.request_type == "Delete":
        remove_every_version(s3, bucket)
        return Result(request.physical_id or physical_id(bucket))
    files = {item["Key"]: download(item, request) for item in properties["Files"]}
    files[CONFIG_KEY] = config_bytes(properties["Config"])
    for key, body in files.items():
        put(s3, bucket, key, body)
    data = {}
    if request.request_type == "Update":
        old = request.old_properties
        if old.get("Bucket") == bucket:
            remove(s3, bucket, keys_of(old) - set(files))
        data["InvalidationId"] = invalidate(properties["DistributionId"], request)
    return Result(physical_id(bucket), data)


def physical_id(bucket: str) -> str:
    # A new bucket is a new resource: CloudFormation then deletes the old one, with its properties.
    return f"s3://{bucket}/"


def keys_of(properties: dict) -> set[str]:
    """Every key a publish with these properties writes."""
    return {item["Key"] for item in properties.get("Files") or []} | {CONFIG_KEY}


def content_type(key: str) -> str:
    extension = key[key.rfind(".") :] if "." in key else ""
    if extension not in CONTENT_TYPES:
        raise ResourceFailed(f"{key}: no content type for {extension or 'a file without extension'!r}")
    return CONTENT_TYPES[extension]


def download(item: dict, request: Request) -> bytes:
    """The file at ``item["Url"]``, if its SHA-256 is ``item["Sha256"]``."""
    key, url, expected = item["Key"], item["Url"], item["Sha256"].lower()
    content_type(key)  # an unpublishable name fails before anything is downloaded
    timeout = max(1.0, min(DOWNLOAD_TIMEOUT_SECONDS, request.seconds_left()))
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(MAX_FILE_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise ResourceFailed(f"could not download {key} from {url}: HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ResourceFailed(f"could not download {key} from {url}: {reason}") from None
    if len(body) > MAX_FILE_BYTES:
        raise ResourceFailed(f"{key} from {url} is larger than {MAX_FILE_BYTES} bytes")
    actual = hashlib.sha256(body).hexdigest()
    if actual != expected:
        raise ResourceFailed(
            f"{key} from {url} has SHA-256 {actual} but the template pins {expected}; not publishing it"
        )
    return body


def config_bytes(text: str) -> bytes:
    """config.json, checked to be a JSON object and written in a stable form."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ResourceFailed(f"Config is not JSON ({error})") from None
    if not isinstance(document, dict):
        raise ResourceFailed("Config must be a JSON object")
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def put(s3, bucket: str, key: str, body: bytes) -> None:
    try:
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type(key), CacheControl=CACHE_CONTROL,
            ChecksumAlgorithm="SHA256",
        )
    except (ClientError, BotoCoreError) as error:
        raise ResourceFailed(f"could not write s3://{bucket}/{key}: {error}") from None


def remove(s3, bucket: str, keys: set[str]) -> None:
    """Delete ``keys`` (one request; keys that are not there count as deleted)."""
    if not keys:
        return
    try:
        answer = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in sorted(keys)], "Quiet": True}
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return  # nothing left to remove
        raise ResourceFailed(f"could not delete from s3://{bucket}: {error}") from None
    except BotoCoreError as error:
        raise ResourceFailed(f"could not delete from s3://{bucket}: {error}") from None
    errors = answer.get("Errors") or []
    if errors:
        details = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in errors)
        raise ResourceFailed(f"could not delete from s3://{bucket}: {details}")


def invalidate(distribution_id: str, request: Request) -> str:
    """Invalidate every path of the distribution; returns the invalidation's id (not waited for:
    CloudFront completes it within minutes, and the stack need not wait for that)."""
    cloudfront = boto3.client("cloudfront", config=aws_config(request.seconds_left()))
    try:
        answer = cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                # CloudFront takes the same reference twice as one request ("CreateInvalidation",
                # Amazon CloudFront API Reference): one per CloudFormation request, so a repeated
                # event makes no second invalidation.
                "CallerReference": f"{request.logical_id}-{request.request_id or time.time_ns()}",
            },
        )
    except (ClientError, BotoCoreError) as error:
        raise ResourceFailed(f"could not invalidate distribution {distribution_id}: {error}") from None
    return answer["Invalidation"]["Id"]


def remove_every_version(s3, bucket: str) -> None:
    """Delete every object version and delete marker of ``bucket`` (a bucket already gone is empty)."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            # A page holds at most 1,000 entries of each kind; DeleteObjects takes 1,000 keys a call.
            for kind in ("Versions", "DeleteMarkers"):
                entries = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get(kind) or []]
                if entries:
                    _delete_batch(s3, bucket, entries)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return
        raise ResourceFailed(f"could not empty s3://{bucket}: {error}") from None
    except BotoCoreError as error:
        raise ResourceFailed(f"could not empty s3://{bucket}: {error}") from None


def _delete_batch(s3, bucket: str, entries: list[dict]) -> None:
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": entries, "Quiet": True})
    errors = answer.get("Errors") or []
    if errors:
        details = ", ".join(f"{e.get('Key')} {e.get('VersionId')}: {e.get('Code')}" for e in errors)
        raise ResourceFailed(f"could not empty s3://{bucket}: {details}")
