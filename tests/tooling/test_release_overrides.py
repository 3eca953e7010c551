"""Where a release is published, overridden as release.py promises: a stack file's ``[release]``
table, the ``--release-*`` options of ``ecsapi`` and ``make publish``, over ECSAPI_RELEASE_*
variables, highest first: command line, file, environment, default."""

from __future__ import annotations

import json

import pytest

from generator.tooling import publish
from generator.tooling.cli import main
from generator.tooling.release import ReleaseSettings

ARCHIVE = "itemstore-source.tar"


@pytest.fixture(autouse=True)
def no_release_environment(monkeypatch):
    for name in ("BUCKET", "BUCKET_REGION", "PREFIX", "REGIONS"):
        monkeypatch.delenv(f"ECSAPI_RELEASE_{name}", raising=False)
    return monkeypatch


def archive_url(out) -> str:
    """The source archive URL the rendered template's image build fetches."""
    [path] = out.glob("ecsapi-v*[0-9].json")
    project = json.loads(path.read_text())["Resources"]["ImageBuildProject"]["Properties"]
    return {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}["ARCHIVE_URL"]


def stack_file(tmp_path, text: str):
    path = tmp_path / "stack.toml"
    path.write_text(text)
    return path


def test_a_release_table_in_the_stack_file_sets_where_the_template_fetches_the_release(tmp_path):
    config = stack_file(tmp_path, 'az_count = 2\n\n[release]\nbucket = "fork-releases"\nbucket_region = "eu-west-1"\n'
                                  'prefix = "ecsapi/"\n')
    assert main(["template", "--config", str(config), "--out", str(tmp_path / "out")]) == 0
    assert archive_url(tmp_path / "out") == (
        f"https://fork-releases.s3.eu-west-1.amazonaws.com/ecsapi/v{ReleaseSettings().version}/{ARCHIVE}")


def test_the_command_line_beats_the_file_which_beats_the_environment(tmp_path, no_release_environment):
    no_release_environment.setenv("ECSAPI_RELEASE_BUCKET", "from-environment")
    no_release_environment.setenv("ECSAPI_RELEASE_PREFIX", "env-prefix/")
    no_release_environment.setenv("ECSAPI_RELEASE_BUCKET_REGION", "us-west-2")
    config = stack_file(tmp_path, '[release]\nbucket = "from-file"\nprefix = "file-prefix/"\n')
    out = tmp_path / "out"
    assert main(["template", "--config", str(config), "--out", str(out), "--release-bucket", "from-cli"]) == 0
    # bucket from the command line, prefix from the file, region from the environment
    assert archive_url(out).startswith("https://from-cli.s3.us-west-2.amazonaws.com/file-prefix/")


def test_release_regions_are_comma_separated_and_reach_the_openapi_servers(tmp_path):
    assert main(["openapi", "--out", str(tmp_path), "--release-regions", "eu-central-1, eu-west-1"]) == 0
    [path] = tmp_path.glob("*.openapi.json")
    server = json.loads(path.read_text())["servers"][0]
    assert server["variables"]["region"]["default"] == "eu-central-1"


@pytest.mark.parametrize(("text", "field"), [
    ('[release]\nversion = "9.9.9"\n', "release.version"),  # the package's version is not a setting
    ('[release]\nbuckett = "typo"\n', "release.buckett"),
    ('release = "fork-releases"\n', "release"),
    ('[release]\nbucket = "Not_A_Bucket"\n', "release.bucket"),
])
def test_a_bad_release_table_is_one_line_naming_the_setting_and_writes_nothing(tmp_path, capsys, text, field):
    config = stack_file(tmp_path, text)
    assert main(["template", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ecsapi: configuration error in {config}: {field}:") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_bad_release_option_is_one_line_naming_it(capsys):
    assert main(["describe", "--release-bucket-region", "mars-1"]) == 2
    assert capsys.readouterr().err == (
        "ecsapi: configuration error: release.bucket_region: 'mars-1' is not valid; "
        "use a region name such as us-east-1\n")


def test_publish_takes_the_same_options_and_table(tmp_path, capsys):
    config = stack_file(tmp_path, '[release]\nbucket = "from-file"\nbucket_region = "eu-west-1"\n')
    assert publish.main(["--dry-run", "--config", str(config), "--release-prefix", "forks/"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"dry run: would publish ecsapi {ReleaseSettings().version} to s3://from-file/forks/v")
    assert "(eu-west-1)" in out.splitlines()[0]
