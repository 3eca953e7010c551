"""DynamoDB: the services' tables (the item store's one, your own services' zero or more), and the
VPC endpoint that keeps table traffic off the internet."""

from __future__ import annotations

from awacs.aws import Allow, Condition, Principal, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub, Template, dynamodb, ec2, kms

from generator.model.config import ServiceSpec, StackConfig
from generator.model.records import dataclass
from generator.model.tables import TableSpec
from generator.template.checkov import TABLE_WITHOUT_CMK, skip_checks
from generator.template.iam import ITEM_STORE_ACTIONS, OWN_TABLE_ACTIONS, policy
from generator.template.names import logical_id
from generator.template.network import Network
from generator.template.retention import data_policies


@dataclass(frozen=True)
class Table:
    """One table of a service: the resource, and the configuration it came from."""

    resource: dynamodb.Table
    spec: TableSpec | None
    """Your own service's table; None for the item store's one table."""


def key_schema(service: ServiceSpec) -> dict:
    """The item store's table key, in the shape both CloudFormation and boto3's ``create_table`` take."""
    return {
        "AttributeDefinitions": [{"AttributeName": service.key_attribute, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": service.key_attribute, "KeyType": "HASH"}],
    }


def add_tables(template: Template, config: StackConfig, key: kms.Key | None, service: ServiceSpec) -> tuple[Table, ...]:
    """The service's tables: the item store's ``<Name>Table`` (3.0.0's logical id), or your own
    service's ``<Name><Table>Table`` each (``OrdersOrdersTable``), none when it has none."""
    if service.is_item_store:
        return (Table(_add_table(template, config, key, logical_id(service.name, "Table"), key_schema(service)), None),)
    return tuple(
        Table(_add_table(template, config, key, logical_id(service.name, table.logical_name, "Table"), table.key_schema()), table)
        for table in service.tables
    )


def _add_table(template: Template, config: StackConfig, key: kms.Key | None, title: str, keys: dict) -> dynamodb.Table:
    """On-demand, point-in-time recovery, encrypted with ``key`` or else the AWS managed key,
    kept or deleted with the stack's data (retention.py)."""
    table = template.add_resource(
        dynamodb.Table(
            title,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[dynamodb.AttributeDefinition(**d) for d in keys["AttributeDefinitions"]],
            KeySchema=[dynamodb.KeySchema(**k) for k in keys["KeySchema"]],
            PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=True
            ),
            SSESpecification=(
                dynamodb.SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(key, "Arn"))
                if key is not None
                else dynamodb.SSESpecification(SSEEnabled=True)
            ),
            # Off: a failed first create must be able to delete the table (see retention.py).
            DeletionProtectionEnabled=False,
            **data_policies(config),
        )
    )
    return skip_checks(table, *([] if key is not None else [TABLE_WITHOUT_CMK]))


def add_table_endpoint(template: Template, network: Network, tables: list[Table]) -> None:
    """A gateway endpoint (free) on the route tables of the tasks' subnets that admits, for this
    account's principals, the actions the task roles have on the stack's tables only (the item
    store's item reads and writes; your own tables' actions, on them and their indexes): a task that
    tried to reach another table through it would be refused."""
    item_store = [table.resource for table in tables if table.spec is None]
    own = [table.resource for table in tables if table.spec is not None]
    account = Condition(StringEquals({"aws:PrincipalAccount": Sub("${AWS::AccountId}")}))
    statements = []
    if item_store:
        statements.append(Statement(
            Effect=Allow, Principal=Principal("AWS", "*"), Action=list(ITEM_STORE_ACTIONS),
            Resource=[GetAtt(table, "Arn") for table in item_store], Condition=account,
        ))
    if own:
        statements.append(Statement(
            Effect=Allow, Principal=Principal("AWS", "*"), Action=list(OWN_TABLE_ACTIONS),
            Resource=[arn for table in own for arn in (GetAtt(table, "Arn"), Sub(f"${{{table.title}.Arn}}/index/*"))],
            Condition=account,
        ))
    if not statements:
        return  # no table, nothing to reach: no endpoint
    template.add_resource(
        ec2.VPCEndpoint(
            "DynamoDbEndpoint",
            VpcId=Ref(network.vpc),
            VpcEndpointType="Gateway",
            ServiceName=Sub("com.amazonaws.${AWS::Region}.dynamodb"),
            RouteTableIds=[Ref(table) for table in network.gateway_endpoint_route_tables],
            PolicyDocument=policy(*statements),
        )
    )

