"""Create each service's DynamoDB table on a local DynamoDB-compatible server (dynalite, DynamoDB
Local), with the key schema the generated template gives it.

    .venv/bin/python scripts/create_tables.py --endpoint-url http://127.0.0.1:8000
    make tables ENDPOINT=http://127.0.0.1:8000 [REGION=us-east-1] [CONFIG=stacks/three-services.toml]

The services come from the stack configuration (``--config FILE``, default: the built-in default
stack, foodstore and petstore); each table is named after its service (``--prefix`` goes in
front) and keyed as ``generator.template.storage.key_schema`` keys it: the service's ``key_attribute``, type S,
hash key. A table that already exists with that key is left alone, so the command can be rerun;
one with another key is an error.

Only for local servers: the endpoint is required (``--endpoint-url`` or DYNAMODB_ENDPOINT_URL), so
this never creates tables in an AWS account; there, the stack creates them. Credentials are the
environment's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else dummy ones (local servers accept
any). Exit status: 0 done, 1 the server failed or refused, 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a file, like the other scripts
    sys.path.insert(0, str(REPO))

from generator.model.config import ServiceSpec, StackConfig  # noqa: E402
from generator.model.config_file import load_config  # noqa: E402
from generator.model.errors import ConfigError  # noqa: E402
from generator.template.storage import key_schema  # noqa: E402

DEFAULT_REGION = "us-east-1"
# Bounded: an endpoint that is down or never answers is an error within seconds, not a hang.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10
WAIT_SECONDS = 60


class TablesError(Exception):
    """The server failed or refused; the message says which table and why."""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="create_tables.py",
        description="Create each service's table, keyed as the template keys it, on a local DynamoDB.")
    root.add_argument("--endpoint-url", default=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
                      help="the local server, e.g. http://127.0.0.1:8000 (default: $DYNAMODB_ENDPOINT_URL; required)")
    root.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                      or DEFAULT_REGION,
                      help=f"region to sign for (default: $AWS_REGION, $AWS_DEFAULT_REGION, else {DEFAULT_REGION})")
    root.add_argument("--config", type=Path, metavar="FILE",
                      help="stack configuration in TOML (default: the built-in default stack)")
    root.add_argument("--prefix", default="", help="put this in front of each table name (default: none)")
    return root


def table_name(prefix: str, service: ServiceSpec) -> str:
    return f"{prefix}{service.name}"


def make_client(endpoint_url: str, region: str):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "local",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "local",
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None,
        region_name=region,
    )
    return session.client("dynamodb", endpoint_url=endpoint_url, config=Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": 2}))


def create_table(client, name: str, service: ServiceSpec) -> str:
    """Create the table (or find it already there, keyed right); returns "created" or "exists"."""
    from botocore.exceptions import BotoCoreError, ClientError

    keys = key_schema(service)
    try:
        try:
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **keys)
            outcome = "created"
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceInUseException":
                raise
            outcome = "exists"
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": int(WAIT_SECONDS / 0.2)})
        table = client.describe_table(TableName=name)["Table"]
    except (BotoCoreError, ClientError) as error:
        raise TablesError(f"table {name}: {error}") from None
    if table["KeySchema"] != keys["KeySchema"] or not _defines(table, keys):
        raise TablesError(f"table {name} exists with key {table['KeySchema']}; service {service.name} needs "
                          f"{keys['KeySchema']} (delete the table or use --prefix)")
    return outcome


def _defines(table: dict, keys: dict) -> bool:
    defined = {d["AttributeName"]: d["AttributeType"] for d in table.get("AttributeDefinitions", [])}
    return all(defined.get(d["AttributeName"]) == d["AttributeType"] for d in keys["AttributeDefinitions"])


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.endpoint_url:
        print("create_tables.py: no endpoint: pass --endpoint-url http://127.0.0.1:PORT or set "
              "DYNAMODB_ENDPOINT_URL (this script is for local servers; the stack creates the tables in AWS)",
              file=sys.stderr)
        return 2
    try:
        config = load_config(args.config) if args.config else StackConfig()
    except ConfigError as error:
        print(f"create_tables.py: configuration error in {args.config}: {error}", file=sys.stderr)
        return 2
    client = make_client(args.endpoint_url, args.region)
    try:
        for service in config.services:
            name = table_name(args.prefix, service)
            outcome = create_table(client, name, service)
            print(f"{outcome} {name} (hash key {service.key_attribute}, S) at {args.endpoint_url}")
    except TablesError as error:
        print(f"create_tables.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
