"""Updating a stack from the last release replaces nothing that holds data: `ecsapi diff` from each
variant's 4.0.0 template (tests/tooling/fixtures/v4.0.0: the templates/ and tests/template/golden/
files of 4.0.0's last commit, `git show d04dd6a:<file> | gzip -9n`) to what this version renders.
The 3.0.0 upgrade is pinned in test_own_services.py."""

from __future__ import annotations

import pytest

from generator.template.names import logical_id
from tests.support.processes import REPO
from tests.support.templates import RELEASE_FIXTURES, diff_from_release

V4_FIXTURES = RELEASE_FIXTURES / "v4.0.0"
V4_VARIANTS = tuple(sorted(path.name.removesuffix(".json.gz") for path in V4_FIXTURES.glob("*.json.gz")))


def test_every_variant_of_4_0_0_has_its_fixture():
    assert set(V4_VARIANTS) == {path.stem for path in (REPO / "stacks").glob("*.toml")}


# 4.1.0 changed the item store's code (issue 28's PUT path), so a stack that builds the item-store
# image gets a new image: the image build answers a new physical id, and each item-store task
# definition MAY be replaced by a new revision that takes it (ECS rolls the service onto it, as on
# any image change). The page's files carry the version. Nothing is added or removed, and no table,
# user pool, key or log group is touched.
@pytest.mark.parametrize("variant", V4_VARIANTS)
def test_every_4_0_0_variant_upgrades_replacing_only_the_image_build_and_its_task_definitions(variant, tmp_path):
    config, report, old = diff_from_release("4.0.0", variant, tmp_path)
    assert report["added"] == [] and report["removed"] == []
    builds_the_image = "ImageBuild" in old["Resources"]
    item_stores = [s for s in config.services if s.path is not None and s.image is None]
    replaced = {(c["logicalId"], c["replacement"]) for c in report["changed"] if c["replacement"] != "no"}
    assert replaced == ({("ImageBuild", "yes"), *((logical_id(s.name, "TaskDefinition"), "maybe") for s in item_stores)}
                        if builds_the_image else set())
    assert report["warnings"] == []
