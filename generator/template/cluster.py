"""The ECS cluster: Fargate (and Fargate Spot when asked), Container Insights when asked."""

from __future__ import annotations

from troposphere import AWSObject, Ref, Template, ecs

from generator.model.config import StackConfig
from generator.model.records import dataclass
from generator.template.checkov import CLUSTER_WITHOUT_CONTAINER_INSIGHTS, skip_checks

FARGATE = "FARGATE"
FARGATE_SPOT = "FARGATE_SPOT"


@dataclass(frozen=True)
class Cluster:
    """The ECS cluster and the capacity provider strategy its services use."""

    cluster: ecs.Cluster
    capacity_strategy: tuple[ecs.CapacityProviderStrategyItem, ...]
    """Every service's strategy: ``FARGATE`` alone at 0 % Spot, else both by weight."""
    capacity_providers: ecs.ClusterCapacityProviderAssociations
    """The association that lets services use the strategy; services are created after it."""


def add_cluster(template: Template, config: StackConfig, service_role: AWSObject) -> Cluster:
    """The cluster, created once ``service_role`` (ECS's service-linked role) is there.

    The capacity-provider association exists and every service has a capacity provider strategy
    whatever the Spot share, so changing the share is a change of weights, updated in place
    (AWS::ECS::Service CapacityProviderStrategy, AWS CloudFormation Template Reference: since June
    2025 an update of the strategy follows the standard update behaviour). Switching between
    ``LaunchType`` and a strategy instead would change ``LaunchType``, which the resource schema
    marks conditionally create-only and UpdateService does not offer for the Fargate launch type
    to a Fargate capacity provider (its capacityProviderStrategy parameter lists the valid
    transitions), so the service would be replaced; and deleting the association when the share
    returns to 0 fails while a task still runs on FARGATE_SPOT ("The specified capacity provider
    is in use", aws/containers-roadmap#631).
    """
    cluster = template.add_resource(
        ecs.Cluster(
            "Cluster",
            # Container Insights is billed per custom metric (ecsapi describe counts them).
            ClusterSettings=[
                ecs.ClusterSetting(
                    Name="containerInsights", Value="enabled" if config.container_insights else "disabled"
                )
            ],
            DependsOn=[service_role.title],
        )
    )
    skip_checks(cluster, *([] if config.container_insights else [CLUSTER_WITHOUT_CONTAINER_INSIGHTS]))
    association = template.add_resource(
        ecs.ClusterCapacityProviderAssociations(
            "ClusterCapacityProviders",
            Cluster=Ref(cluster),
            CapacityProviders=[FARGATE, FARGATE_SPOT],
            DefaultCapacityProviderStrategy=[ecs.CapacityProviderStrategy(CapacityProvider=FARGATE, Weight=1)],
        )
    )
    return Cluster(cluster=cluster, capacity_strategy=capacity_strategy(config.fargate_spot_percent),
                   capacity_providers=association)


def capacity_strategy(spot_percent: int) -> tuple[ecs.CapacityProviderStrategyItem, ...]:
    """Weights that split tasks between the two providers by percent; a provider of weight 0 is
    left out (``FARGATE`` weight 1 alone at 0 %)."""
    if not spot_percent:
        return (ecs.CapacityProviderStrategyItem(CapacityProvider=FARGATE, Weight=1),)
    return tuple(
        ecs.CapacityProviderStrategyItem(CapacityProvider=provider, Weight=weight)
        for provider, weight in ((FARGATE, 100 - spot_percent), (FARGATE_SPOT, spot_percent))
        if weight
    )
