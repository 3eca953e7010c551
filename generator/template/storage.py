"""DynamoDB: one table per service, and the VPC endpoint that keeps table traffic off the internet."""

from __future__ import annotations

from awacs.aws import Allow, Condition, Principal, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub, Template, dynamodb, ec2, kms

from generator.model.config import ServiceSpec, StackConfig
from generator.template.checkov import TABLE_WITHOUT_CMK, skip_checks
from generator.template.iam import ITEM_STORE_ACTIONS, policy
from generator.template.names import logical_id
from generator.template.network import Network
from generator.template.retention import data_policies


def key_schema(service: ServiceSpec) -> dict:
    """The table's key, in the shape both CloudFormation and boto3's ``create_table`` take."""
    return {
        "AttributeDefinitions": [{"AttributeName": service.key_attribute, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": service.key_attribute, "KeyType": "HASH"}],
    }


def add_table(template: Template, config: StackConfig, key: kms.Key | None, service: ServiceSpec) -> dynamodb.Table:
    """On-demand, point-in-time recovery, encrypted with ``key`` or else the AWS managed key,
    kept or deleted with the stack's data (retention.py)."""
    keys = key_schema(service)
    table = template.add_resource(
        dynamodb.Table(
            logical_id(service.name, "Table"),
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


def add_table_endpoint(template: Template, network: Network, tables: list[dynamodb.Table]) -> None:
    """A gateway endpoint (free) on the route tables of the tasks' subnets that admits item access
    to the stack's tables only: a task that tried to reach another table through it would be refused."""
    template.add_resource(
        ec2.VPCEndpoint(
            "DynamoDbEndpoint",
            VpcId=Ref(network.vpc),
            VpcEndpointType="Gateway",
            ServiceName=Sub("com.amazonaws.${AWS::Region}.dynamodb"),
            RouteTableIds=[Ref(table) for table in network.gateway_endpoint_route_tables],
            PolicyDocument=policy(
                Statement(
                    Effect=Allow,
                    Principal=Principal("AWS", "*"),
                    Action=list(ITEM_STORE_ACTIONS),
                    Resource=[GetAtt(table, "Arn") for table in tables],
                    Condition=Condition(StringEquals({"aws:PrincipalAccount": Sub("${AWS::AccountId}")})),
                )
            ),
        )
    )
