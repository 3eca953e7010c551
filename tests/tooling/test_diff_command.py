"""ecsapi diff on files and rendered configurations: exit codes as Copilot's (0 no change, 1 changes,
2 error), text and JSON, errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

from generator.tooling.cli import main
from tests.support.processes import REPO

# The 2.0.0 release's template as committed (test_changes.py checks its digest).
RELEASE_2_0_0 = Path(__file__).with_name("fixtures") / "ecsapi-v2.0.0-release.json"
RELEASE_3_0_0 = Path(__file__).with_name("fixtures") / "ecsapi-v3.0.0-release.json"


def test_identical_files_exit_0_and_say_no_changes(capsys):
    assert main(["diff", str(RELEASE_2_0_0), str(RELEASE_2_0_0)]) == 0
    assert capsys.readouterr().out.endswith("No changes.\n")


def test_the_2_0_0_release_against_a_rendered_configuration_exits_1(capsys):
    assert main(["diff", str(RELEASE_2_0_0), "--config", str(REPO / "stacks" / "small.toml")]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"ecsapi diff: {RELEASE_2_0_0} -> rendered {REPO / 'stacks' / 'small.toml'}"
    assert "- PublicSubnet3 (AWS::EC2::Subnet)" in out


def test_options_may_come_before_the_command_and_json_is_deterministic(capsys):
    argv = ["--format", "json", "diff", str(RELEASE_2_0_0), "--config", str(REPO / "stacks" / "hardened.toml")]
    assert main(argv) == 1
    first = capsys.readouterr().out
    assert main(argv) == 1
    assert capsys.readouterr().out == first
    document = json.loads(first)
    assert {"logicalId": "StackKey", "type": "AWS::KMS::Key"} in document["added"]


def test_errors_are_one_line_and_exit_2(capsys, tmp_path):
    not_json = tmp_path / "x.json"
    not_json.write_text("[1, 2]")
    cases = {
        (): "give the old template (OLD) or a deployed stack (--stack NAME); see ecsapi diff --help",
        (str(tmp_path / "missing.json"),): f"cannot read {tmp_path / 'missing.json'}: No such file or directory",
        (str(not_json),): f"{not_json} is not a CloudFormation template: it has no Resources mapping",
        (str(RELEASE_2_0_0), str(RELEASE_2_0_0), "--config", "stacks/small.toml"):
            "give either NEW or --config, not both",
        (str(RELEASE_2_0_0), "--region", "eu-west-1"): "--region goes with --stack",
    }
    for argv, message in cases.items():
        assert main(["diff", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"ecsapi: {message}"), err
        assert err.count("\n") == 1


def test_a_changed_vpc_cidr_is_refused_with_exit_2_after_the_report(capsys, tmp_path):
    config = tmp_path / "moved.toml"
    config.write_text('vpc_cidr = "10.1.0.0/16"\n')
    assert main(["diff", str(RELEASE_3_0_0), "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert "REFUSED: this update cannot be made in place" in captured.out
    [line] = captured.err.strip().splitlines()[-1:]
    assert line.startswith("ecsapi: refused: the VPC Vpc's CIDR changes (10.0.0.0/16 -> 10.1.0.0/16; vpc_cidr)")


def test_the_3_0_0_release_against_the_default_shows_the_services_replaced_once(capsys):
    assert main(["diff", str(RELEASE_3_0_0)]) == 1
    out = capsys.readouterr().out
    assert "~ FoodstoreService (AWS::ECS::Service): REPLACE" in out
    assert "+ ClusterCapacityProviders (AWS::ECS::ClusterCapacityProviderAssociations)" in out
    assert "REFUSED" not in out
