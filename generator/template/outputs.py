"""Outputs: what a user needs to call and test the API, and what the test page reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from troposphere import GetAtt, Output, Ref, Sub, Template

from generator.template.api import Api
from generator.template.auth import Auth
from generator.template.cluster import Cluster
from generator.template.discovery import Discovery
from generator.template.names import logical_id
from generator.template.network import Network
from generator.template.services import Service
from generator.template.site import Site

if TYPE_CHECKING:  # only a stack with a custom domain imports its builder (stack.py)
    from generator.template.domain import Domain


def add_outputs(
    template: Template,
    network: Network,
    cluster: Cluster,
    discovery: Discovery,
    services: list[Service],
    auth: Auth,
    api: Api,
    site: Site | None = None,
    domain: Domain | None = None,
) -> None:
    def output(title: str, value, description: str) -> None:
        template.add_output(Output(title, Value=value, Description=description))

    if site is not None:
        output("APITestPage", site.url, "The API test page: sign up, sign in, GET and PUT items")
    # With a domain every URL names it, the mapping key included (generator/model/domain.py).
    output("ApiUrl", domain.spec.api_url if domain else GetAtt(api.api, "ApiEndpoint"), "Invoke URL of the HTTP API")
    # Your own services' routes are all under ApiUrl (``ecsapi describe`` lists them); the item
    # store's items are under one base URL each.
    for service in services:
        if service.spec.is_item_store:
            output(
                logical_id(service.spec.name, "Url"),
                domain.spec.api_url + service.spec.path_prefix if domain
                else Sub(f"${{{api.api.title}.ApiEndpoint}}{service.spec.path_prefix}"),
                f"Base URL of {service.spec.name} items: append /<{service.spec.id_parameter}>",
            )
    if domain is not None:
        output("ApiDomainTarget", domain.target,
               f"Where {domain.spec.name} must point (an alias, or a CNAME at another DNS provider)")
        if not domain.spec.disable_execute_api_endpoint:
            output("ApiEndpoint", GetAtt(api.api, "ApiEndpoint"), "The HTTP API's default execute-api endpoint")
        if site is not None and domain.spec.page_name is not None:
            output("PageDomainTarget", GetAtt(site.distribution, "DomainName"),
                   f"Where {domain.spec.page_name} must point (the page's CloudFront distribution)")
    output("ApiId", Ref(api.api), "HTTP API id")
    if auth.cognito is not None:
        output("UserPoolId", Ref(auth.cognito.user_pool), "Cognito user pool id")
        output("UserPoolClientId", Ref(auth.cognito.client), "Cognito app client id (no secret)")
        if auth.cognito.machine_client is not None:
            # The client's secret is never an output (outputs are readable by anyone who may
            # describe the stack): read it with `aws cognito-idp describe-user-pool-client`.
            output("MachineClientId", Ref(auth.cognito.machine_client),
                   "Cognito app client id for the client-credentials grant (its secret stays in Cognito)")
            output("TokenUrl", auth.cognito.token_url,
                   "Cognito token endpoint: POST grant_type=client_credentials with the machine client's id and secret")
    output("Region", Ref("AWS::Region"), "Region of the stack")
    output("ClusterName", Ref(cluster.cluster), "ECS cluster name")
    output("VpcId", Ref(network.vpc), "VPC id")
    output("NamespaceId", Ref(discovery.namespace), "Cloud Map namespace id")
