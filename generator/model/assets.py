"""The release's fixed files, by name, and the SHA-256 digests the template pins for them.

A stack never trusts what it downloads from the release location: the image build refuses an
archive and the page publisher a page file whose digest differs from the template's. The digests
live in ``release_manifest.json`` beside this module, so an installed ecsapi (which carries no
container source) renders exactly the template a checkout renders. The builders read them here;
generator/tooling/assets.py builds the files from the checkout and rewrites the manifest
(``make template``), and a test fails when it is stale.
"""

from __future__ import annotations

import json

from generator.model.package_data import package_file
from generator.model.page import CONTENT_TYPES as PAGE_CONTENT_TYPES

MANIFEST = "release_manifest.json"
# The Dockerfile (under containers/) of each default service, written once: the source archive
# carries them, the container tests check and run each service as its own builds it, and the
# stack's build uses BUILT_DOCKERFILE for every service (the Dockerfiles differ only in default
# environment values, which every task definition sets anyway).
SERVICE_DOCKERFILES: dict[str, str] = {"foodstore": "food/Dockerfile", "petstore": "pet/Dockerfile"}
BUILT_DOCKERFILE = SERVICE_DOCKERFILES["foodstore"]
# The container build context (what the Dockerfiles COPY, and the Dockerfiles), as one tar. Not
# compressed: gzip output differs between zlib builds, and the digest must be the same anywhere.
SOURCE_ARCHIVE = "itemstore-source.tar"
# The test page's static files (generator/model/page.py) go under this folder of the release.
WEB_PREFIX = "web/"


# The Content-Type of every file a release uploads: the page's files, the template and OpenAPI
# documents (JSON), and the source archive.
CONTENT_TYPES = {**PAGE_CONTENT_TYPES, ".tar": "application/x-tar"}


def pinned_digests() -> dict[str, str]:
    """The digests this package pins (``release_manifest.json``): file name -> SHA-256 hex."""
    return json.loads(package_file("generator.model", MANIFEST).read_text(encoding="utf-8"))
