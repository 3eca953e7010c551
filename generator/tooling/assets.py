"""The release's fixed files — the container source archive and the test page — built from the
checkout, and the manifest of their SHA-256 digests that the template pins.

Their names and the pinned digests are model data (generator/model/assets.py, whose
``release_manifest.json`` this module rewrites); a test fails when the manifest is stale.

``make template`` calls :func:`main` with ``--write`` to rewrite the manifest; ``--out DIR`` writes the files.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

# Re-exported: the publisher, describe and the tests name the release's files and digests from here.
from generator.model.assets import (
    BUILT_DOCKERFILE,
    CONTENT_TYPES,
    MANIFEST,
    SERVICE_DOCKERFILES,
    SOURCE_ARCHIVE,
    WEB_PREFIX,
    pinned_digests,
)
from generator.model.page import PAGE_FILES

__all__ = [
    "BUILD_CONTEXT_FILES", "BUILT_DOCKERFILE", "CONTAINERS", "CONTENT_TYPES", "MANIFEST", "REPO", "SERVICE_DOCKERFILES", "SOURCE_ARCHIVE",
    "WEB", "WEB_PREFIX", "main", "manifest_of", "manifest_text", "pinned_digests", "release_files", "sha256",
    "source_archive",
]

REPO = Path(__file__).resolve().parents[2]
CONTAINERS = REPO / "containers"
WEB = REPO / "web"
BUILD_CONTEXT_FILES = ("requirements.txt", *sorted(SERVICE_DOCKERFILES.values()))
BUILD_CONTEXT_PACKAGE = "itemstore"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="generator.tooling.assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite generator/model/release_manifest.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if the manifest is stale")
    parser.add_argument("--out", type=Path, help="also write the release files into this folder")
    args = parser.parse_args(argv)
    files = release_files()
    text = manifest_text(manifest_of(files))
    path = Path(__file__).parents[1] / "model" / MANIFEST
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
