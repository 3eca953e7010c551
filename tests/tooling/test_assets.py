"""The release's fixed files: reproducible to the byte, and pinned by a manifest that is never stale."""

from __future__ import annotations

import io
import shutil
import tarfile

from generator.tooling import assets


def test_the_committed_manifest_matches_the_files_of_this_checkout():
    assert assets.pinned_digests() == assets.manifest_of(assets.release_files()), (
        "generator/model/release_manifest.json is stale: run `make template` and commit it"
    )


def test_the_source_archive_holds_the_build_context_with_fixed_metadata():
    with tarfile.open(fileobj=io.BytesIO(assets.source_archive())) as archive:
        members = archive.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert {"requirements.txt", "food/Dockerfile", "pet/Dockerfile", "itemstore/app.py"} <= set(names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {(0, 0, 0, "", "", 0o644)}


def test_the_archive_is_the_same_bytes_from_a_copy_with_other_times_and_modes(tmp_path):
    copy = tmp_path / "containers"
    shutil.copytree(assets.CONTAINERS, copy)
    for path in copy.rglob("*"):
        if path.is_file():
            path.chmod(0o600)
            path.touch()
    (copy / "itemstore" / "__pycache__").mkdir(exist_ok=True)
    (copy / "itemstore" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    assert assets.source_archive(copy) == assets.source_archive()


def test_a_changed_source_file_changes_the_digest(tmp_path):
    copy = tmp_path / "containers"
    shutil.copytree(assets.CONTAINERS, copy)
    (copy / "itemstore" / "app.py").write_text((copy / "itemstore" / "app.py").read_text() + "\n# changed\n")
    assert assets.sha256(assets.source_archive(copy)) != assets.sha256(assets.source_archive())


def test_each_default_service_has_its_dockerfile_in_the_archive_and_the_stack_builds_one_of_them():
    from generator.model.config import DEFAULT_SERVICES
    from generator.tooling.assets import BUILD_CONTEXT_FILES, BUILT_DOCKERFILE, CONTAINERS, SERVICE_DOCKERFILES

    assert set(SERVICE_DOCKERFILES) == {spec.name for spec in DEFAULT_SERVICES}
    with tarfile.open(fileobj=io.BytesIO(assets.source_archive())) as archive:
        names = set(archive.getnames())
    for path in SERVICE_DOCKERFILES.values():
        assert (CONTAINERS / path).is_file() and path in BUILD_CONTEXT_FILES and path in names
    assert BUILT_DOCKERFILE in SERVICE_DOCKERFILES.values()
