"""Create the template's tables on dynalite and its user pool and app client on moto.

Both servers are local and accept any credentials; the clients get dummy ones and never look for
real ones (no shared config, no instance metadata).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ecsapi_local.intrinsics import Resolver
from ecsapi_local.template_reader import EmulatedStack, Table

CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
# What boto3 must not read on its way to a local server.
ISOLATED_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
CLEARED_ENVIRONMENT = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL",
                       "AWS_ENDPOINT_URL_DYNAMODB", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                       "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")
# CloudFormation property names that differ from the Cognito API's parameter names
# (AWS::Cognito::UserPool UserPoolName is CreateUserPool's PoolName).
POOL_RENAMES = {"UserPoolName": "PoolName"}
TABLE_WAIT_SECONDS = 30


def client(service: str, endpoint: str, region: str):
    import boto3
    from botocore.config import Config

    return boto3.session.Session(region_name=region, **CREDENTIALS).client(
        service, endpoint_url=endpoint,
        config=Config(connect_timeout=2, read_timeout=15, retries={"total_max_attempts": 2}))


def table_name(stack_name: str, table: Table) -> str:
    """The local name of a table: the stack's name and the table's logical id (CloudFormation adds a
    random suffix too; the local name must stay the same across restarts, so it has none)."""
    return f"{stack_name}-{table.logical_id}"


def create_tables(dynamodb, stack: EmulatedStack, names: Mapping[str, str], say: Callable[[str], None]) -> None:
    """Create each table that does not exist yet; an existing one is kept (its items survive)."""
    existing = set(dynamodb.list_tables()["TableNames"])
    for table in stack.tables:
        name = names[table.logical_id]
        if name in existing:
            described = dynamodb.describe_table(TableName=name)["Table"]
            if described["KeySchema"] != [dict(k) for k in table.key_schema]:
                raise RuntimeError(f"table {name} exists with key {described['KeySchema']}, but {table.logical_id} "
                                   f"is keyed {list(table.key_schema)}: run `make local-reset` to start afresh")
            say(f"table {name} kept ({table.logical_id})")
            continue
        dynamodb.create_table(**table.create_table_arguments(name))
        dynamodb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": int(TABLE_WAIT_SECONDS / 0.2)})
        say(f"table {name} created ({table.logical_id})")


def _api_arguments(idp, operation: str, properties: Mapping, renames: Mapping[str, str],
                   say: Callable[[str], None], what: str) -> dict:
    """The CloudFormation properties that are parameters of ``operation``, under the API's names;
    the others are named in one line (the local IdP does not apply them)."""
    members = idp.meta.service_model.operation_model(operation).input_shape.members
    arguments, skipped = {}, []
    for name, value in sorted(properties.items()):
        api_name = renames.get(name, name)
        if api_name in members:
            arguments[api_name] = value
        else:
            skipped.append(name)
    if skipped:
        say(f"{what}: not applied locally (no {operation} parameter): {', '.join(skipped)}")
    return arguments


def create_user_pool(idp, stack: EmulatedStack, resolver: Resolver,
                     say: Callable[[str], None]) -> tuple[str, dict[str, str]]:
    """Create the user pool, its resource servers and its app clients from the template's
    properties; (pool id, {client logical id: client id})."""
    pool_properties = resolver.resolve(dict(stack.user_pool), stack.user_pool_id)
    pool_arguments = _api_arguments(idp, "CreateUserPool", pool_properties, POOL_RENAMES, say, stack.user_pool_id)
    pool_id = idp.create_user_pool(**pool_arguments)["UserPool"]["Id"]
    # Resource servers first: an app client's AllowedOAuthScopes name their scopes.
    for logical_id, properties in sorted(stack.resource_servers.items()):
        properties = resolver.resolve({k: v for k, v in properties.items() if k != "UserPoolId"}, logical_id)
        arguments = _api_arguments(idp, "CreateResourceServer", properties, {}, say, logical_id)
        idp.create_resource_server(UserPoolId=pool_id, **arguments)
        say(f"resource server {properties.get('Identifier')} ({logical_id}) created")
    client_ids = {}
    for logical_id, properties in [(stack.client_id, stack.client), *sorted(stack.other_clients.items())]:
        properties = resolver.resolve({k: v for k, v in properties.items() if k != "UserPoolId"}, logical_id)
        arguments = _api_arguments(idp, "CreateUserPoolClient", properties, {}, say, logical_id)
        client_ids[logical_id] = idp.create_user_pool_client(UserPoolId=pool_id, **arguments)["UserPoolClient"]["ClientId"]
    say(f"user pool {pool_id} ({stack.user_pool_id}) and app clients "
        f"{', '.join(f'{cid} ({name})' for name, cid in client_ids.items())} created")
    return pool_id, client_ids


@dataclass(frozen=True)
class Provisioned:
    """The template's tables and user pool made on the local servers: what they are called there,
    and the resolver that knows those names (``Ref`` of a table, the pool, the app client)."""

    resolver: Resolver
    table_names: Mapping[str, str]
    """Table logical id -> its local name."""
    pool_id: str | None
    """None with an external issuer (no user pool)."""
    client_id: str | None
    """The page's app client."""
    client_ids: Mapping[str, str] = field(default_factory=dict)
    """Every app client, logical id -> id (the machine client's included)."""


def provision(stack: EmulatedStack, stack_name: str, region: str, dynamodb, idp,
              say: Callable[[str], None]) -> Provisioned:
    """Create ``stack``'s tables on ``dynamodb`` (dynalite) and its user pool and app client on ``idp``
    (moto's Cognito), as a stack called ``stack_name`` in ``region`` would have them."""
    names = {t.logical_id: table_name(stack_name, t) for t in stack.tables}
    resolver = stack.resolver(region, stack_name, names)
    create_tables(dynamodb, stack, names, say)
    if not stack.uses_cognito:
        return Provisioned(resolver, names, None, None, {})
    pool_id, client_ids = create_user_pool(idp, stack, resolver, say)
    resolver = resolver.with_physical_ids({
        stack.user_pool_id: pool_id,
        **client_ids,
        # What Fn::GetAtt UserPool.ProviderURL gives ("AWS::Cognito::UserPool" return values).
        f"{stack.user_pool_id}.ProviderURL": f"cognito-idp.{region}.amazonaws.com/{pool_id}",
    })
    return Provisioned(resolver, names, pool_id, client_ids[stack.client_id], client_ids)
