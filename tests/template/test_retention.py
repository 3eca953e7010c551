"""What a failed first create leaves behind, and what a created stack keeps when it is deleted."""

from __future__ import annotations

import pytest

from generator import DeletionPolicy, StackConfig
from tests.support.templates import VARIANTS, resources

# The resources that hold data a user would miss.
DATA_TYPES = ("AWS::DynamoDB::Table", "AWS::Cognito::UserPool", "AWS::KMS::Key")


def data_resources(template: dict) -> dict[str, dict]:
    return {name: r for kind in DATA_TYPES for name, r in resources(template, kind).items()}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_retained_data_is_deleted_only_by_the_rollback_of_the_create_that_made_it(render, variant):
    config = VARIANTS[variant]
    template = render(config)
    held = data_resources(template)
    # The item store's table or your own services' tables, the user pool with Cognito, the key.
    tables = sum(1 if spec.is_item_store else len(spec.tables) for spec in config.services)
    assert len(held) == tables + config.auth.uses_cognito + config.customer_managed_key
    for name, resource in held.items():
        if config.data_deletion_policy is DeletionPolicy.RETAIN:
            # RetainExceptOnCreate: Retain for every stack operation but the create that made it,
            # whose rollback deletes it ("DeletionPolicy attribute"). UpdateReplacePolicy has no
            # such value: a replaced resource is kept.
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain"), name
        else:
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete"), name
        # A rollback cannot delete what is protected from deletion.
        props = resource["Properties"]
        assert props.get("DeletionProtectionEnabled", False) is False and props.get("DeletionProtection", "INACTIVE") == "INACTIVE"


def test_log_groups_are_kept_even_after_a_failed_create_because_they_say_why(render):
    for config, policy in ((StackConfig(), "Retain"), (StackConfig(data_deletion_policy="Delete"), "Delete")):
        for name, group in resources(render(config), "AWS::Logs::LogGroup").items():
            assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == (policy, policy), name


def test_retain_except_on_create_is_used_nowhere_else(default_template):
    for name, resource in default_template["Resources"].items():
        if resource.get("DeletionPolicy") == "RetainExceptOnCreate":
            assert resource["Type"] in DATA_TYPES, name
