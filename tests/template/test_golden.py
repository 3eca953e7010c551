"""The committed template is exactly what the generator renders, and it lints clean."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import StackConfig, build_template
from generator.tooling.render import render_files, template_json
from tests.support.processes import REPO
from tests.support.templates import VARIANTS, cfn_lint, cfn_lint_command

TEMPLATES = REPO / "templates"
# The other stacks/ variants' golden files, beside this file (`make template` writes them: GOLDEN_DIR).
GOLDEN = Path(__file__).with_name("golden")


def test_committed_files_equal_a_fresh_render(release):
    for path, fresh in render_files(TEMPLATES, StackConfig(), release).items():
        committed = path.read_text(encoding="utf-8") if path.exists() else ""
        if committed != fresh:
            diff = "".join(difflib.unified_diff(
                committed.splitlines(True), fresh.splitlines(True), f"{path.name} (committed)", "fresh render", n=2,
            ))
            pytest.fail(f"{path.name} is stale; run `make template` and commit it:\n{diff[:6000]}")


HASH_SEEDS = ("0", "1", "4242")
# One new interpreter per seed calls the command's main once per variant (a process per render
# would start the interpreter and import the generator 24 times instead of 3).
RENDER_EVERY_VARIANT = """
import sys
from generator.tooling.cli import main
for config, out in zip(sys.argv[1::2], sys.argv[2::2], strict=True):
    if main(["template", "--config", config, "--out", out]) != 0:
        sys.exit(f"ecsapi template --config {config} failed")
"""


@pytest.fixture(scope="module")
def renders_by_seed(tmp_path_factory) -> dict[str, dict[str, dict[str, bytes]]]:
    """Seed -> variant -> every file ``ecsapi template`` writes for it, rendered by a new
    interpreter whose string hashes (and so set and dict-of-set orders) are seeded by that seed."""
    renders = {}
    for seed in HASH_SEEDS:
        root = tmp_path_factory.mktemp(f"seed{seed}")
        arguments = [str(value) for variant in sorted(VARIANTS)
                     for value in (REPO / "stacks" / f"{variant}.toml", root / variant)]
        subprocess.run([sys.executable, "-c", RENDER_EVERY_VARIANT, *arguments], cwd=REPO,
                       env={**os.environ, "PYTHONHASHSEED": seed}, check=True, capture_output=True, timeout=300)
        renders[seed] = {variant: {path.name: path.read_bytes() for path in sorted((root / variant).iterdir())}
                         for variant in sorted(VARIANTS)}
    return renders


@pytest.mark.integration
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_renders_in_processes_with_other_hash_seeds_are_byte_identical(variant, renders_by_seed):
    # Two renders in one process share one hash seed, so an order that follows set or dict-of-hash
    # iteration would look stable there; processes with different PYTHONHASHSEED values expose it.
    first, *others = (renders_by_seed[seed][variant] for seed in HASH_SEEDS)
    assert first, "nothing was rendered"
    for other in others:
        assert other == first


@pytest.mark.integration
def test_committed_template_has_zero_cfn_lint_findings(release):
    # The command itself, as a user or CI runs it on the file we ship (the variants below are linted
    # in this process with the same arguments).
    result = cfn_lint_command(TEMPLATES / release.template_file())
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.integration
# default: its render is the committed template (test_committed_files_equal_a_fresh_render), which the
# command lints above.
@pytest.mark.parametrize("variant", sorted(set(VARIANTS) - {"default"}))
def test_variant_has_zero_cfn_lint_findings(variant, release, tmp_path):
    path = tmp_path / f"{variant}.json"
    path.write_text(template_json(build_template(VARIANTS[variant], release)))
    assert cfn_lint(path) == []


@pytest.mark.parametrize("variant", sorted(set(VARIANTS) - {"default"}))
def test_each_variants_committed_golden_files_equal_a_fresh_render(variant, release):
    folder = GOLDEN / variant
    for path, fresh in render_files(folder, VARIANTS[variant], release).items():
        committed = path.read_text(encoding="utf-8") if path.exists() else ""
        if committed != fresh:
            diff = "".join(difflib.unified_diff(
                committed.splitlines(True), fresh.splitlines(True), f"{variant}/{path.name} (committed)",
                "fresh render", n=2,
            ))
            pytest.fail(f"{variant}/{path.name} is stale; run `make template` and commit it:\n{diff[:6000]}")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in render_files(folder, VARIANTS[variant], release))


def test_the_default_variant_file_is_the_default_stack():
    assert VARIANTS["default"] == StackConfig()
