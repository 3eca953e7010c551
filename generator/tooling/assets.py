"""The release's fixed files — the container source archive and the test page — and their
SHA-256 digests, which the template pins.

A stack never trusts what it downloads from the release location: the image build refuses an
archive and the page publisher a page file whose digest differs from the template's. The digests
live in ``release_manifest.json`` inside the package, so an installed ecsapi (which carries no
container source) renders exactly the template a checkout renders; ``make template`` rewrites the
manifest from the checkout, and a test fails when it is stale.

``make template`` calls :func:`main` with ``--write`` to rewrite the manifest; ``--out DIR`` writes the files.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from generator.model.page import PAGE_FILES
from generator.tooling.package_data import package_file

REPO = Path(__file__).resolve().parents[2]
CONTAINERS = REPO / "containers"
WEB = REPO / "web"
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
BUILD_CONTEXT_FILES = ("requirements.txt", *sorted(SERVICE_DOCKERFILES.values()))
BUILD_CONTEXT_PACKAGE = "itemstore"
# The test page's static files (generator/model/page.py) go under this folder of the release.
WEB_PREFIX = "web/"


def source_archive(containers: Path = CONTAINERS) -> bytes:
    """A byte-for-byte reproducible tar of the build context: sorted entries, no directories,
    fixed time, owner and mode, the ustar format (no PAX headers carrying local details)."""
    names = list(BUILD_CONTEXT_FILES) + sorted(
        path.relative_to(containers).as_posix()
        for path in (containers / BUILD_CONTEXT_PACKAGE).rglob("*.py")
        if "__pycache__" not in path.parts
    )
    import tarfile  # here: only building a release needs it, and it costs ~4 ms of every cold start

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name in sorted(names):
            data = (containers / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def release_files(containers: Path = CONTAINERS, web: Path = WEB) -> dict[str, bytes]:
    """Every fixed file of a release, by its name inside the release folder."""
    files = {SOURCE_ARCHIVE: source_archive(containers)}
    for name in PAGE_FILES:
        path = web / name
        if path.exists():
            files[WEB_PREFIX + name] = path.read_bytes()
    return files


def sha256(data: bytes) -> str:
    import hashlib  # here: loading OpenSSL costs ~3 ms of a cold start, and rendering hashes nothing

    return hashlib.sha256(data).hexdigest()


def manifest_of(files: dict[str, bytes]) -> dict[str, str]:
    return {name: sha256(data) for name, data in sorted(files.items())}


def manifest_text(manifest: dict[str, str]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def pinned_digests() -> dict[str, str]:
    """The digests this package pins (``release_manifest.json``): file name -> SHA-256 hex."""
    return json.loads(package_file("generator.tooling", MANIFEST).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="generator.tooling.assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite generator/tooling/release_manifest.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if the manifest is stale")
    parser.add_argument("--out", type=Path, help="also write the release files into this folder")
    args = parser.parse_args(argv)
    files = release_files()
    text = manifest_text(manifest_of(files))
    path = Path(__file__).with_name(MANIFEST)
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"ecsapi: {path.name} is stale; run `make template` and commit it", file=sys.stderr)
            return 1
        return 0
    if args.write and (not path.exists() or path.read_text(encoding="utf-8") != text):
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    if args.out:
        for name, data in files.items():
            target = args.out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
