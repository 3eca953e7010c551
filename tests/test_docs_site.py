"""The docs site builds in strict mode, and strict mode does refuse a broken link or anchor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration  # mkdocs as a subprocess

REPO = Path(__file__).resolve().parents[1]


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    # NO_MKDOCS_2_WARNING: Material's banner about MkDocs 2.0, printed on every build (see the Makefile).
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def nav_pages(nav: list) -> list[str]:
    pages = []
    for entry in nav:
        for value in entry.values():
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_the_site_builds_strictly_with_every_page_of_docs_in_its_nav(tmp_path):
    result = mkdocs_build(REPO / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)  # !!python/name stays text
    pages = nav_pages(config["nav"])
    assert sorted(pages) == sorted(str(p.relative_to(REPO / "docs")) for p in (REPO / "docs").rglob("*.md"))
    for page in pages:
        built = tmp_path / "site" / ("index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html")
        assert built.is_file(), page


@pytest.mark.parametrize("broken_link", ["[a link](no-such-page.md)", "[an anchor](install.md#no-such-heading)"])
def test_a_link_to_a_missing_page_or_anchor_fails_the_build(tmp_path, broken_link):
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text() + f"\n{broken_link}\n")
    result = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 1
    assert "index.md" in result.stderr and broken_link.split("(")[1].rstrip(")") in result.stderr


def test_the_pages_workflow_publishes_the_strict_build_of_the_pinned_tools():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "docs.yml").read_text())
    build = "\n".join(step.get("run", "") + step.get("uses", "") for step in workflow["jobs"]["build"]["steps"])
    assert "-r docs/requirements.txt" in build and "mkdocs build --strict" in build
    assert "actions/upload-pages-artifact" in build
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [step["uses"] for step in deploy["steps"]] == ["actions/deploy-pages@v4"]
    requirements = (REPO / "docs" / "requirements.txt").read_text()
    assert {"mkdocs", "mkdocs-material"} <= {line.split("==")[0] for line in requirements.splitlines() if "==" in line}
