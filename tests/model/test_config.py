"""Every invalid configuration is refused when built, naming the field, the value and the fix."""

from __future__ import annotations

import dataclasses
import types
import typing

import pytest

from generator import ConfigError, CpuArchitecture, NatMode, ServiceSpec, StackConfig
from tests.support.templates import VARIANTS, resources

FOOD = ServiceSpec(name="foodstore", path="/foodstore/foods/{foodId}")


def refused(build, field: str, *allowed_words: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        build()
    error = caught.value
    assert error.field == field, str(error)
    for word in allowed_words:
        assert word in str(error), str(error)
    return error


def test_defaults_are_the_food_and_pet_stores():
    config = StackConfig()
    assert [(s.name, s.path, s.key_attribute, s.port) for s in config.services] == [
        ("foodstore", "/foodstore/foods/{foodId}", "foodId", 8080),
        ("petstore", "/petstore/pets/{petId}", "petId", 8080),
    ]
    assert config.az_count == 3 and config.nat_mode is NatMode.PER_AZ


def test_table_key_defaults_to_the_path_parameter_and_prefix_is_derived():
    spec = ServiceSpec(name="orders", path="/shop/v1/orders/{orderId}")
    assert spec.key_attribute == "orderId"
    assert spec.id_parameter == "orderId"
    assert spec.path_prefix == "/shop/v1/orders"
    assert spec.table_key is None  # the field holds what was given; the key is derived


def test_derived_values_follow_their_inputs_through_replace():
    spec = dataclasses.replace(ServiceSpec(name="a", path="/a/{aId}"), path="/b/{bId}")
    assert (spec.key_attribute, spec.path_prefix) == ("bId", "/b")
    explicit = dataclasses.replace(ServiceSpec(name="a", path="/a/{aId}", table_key="sku"), path="/b/{bId}")
    assert explicit.key_attribute == "sku"


def test_empty_service_list_is_refused():
    refused(lambda: StackConfig(services=()), "services", "at least one service")


def test_duplicate_service_names_are_refused():
    other = ServiceSpec(name="foodstore", path="/other/things/{id}")
    refused(lambda: StackConfig(services=(FOOD, other)), "services[1].name", "unique", "services[0]")


def test_duplicate_paths_are_refused_even_with_another_parameter_name():
    twin = ServiceSpec(name="food2", path="/foodstore/foods/{id}")
    refused(lambda: StackConfig(services=(FOOD, twin)), "services[1].path", "unique")


def test_a_path_may_extend_anothers_fixed_part_and_each_gets_its_own_routes(render):
    # /a/{x} matches /a/<one segment> only and /a/b/{y} matches /a/b/<one segment> only, so no
    # request matches both (API Gateway: a path variable is one segment unless greedy, {proxy+}).
    config = StackConfig(services=(ServiceSpec(name="a", path="/a/{x}"), ServiceSpec(name="b", path="/a/b/{y}")))
    keys = {r["Properties"]["RouteKey"] for r in resources(render(config), "AWS::ApiGatewayV2::Route").values()}
    assert {"GET /a/{x}", "PUT /a/{x}", "GET /a/b/{y}", "PUT /a/b/{y}"} <= keys


@pytest.mark.parametrize(
    "path",
    ["/foodstore/foods", "/foodstore/{a}/{b}", "/{id}", "foodstore/foods/{id}", "/food/{id}/x",
     "/food/{id}/", "/fo od/{id}", "/food/{1id}", "/food/id}"],
)
def test_path_without_exactly_one_trailing_parameter_is_refused(path):
    refused(lambda: ServiceSpec(name="food", path=path), "path", "{parameter}" if "fo od" not in path else "segment")


@pytest.mark.parametrize("cpu,memory", [(256, 4096), (512, 512), (1024, 1024), (4096, 8000)])
def test_fargate_rejects_these_cpu_memory_pairs(cpu, memory):
    error = refused(lambda: ServiceSpec(name="food", path="/f/{id}", cpu=cpu, memory=memory), "memory", f"cpu {cpu}")
    assert error.value == memory


def test_cpu_that_fargate_does_not_offer_is_refused():
    refused(lambda: ServiceSpec(name="food", path="/f/{id}", cpu=300), "cpu", "256", "16384")


@pytest.mark.parametrize("cpu,memory", [(256, 512), (512, 4096), (4096, 30720), (16384, 122880)])
def test_fargate_accepts_these_pairs(cpu, memory):
    assert ServiceSpec(name="food", path="/f/{id}", cpu=cpu, memory=memory).memory == memory


@pytest.mark.parametrize("port", [0, 80, 1023, 65536, "8080", True])
def test_port_out_of_range_is_refused(port):
    refused(lambda: ServiceSpec(name="food", path="/f/{id}", port=port), "port", "1024 to 65535")


def test_min_tasks_above_max_tasks_is_refused():
    refused(lambda: ServiceSpec(name="food", path="/f/{id}", min_tasks=5, max_tasks=2), "min_tasks", "max_tasks (2)")


@pytest.mark.parametrize("name", ["Food", "1food", "food-store", "", "a" * 21])
def test_bad_service_names_are_refused(name):
    refused(lambda: ServiceSpec(name=name, path="/f/{id}"), "name", "lower-case")


def test_protected_methods_must_be_item_methods():
    refused(lambda: ServiceSpec(name="food", path="/f/{id}", protected_methods=("DELETE",)), "protected_methods", "GET, PUT")


def test_environment_may_not_override_what_ecsapi_sets():
    refused(
        lambda: ServiceSpec(name="food", path="/f/{id}", environment={"TABLE_NAME": "x"}),
        "environment.TABLE_NAME", "choose another name",
    )


def test_environment_is_sorted_for_deterministic_output():
    spec = ServiceSpec(name="food", path="/f/{id}", environment={"B": "2", "A": "1"})
    assert spec.environment == (("A", "1"), ("B", "2"))


@pytest.mark.parametrize("az_count", [1, 7])
def test_az_count_outside_two_to_six_is_refused(az_count):
    refused(lambda: StackConfig(az_count=az_count), "az_count", "2 to 6")


def test_az_count_checked_against_the_cidr_plan():
    error = refused(
        lambda: StackConfig(az_count=6, vpc_cidr="10.0.0.0/22", subnet_prefix_length=24),
        "subnet_prefix_length", "12 subnets", "holds only 4",
    )
    assert error.value == 24


def test_unknown_nat_mode_is_refused_with_the_choices():
    refused(lambda: StackConfig(nat_mode="two"), "nat_mode", "'per-az'", "'single'", "'none'")


def test_no_nat_mode_and_arm64_are_read_from_their_names():
    config = StackConfig(nat_mode="none", cpu_architecture="ARM64")
    assert config.nat_mode is NatMode.NONE and config.cpu_architecture is CpuArchitecture.ARM64


def test_unknown_cpu_architecture_is_refused_with_the_choices():
    refused(lambda: StackConfig(cpu_architecture="arm64"), "cpu_architecture", "'X86_64'", "'ARM64'")


def test_arm64_tasks_may_run_on_fargate_spot():
    # Allowed since "Amazon ECS now supports AWS Graviton-based Spot compute with AWS Fargate" (AWS
    # What's New, September 2024) and the CapacityProviderStrategyItem API reference; the older
    # developer-guide sentence saying otherwise is not followed (generator/model/config.py).
    config = StackConfig(cpu_architecture=CpuArchitecture.ARM64, fargate_spot_percent=100)
    assert config.fargate_spot_percent == 100


def test_container_insights_is_a_flag_on_by_default():
    assert StackConfig().container_insights is True
    refused(lambda: StackConfig(container_insights="no"), "container_insights", "true or false")


def test_wildcard_cors_origin_is_refused():
    refused(lambda: StackConfig(cors_origins=("*",)), "cors_origins[0]", "no '*'")


def test_log_retention_must_be_a_cloudwatch_value():
    refused(lambda: StackConfig(log_retention_days=10), "log_retention_days", "14")


def test_error_message_reads_field_value_and_fix():
    with pytest.raises(ConfigError) as caught:
        ServiceSpec(name="food", path="/f/{id}", cpu=256, memory=4096)
    assert str(caught.value) == (
        "memory: 4096 is not valid; with cpu 256 Fargate accepts 512-2048 MiB in these steps: 512, 1024, 2048"
    )


@pytest.mark.parametrize("name", ["DB_PASSWORD", "API_KEY", "GITHUB_TOKEN", "client_secret", "AWS_ACCESS_KEY_ID"])
def test_environment_names_that_look_like_secrets_are_refused(name):
    refused(
        lambda: ServiceSpec(name="food", path="/f/{id}", environment={name: "x"}), f"environment.{name}", "Secrets Manager"
    )


def test_the_test_page_is_on_by_default_and_only_true_or_false_turns_it_off():
    assert StackConfig().test_page is True
    assert StackConfig(test_page=False).test_page is False
    refused(lambda: StackConfig(test_page="no"), "test_page", "true or false")


@pytest.mark.parametrize("environment, field, words", [
    # Each alone is a valid setting; with the other defaults the worst case passes the gateway's 30 s.
    ({"DYNAMODB_MAX_ATTEMPTS": "10"}, "environment", "API Gateway's 30 s"),
    ({"DYNAMODB_READ_TIMEOUT": "60"}, "environment", "API Gateway's 30 s"),
    ({"DYNAMODB_MAX_ATTEMPTS": "0"}, "environment.DYNAMODB_MAX_ATTEMPTS", "1 to 10"),
    ({"DYNAMODB_MAX_ATEMPTS": "2"}, "environment.DYNAMODB_MAX_ATEMPTS", "not a setting of the item store"),
])
def test_client_overrides_the_container_would_refuse_are_refused_here(environment, field, words):
    with pytest.raises(ConfigError) as caught:
        ServiceSpec(name="food", path="/f/{id}", environment=environment)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_client_overrides_within_the_gateway_timeout_are_accepted():
    spec = ServiceSpec(name="food", path="/f/{id}", environment={"DYNAMODB_MAX_ATTEMPTS": "2", "LOG_LEVEL": "debug"})
    assert dict(spec.environment)["DYNAMODB_MAX_ATTEMPTS"] == "2"


def _holds(value, annotation) -> bool:
    """Whether ``value`` is of the declared ``annotation`` (the forms the config classes use)."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return any(_holds(value, option) for option in arguments)
    if annotation is type(None):
        return value is None
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return all(_holds(item, arguments[0]) for item in value)
        return len(value) == len(arguments) and all(map(_holds, value, arguments))
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


@pytest.mark.parametrize("name", ["default", "python", *sorted(VARIANTS)])
def test_every_field_holds_the_type_it_declares_after_normalising(name):
    # Mappings, lists and strings given for tuple and enum fields are stored as the declared types.
    config = {
        "default": StackConfig(),
        "python": StackConfig(
            services=[ServiceSpec(name="a", path="/a/{aId}", protected_methods=["PUT", "GET"], environment={"X": "1"})],
            tags={"team": "shop"}, nat_mode="single", cors_origins=["https://b.example", "https://a.example"],
            data_deletion_policy="Delete", az_count=2, availability_zones=["use1-az1", "use1-az2"],
        ),
    }.get(name) or VARIANTS[name]
    for instance in (config, *config.services):
        hints = typing.get_type_hints(type(instance))
        for field in dataclasses.fields(instance):
            value = getattr(instance, field.name)
            assert _holds(value, hints[field.name]), f"{type(instance).__name__}.{field.name} = {value!r}"


@pytest.mark.parametrize("drain, environment, field, words", [
    # 100 + 20 (default graceful) + 5: 125 s, over Fargate's 120 s.
    (100, {}, "drain_seconds, environment.GUNICORN_GRACEFUL_TIMEOUT", "120 s"),
    (45, {"GUNICORN_GRACEFUL_TIMEOUT": "71"}, "drain_seconds, environment.GUNICORN_GRACEFUL_TIMEOUT", "121 s"),
    (121, {}, "drain_seconds", "0 to 120"),
    (-1, {}, "drain_seconds", "0 to 120"),
    (45, {"GUNICORN_GRACEFUL_TIMEOUT": "soon"}, "environment.GUNICORN_GRACEFUL_TIMEOUT", "1 to 3600"),
])
def test_a_drain_and_graceful_stop_that_outlast_fargates_stop_timeout_are_refused(drain, environment, field, words):
    with pytest.raises(ConfigError) as caught:
        ServiceSpec(name="food", path="/f/{id}", drain_seconds=drain, environment=environment)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_the_largest_drain_that_fits_is_accepted_and_sets_the_stop_timeout():
    spec = ServiceSpec(name="food", path="/f/{id}", drain_seconds=95)  # 95 + 20 + 5 = 120
    assert spec.stop_timeout_seconds == 120
    assert ServiceSpec(name="food", path="/f/{id}", drain_seconds=0).stop_timeout_seconds == 25


def test_drain_seconds_is_set_by_ecsapi_not_through_the_environment():
    refused(lambda: ServiceSpec(name="food", path="/f/{id}", environment={"DRAIN_SECONDS": "5"}),
            "environment.DRAIN_SECONDS", "ecsapi sets")
