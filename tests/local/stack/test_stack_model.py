"""The emulator's reading of the rendered template (ecsapi_local.template_reader), without servers:
the page settings it derives agree with the ones the deployed stack publishes, every table and
service of the configuration is found, and the containers run the image's own command."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from ecsapi_local.containers import IMAGE_DOCKERFILE, container_environment, image_command, local_argv
from ecsapi_local.gateway import upstream_services
from ecsapi_local.intrinsics import Resolver, TemplateError, pseudo_parameters
from ecsapi_local.template_reader import read_template, render
from generator import StackConfig, build_template
from generator.model.config_file import load_config
from generator.model.page import services_of
from generator.tooling.assets import CONTAINERS
from generator.tooling.render import template_json
from tests.support.processes import REPO

VARIANTS = sorted(p.stem for p in (REPO / "stacks").glob("*.toml"))


@pytest.fixture(scope="module", params=VARIANTS)
def variant(request, tmp_path_factory):
    """(configuration, EmulatedStack) of a stacks/ variant, rendered and read back."""
    config_path = REPO / "stacks" / f"{request.param}.toml"
    out = tmp_path_factory.mktemp(request.param)
    return load_config(config_path), read_template(render(config_path, out))


def _resolver(stack) -> Resolver:
    ids = {t.logical_id: f"local-{t.logical_id}" for t in stack.tables}
    if stack.uses_cognito:
        ids.update({stack.user_pool_id: "us-east-1_Pool1", stack.client_id: "client1",
                    **{name: f"client-{name}" for name in stack.other_clients}})
    return stack.resolver("eu-west-1", "local", ids)


def test_every_service_has_its_tables_container_and_routes(variant):
    config, stack = variant
    assert [c.name for c in stack.containers] == sorted(s.name for s in config.services)
    assert len(stack.tables) == sum(1 if s.is_item_store else len(s.tables) for s in config.services)
    for spec in config.services:
        container = next(c for c in stack.containers if c.name == spec.name)
        assert container.port == spec.port
        assert container.is_item_store == spec.is_item_store
        if not spec.is_item_store:
            _check_own_service(spec, container, stack)
            continue
        routes = {r.method: r for r in stack.routes if r.container == spec.name}
        assert set(routes) == {"GET", "PUT"} and {r.path for r in routes.values()} == {spec.path}
        assert {m for m, r in routes.items() if r.authorized} == set(spec.protected_methods)
        # the container's table is the one keyed by the service's key attribute
        table_ref = container.environment["TABLE_NAME"]["Ref"]
        assert [k["AttributeName"] for k in stack.table(table_ref).key_schema] == [spec.key_attribute]


def _check_own_service(spec, container, stack) -> None:
    """Routes, tables (by their variables), secrets' names, health check and command as configured."""
    routes = {r.key: r for r in stack.routes if r.container == spec.name}
    assert set(routes) == {r.route for r in spec.api_routes}
    for route in spec.api_routes:
        assert routes[route.route].authorized == route.protected
        assert routes[route.route].scopes == route.scopes
    for table in spec.tables:
        logical_id = container.environment[table.environment_name]["Ref"]
        assert [dict(k) for k in stack.table(logical_id).key_schema] == table.key_schema()["KeySchema"]
    assert container.secrets == tuple(name for name, _ in spec.secrets)
    assert container.command == spec.command
    check = spec.container_health_check
    assert (container.health_check is None) == (check is None)
    if check is not None:
        assert container.health_check["Command"] == list(check.command)
        assert (container.health_check["Interval"], container.health_check["Retries"]) == (check.interval, check.retries)


def test_a_container_runs_for_every_upstream_the_gateway_needs(variant):
    _, stack = variant
    assert tuple(sorted(c.discovery_id for c in stack.containers)) == upstream_services(stack.template)


def test_page_settings_match_what_the_deployed_stack_publishes(variant):
    config, stack = variant
    if not stack.uses_cognito:  # an external issuer: no page (config.test_page is off)
        assert not config.test_page and "SitePage" not in stack.template["Resources"]
        return
    resolver = _resolver(stack)
    local = stack.page_config(resolver, "http://127.0.0.1:8001", "http://127.0.0.1:8002/",
                              services_of(config))
    assert local.pop("cognitoEndpoint") == "http://127.0.0.1:8002/"
    # In the configuration's order, as the deployed page lists them (the template's Metadata keeps it).
    assert [s["name"] for s in local["services"]] == [s.name for s in config.services]
    site = stack.template["Resources"].get("SitePage")
    assert (site is not None) == config.test_page
    if site is not None:
        published = json.loads(resolver.with_physical_ids({"HttpApi.ApiEndpoint": "http://127.0.0.1:8001"})
                               .resolve(site["Properties"]["Config"]))
        if config.domain is not None:
            # Deployed, the page calls the domain; locally it keeps calling the loopback gateway,
            # and both say which domain the deployed stack answers on.
            assert published.pop("apiUrl") == config.domain.api_url and local.pop("apiUrl") == "http://127.0.0.1:8001"
            assert local["apiDomain"] == config.domain.name
        assert local == published
    else:  # nothing published to compare with: the configuration says what the page must offer
        assert local["services"] == [{
            "name": s.name, "path": s.path, "idParameter": s.id_parameter,
            "protectedMethods": list(s.protected_methods)} for s in config.services]


def test_the_container_environment_is_the_task_definitions_plus_local_settings(variant):
    _, stack = variant
    resolver = _resolver(stack)
    for container in (c for c in stack.containers if c.is_item_store):
        env = container_environment(container, resolver, 18080, "http://127.0.0.1:9999", base={"HOME": "/h"})
        task = {name: value for name, value in container.environment.items() if isinstance(value, str)}
        assert {k: env[k] for k in task if k != "PORT"} == {k: v for k, v in task.items() if k != "PORT"}
        assert env["TABLE_NAME"] == f"local-{container.environment['TABLE_NAME']['Ref']}"
        assert env["AWS_REGION"] == "eu-west-1"
        assert env["PORT"] == "18080" and env["GUNICORN_CMD_ARGS"] == "--bind 127.0.0.1:18080"
        assert env["DYNAMODB_ENDPOINT_URL"] == "http://127.0.0.1:9999"
        assert env["HOME"] == "/h" and "PYTHONPATH" not in env  # the itemstore this interpreter imports


def test_tasks_run_the_command_of_the_image_the_stack_builds():
    template = json.loads(template_json(build_template(StackConfig())))
    (project,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"]
    built = {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}
    # The package's Dockerfile is the one build.sh's `docker build --file` builds (a link in a checkout).
    assert IMAGE_DOCKERFILE.read_bytes() == (CONTAINERS / built["DOCKERFILE"]).read_bytes()
    assert IMAGE_DOCKERFILE.resolve() == (CONTAINERS / built["DOCKERFILE"]).resolve()
    command = image_command()
    assert command == image_command(CONTAINERS / "pet" / "Dockerfile")
    assert command[0] == "gunicorn" and "itemstore:create_app()" in command
    argv = local_argv(command)
    assert argv[1:] == command[1:] and Path(argv[0]).parent == Path(sys.executable).parent


def test_an_intrinsic_the_emulator_cannot_evaluate_is_named():
    resolver = Resolver({"Parameters": {"Size": {"Default": 3}}}, {"T": "t1"}, pseudo_parameters("us-east-1"))
    assert resolver.resolve({"Fn::Sub": ["${A}-${T}-${AWS::Region}-${Size}", {"A": {"Ref": "T"}}]}) == \
        "t1-t1-us-east-1-3"
    assert resolver.resolve({"A": [{"Ref": "T"}, 12, True], "B": {"Fn::Join": ["/", ["x", {"Ref": "T"}]]}}) == \
        {"A": ["t1", 12, True], "B": "x/t1"}
    with pytest.raises(TemplateError, match=r"^UserPool: a property uses Fn::If"):
        resolver.resolve({"Name": {"Fn::If": ["C", 1, 2]}}, "UserPool")
    with pytest.raises(TemplateError, match=r"^template: a property refers to Missing"):
        resolver.resolve({"Ref": "Missing"})


def test_a_resolver_is_never_changed_a_new_one_knows_more():
    resolver = Resolver({}, {"T": "t1"}, pseudo_parameters("cn-north-1", stack_name="s"))
    more = resolver.with_physical_ids({"Pool": "p1", "Pool.ProviderURL": "idp/p1"})
    assert more.resolve({"Fn::Sub": "${T}/${Pool}/${Pool.ProviderURL}/${AWS::Partition}/${AWS::StackName}"}) == \
        "t1/p1/idp/p1/aws-cn/s"
    with pytest.raises(TemplateError, match="refers to Pool"):
        resolver.resolve({"Ref": "Pool"})
    with pytest.raises(TypeError):
        resolver.physical_ids["Pool"] = "p2"


def test_names_made_from_the_stack_id_resolve_the_same_way_on_every_run():
    # generator.template.names.unique_name: ecsapi-<purpose>-<the uuid part of AWS::StackId>.
    from generator.template.names import unique_name

    node = unique_name("users").to_dict()
    first = Resolver({}, {}, pseudo_parameters("us-east-1", stack_name="ecsapi-local"))
    again = Resolver({}, {}, pseudo_parameters("us-east-1", stack_name="ecsapi-local"))
    other = Resolver({}, {}, pseudo_parameters("us-east-1", stack_name="another"))
    name = first.resolve(node)
    assert re.fullmatch(r"ecsapi-users-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", name)
    assert again.resolve(node) == name != other.resolve(node)
    with pytest.raises(TemplateError, match="selects item 5 of 2"):
        first.resolve({"Fn::Select": [5, {"Fn::Split": ["/", "a/b"]}]})


def test_the_page_services_read_from_the_template_are_the_configurations(variant):
    """What the emulator reads back from the routes (without the configuration) is what the deployed
    page lists, the routes of each service in any order."""
    config, stack = variant
    if not stack.uses_cognito:
        return
    resolver = _resolver(stack)
    read = stack.page_config(resolver, "http://127.0.0.1:8001", "http://127.0.0.1:8002/")["services"]
    expected = services_of(config)

    def unordered(services):
        return [{**s, "routes": sorted(s["routes"], key=lambda r: r["route"])} if "routes" in s else s
                for s in services]

    assert unordered(read) == unordered(expected)
