"""The ECS cluster: Fargate (and Fargate Spot when asked), Container Insights when asked."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import AWSObject, Ref, Template, ecs

from generator.model.config import StackConfig
from generator.template.checkov import CLUSTER_WITHOUT_CONTAINER_INSIGHTS, skip_checks

FARGATE = "FARGATE"
FARGATE_SPOT = "FARGATE_SPOT"


@dataclass(frozen=True)
class Cluster:
    cluster: ecs.Cluster
    capacity_strategy: tuple[ecs.CapacityProviderStrategyItem, ...]
    """Empty when every task runs on on-demand Fargate (services then use the FARGATE launch type)."""
    capacity_providers: ecs.ClusterCapacityProviderAssociations | None
    """The association that lets services use the strategy; None with the FARGATE launch type."""


def add_cluster(template: Template, config: StackConfig, service_role: AWSObject) -> Cluster:
    """The cluster, created once ``service_role`` (ECS's service-linked role) is there."""
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
    strategy: tuple[ecs.CapacityProviderStrategyItem, ...] = ()
    association = None
    if config.fargate_spot_percent:
        association = template.add_resource(
            ecs.ClusterCapacityProviderAssociations(
                "ClusterCapacityProviders",
                Cluster=Ref(cluster),
                CapacityProviders=[FARGATE, FARGATE_SPOT],
                DefaultCapacityProviderStrategy=[
                    ecs.CapacityProviderStrategy(CapacityProvider=FARGATE, Weight=1)
                ],
            )
        )
        # Weights split tasks between the two providers by percent.
        strategy = tuple(
            ecs.CapacityProviderStrategyItem(CapacityProvider=provider, Weight=weight)
            for provider, weight in (
                (FARGATE, 100 - config.fargate_spot_percent),
                (FARGATE_SPOT, config.fargate_spot_percent),
            )
            if weight
        )
    return Cluster(cluster=cluster, capacity_strategy=strategy, capacity_providers=association)
