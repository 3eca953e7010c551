"""The top-level builder. It reads like the architecture:
zones -> network -> service roles -> cluster -> data -> discovery -> image -> services -> auth -> site -> api ->
domain -> page -> monitoring -> outputs."""

from __future__ import annotations

from generator.model.config import StackConfig
from generator.model.release import ReleaseSettings
from generator.template.alarm_names import deployment_alarms
from generator.template.api import add_api
from generator.template.auth import add_auth
from generator.template.cluster import add_cluster
from generator.template.dashboard import WatchedFunction
from generator.template.discovery import add_discovery_service, add_namespace
from generator.template.image import add_build_conditions, add_image_build
from generator.template.keys import add_stack_key
from generator.template.monitoring import add_monitoring
from generator.template.network import add_network
from generator.template.outputs import add_outputs
from generator.template.parameters import ParameterInterface
from generator.template.service_roles import add_service_roles
from generator.template.services import add_service, add_service_parameters
from generator.template.site import add_site, add_site_page, key_statements
from generator.template.storage import add_table_endpoint, add_tables
from generator.template.tags import TaggedTemplate
from generator.template.zones import add_zones

DESCRIPTION = (
    "ecsapi v{version}: container APIs on ECS Fargate, found through Cloud Map and exposed by an "
    "API Gateway HTTP API over a VPC link, with Cognito JWT authorization and DynamoDB"
)


def build_template(config: StackConfig | None = None, release: ReleaseSettings | None = None) -> TaggedTemplate:
    """The whole stack as a troposphere ``Template``; pure: reads nothing, writes nothing."""
    config = config or StackConfig()
    release = release or ReleaseSettings()
    # The stack's tags go on every taggable resource as it is added (generator/template/tags.py).
    template = TaggedTemplate(config.tags, Description=DESCRIPTION.format(version=release.version))
    template.set_version("2010-09-09")
    interface = ParameterInterface()

    key = add_stack_key(template, config, other_users=key_statements(config))
    zones = add_zones(template, interface, config, key)
    network = add_network(template, config, key, zones)
    service_roles = add_service_roles(template, config, key)
    cluster = add_cluster(template, config, service_roles.ecs)
    tables = {spec.name: add_tables(template, config, key, spec) for spec in config.services}
    add_table_endpoint(template, network, [table for service in tables.values() for table in service])
    discovery = add_namespace(template, interface, network)
    parameters = {spec.name: add_service_parameters(template, interface, spec) for spec in config.services}
    # The stack builds the item-store image only; your own services run their own images.
    built = {spec.name: parameters[spec.name].image for spec in config.services if spec.is_item_store}
    image = add_image_build(template, config, release, key, condition=add_build_conditions(template, built)) \
        if built else None
    # Named before they exist: each service's deployments roll back on its alarm (alarm_names.py).
    rollback_alarms = deployment_alarms(config)
    services = [
        add_service(
            template, config, spec, parameters[spec.name], image, network, cluster,
            tables=tables[spec.name],
            discovery_service=add_discovery_service(template, discovery, spec),
            key=key,
            deployment_alarm=rollback_alarms.get(spec.name),
        )
        for spec in config.services
    ]
    auth = add_auth(template, config)
    site = add_site(template, config, key)
    api = add_api(template, config, network, services, auth, key, page_origins=(site.origin,) if site else ())
    domain = None
    if config.domain:
        # Only a stack with a custom domain pays for importing its builder (and Route 53, ACM).
        from generator.template.domain import add_domain

        domain = add_domain(template, config.domain, api, page=site.distribution if site else None)
    functions = [WatchedFunction("image build", image.function, image.condition)] if image is not None else []
    if site is not None:
        publisher = add_site_page(template, config, key, release, site, api, auth)
        functions.append(WatchedFunction("page publisher", publisher))
    add_monitoring(template, interface, config, key, api, cluster, services, functions)
    add_outputs(template, network, cluster, discovery, services, auth, api, site, domain)

    template.set_metadata(
        {
            "AWS::CloudFormation::Interface": interface.metadata(),
            "ecsapi": {"version": release.version, "services": [spec.name for spec in config.services]},
        }
    )
    return template
