"""DynamoDB tables: one per service, keyed as the containers expect, protected as data should be."""

from __future__ import annotations

from generator import DeletionPolicy, StackConfig
from generator.model.config import DEFAULT_SERVICES
from generator.template.storage import key_schema
from tests.support.templates import resources


def test_one_on_demand_encrypted_table_per_service_keyed_by_its_table_key(default_template):
    tables = resources(default_template, "AWS::DynamoDB::Table")
    assert sorted(tables) == ["FoodstoreTable", "PetstoreTable"]
    for spec in DEFAULT_SERVICES:
        table = tables[f"{spec.name.capitalize()}Table"]
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["KeySchema"] == key_schema(spec)["KeySchema"]
        assert props["AttributeDefinitions"] == [{"AttributeName": spec.key_attribute, "AttributeType": "S"}]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert "TableName" not in props  # CloudFormation names it, so two stacks never collide
        # Kept when the stack is deleted or the table replaced; deleted when the create that made
        # it rolls back (it holds no data yet), which deletion protection would block.
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
        assert props["DeletionProtectionEnabled"] is False


def test_delete_policy_is_applied_to_tables_when_chosen(render):
    template = render(StackConfig(data_deletion_policy=DeletionPolicy.DELETE))
    for table in resources(template, "AWS::DynamoDB::Table").values():
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Delete", "Delete")
        assert table["Properties"]["DeletionProtectionEnabled"] is False
