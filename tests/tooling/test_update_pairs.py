"""Every update a user can make between variants succeeds on paper (issue 16, "Updates that cannot
fail"): rendered pairs, compared with the replacement rules of generator/tooling/changes.py, which
reads create-only properties from the resource provider schemas cfn-lint ships.

For each pair, in both directions:
- no resource whose own name is fixed is replaced (CloudFormation: "You can't perform an update
  that causes a custom-named resource to be replaced", Template Reference, "CloudFormation resource
  custom naming");
- no subnet is created on a block an old subnet still holds (CloudFormation creates a replacement
  before it deletes the old resource: User Guide, "UpdateReplacePolicy attribute");
- no table, user pool, key or log group is replaced, not even possibly.

ZoneChoice (Custom::AvailabilityZones) is taken as keeping its answers: its handler keeps the AZs in
use in their places on an Update (generator/runs_in_aws/availability_zones.py), and refuses a move.
"""

from __future__ import annotations

import dataclasses

import pytest

from generator import StackConfig
from generator.model.config_file import load_config
from generator.tooling import changes
from tests.support.processes import REPO

DEFAULT = StackConfig()
# name -> (one side, the other side); both directions are tested.
PAIRS = {
    "3-2-azs": (DEFAULT, dataclasses.replace(DEFAULT, az_count=2)),
    "nat-per-az-single": (DEFAULT, dataclasses.replace(DEFAULT, nat_mode="single")),
    "test-page-on-off": (DEFAULT, dataclasses.replace(DEFAULT, test_page=False)),
    "service-added-removed": (DEFAULT, load_config(REPO / "stacks" / "three-services.toml")),
    "customer-managed-key-off-on": (DEFAULT, dataclasses.replace(DEFAULT, customer_managed_key=True)),
    # small.toml's other settings (one NAT, data deleted with the stack, short logs, CORS, tags,
    # its Fargate Spot share); its AZ count is the 3-2 pair above.
    "small-settings-default": (dataclasses.replace(load_config(REPO / "stacks" / "small.toml"), az_count=3), DEFAULT),
    # A Spot share is a capacity provider strategy's weights at 0 % too (generator/template/cluster.py).
    "spot-0-50": (DEFAULT, dataclasses.replace(DEFAULT, fargate_spot_percent=50)),
    "spot-0-100": (DEFAULT, dataclasses.replace(DEFAULT, fargate_spot_percent=100)),
}
EXPECTED_TO_FAIL: dict[str, str] = {}
STABLE = frozenset({"ZoneChoice"})


def cases():
    for name, (one, other) in PAIRS.items():
        for direction, (old, new) in (("forward", (one, other)), ("back", (other, one))):
            marks = ([pytest.mark.xfail(strict=True, reason=EXPECTED_TO_FAIL[name])]
                     if name in EXPECTED_TO_FAIL else [])
            yield pytest.param(old, new, id=f"{name}-{direction}", marks=marks)


@pytest.mark.parametrize(("old_config", "new_config"), cases())
def test_no_update_between_variants_replaces_a_named_resource_a_used_cidr_or_data(old_config, new_config, render):
    old, new = render(old_config), render(new_config)
    result = changes.compare(old, new, stable=STABLE)
    failing = [w.message for w in result.warnings if w.kind in ("fixed-name", "cidr-conflict")]
    assert failing == []
    data_replaced = [c.logical_id for c in result.changed
                     if c.type in changes.DATA_TYPES and c.replacement != "no"]
    assert data_replaced == []
    # ECS services are updated in place (a deployment), never replaced.
    assert [c.logical_id for c in result.changed if c.type == "AWS::ECS::Service" and c.replacement != "no"] == []


def test_the_pairs_really_differ(render):
    # Each pair is an update of something: a pair that rendered the same would prove nothing.
    for name, (one, other) in PAIRS.items():
        assert changes.compare(render(one), render(other)).any, name
