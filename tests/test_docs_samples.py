"""Every figure and sample the docs mark (<!-- sample:NAME -->) is what the code gives today
(scripts/docs_samples.py writes them), every mark names a known sample, and every sample is used."""

from __future__ import annotations

import importlib.util

import pytest

from tests.support.processes import REPO


@pytest.fixture(scope="module")
def samples():
    spec = importlib.util.spec_from_file_location("docs_samples", REPO / "scripts" / "docs_samples.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def marks(samples) -> list[tuple[str, str, str]]:
    """(page, name, body) of every mark in the README and the docs."""
    return [(page.relative_to(REPO).as_posix(), name, body)
            for page in samples.pages() for name, body in samples.marks(page.read_text(encoding="utf-8"))]


def test_every_marked_figure_and_sample_is_current(samples):
    stale = [(page, name) for page, name, body in marks(samples) if body != samples.sample(name)]
    assert stale == [], "stale docs figures: run .venv/bin/python scripts/docs_samples.py --write"


def test_every_mark_names_a_sample_and_every_sample_is_used(samples):
    used = {name for _, name, _ in marks(samples)}
    assert used == set(samples.SAMPLES)


def test_the_stale_figures_found_in_review_are_marked(samples):
    """The figures issue 23 found stale (resource count, idle cost) stand in marks, not in prose."""
    readme = [name for page, name, _ in marks(samples) if page == "README.md"]
    assert {"default-resources", "default-idle-cost"} <= set(readme)
    assert samples.sample("default-resources").isdigit() and samples.sample("default-idle-cost").startswith("$")


def test_a_changed_figure_is_reported_stale_and_rewritten(samples, tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("creates <!-- sample:default-resources -->98<!-- /sample --> resources\n")
    monkeypatch.setattr(samples, "pages", lambda: [page])
    monkeypatch.setattr(samples, "REPO", tmp_path)
    assert samples.main([]) == 1
    assert samples.main(["--write"]) == 0
    assert page.read_text() == f"creates <!-- sample:default-resources -->{samples.sample('default-resources')}<!-- /sample --> resources\n"
    assert samples.main([]) == 0
