"""One function builds everything a service needs: parameters, log group, roles, task definition,
security group, ECS service registered in Cloud Map, and autoscaling. Services differ only by data."""

from __future__ import annotations

from troposphere import (
    And,
    Equals,
    GetAtt,
    If,
    Not,
    Parameter,
    Ref,
    Sub,
    Template,
    ec2,
    ecs,
    iam,
    kms,
    logs,
    servicediscovery,
)
from troposphere import (
    applicationautoscaling as aas,
)

from generator.model.config import ServiceSpec, StackConfig
from generator.model.constants import (
    ECS_AUTOSCALING_ROLE,
    ENV_DRAIN_SECONDS,
    ENV_ITEM_PATH_PREFIX,
    ENV_PORT,
    ENV_REGION,
    ENV_TABLE_KEY,
    ENV_TABLE_NAME,
    MAX_MIN_TASKS,
    MAX_TASKS,
    MIN_MIN_TASKS,
    WRITABLE_SCRATCH_PATH,
)
from generator.model.patterns import lazy
from generator.model.records import dataclass
from generator.template import iam as policies
from generator.template.alarm_names import DeploymentAlarm
from generator.template.checkov import TASK_PUBLIC_IP, skip_checks
from generator.template.cluster import Cluster
from generator.template.image import ImageBuild, uses_built_image
from generator.template.logs import add_log_group
from generator.template.names import logical_id
from generator.template.network import Network
from generator.template.parameters import ParameterInterface
from generator.template.storage import Table

SCRATCH_VOLUME = "scratch"
# 1 to MAX_TASKS (1000) written without leading zeros, signs or decimals.
TASK_COUNT_PATTERN = "^([1-9][0-9]{0,2}|1000)$"
# The container health check (seconds). ECS runs the first check one interval after the container
# starts (Docker's HEALTHCHECK behaviour, moby/moby#33410), and a new task receives traffic only
# once it is healthy: ECS then registers it in Cloud Map (custom health checks) and only then stops
# an old one. gunicorn answers /health about 1 s after it starts on a 2-core machine (measured:
# gunicorn start to the first 200, 1.06 s); a 256-unit task has a quarter of a vCPU, so ~4-5 s.
# An interval of 10 s (ECS HealthCheck: interval 5-300 s, default 30; startPeriod 0-300 s; Amazon
# ECS API Reference, as the CDK's HealthCheck repeats it) makes a new task healthy ~10 s after it starts
# instead of 30 (ECS's default), and the 10 s start period absorbs a slow first start; 3 failures
# 10 s apart mark a hung task unhealthy within ~30 s.
# These are the model's defaults for every health check (generator/model/tasks.py).


@dataclass(frozen=True)
class ServiceParameters:
    """The parameters a user can change per service at deploy time."""

    image: Parameter
    min_tasks: Parameter
    max_tasks: Parameter
    cpu_target: Parameter


@dataclass(frozen=True)
class Service:
    """Handles to what later code wires to: the API (security group, Cloud Map service), outputs,
    and alarms or dashboards (table, ECS service, scalable target, task-count parameters)."""

    spec: ServiceSpec
    parameters: ServiceParameters
    tables: tuple[Table, ...]
    """The service's tables: the item store's one, or your own service's zero or more."""
    discovery_service: servicediscovery.Service
    security_group: ec2.SecurityGroup
    service: ecs.Service
    scalable_target: aas.ScalableTarget


def add_service_parameters(template: Template, interface: ParameterInterface, spec: ServiceSpec) -> ServiceParameters:
    """The service's deploy-time parameters. The image defaults to ``spec.image`` or, unset, to
    empty: the image the stack builds from the release's source (generator/template/image.py)."""
    group = f"Service: {spec.name} ({spec.path})" if spec.is_item_store else f"Service: {spec.name}"

    def number(name: str, label: str, default: int, low: int, high: int, description: str) -> Parameter:
        return interface.add(
            template, group, label,
            Parameter(
                logical_id(spec.name, name), Type="Number", Default=default, MinValue=low, MaxValue=high,
                Description=description,
            ),
        )

    parameters = ServiceParameters(
        image=interface.add(
            template, group, "Container image",
            Parameter(
                logical_id(spec.name, "Image"), Type="String", Default=spec.image or "",
                Description=(
                    f"Container image of the {spec.name} service. Empty: the stack builds the item-store "
                    "image from this release's source archive in your account and runs it."
                    if spec.is_item_store
                    else f"Container image of the {spec.name} service (repo/name:tag or repo/name@sha256:...)."
                ),
                # Your own service always runs its own image: an empty value would start no task.
                **({} if spec.is_item_store else {"MinLength": 1}),
            ),
        ),
        # Task counts are strings of canonical digits: the Rules compare them as strings (see
        # _add_task_count_rule), where a Number parameter would also take "04" or "4.0".
        min_tasks=interface.add(
            template, group, "Minimum tasks",
            Parameter(
                logical_id(spec.name, "MinTasks"), Type="String", Default=str(spec.min_tasks),
                AllowedValues=[str(count) for count in range(MIN_MIN_TASKS, MAX_MIN_TASKS + 1)],
                Description=(
                    f"Fewest running tasks, {MIN_MIN_TASKS}-{MAX_MIN_TASKS}: the scaling floor, reached at "
                    "creation. Must not exceed the maximum."
                ),
            ),
        ),
        max_tasks=interface.add(
            template, group, "Maximum tasks",
            Parameter(
                logical_id(spec.name, "MaxTasks"), Type="String", Default=str(spec.max_tasks),
                AllowedPattern=TASK_COUNT_PATTERN, ConstraintDescription=f"a whole number from 1 to {MAX_TASKS}",
                Description=f"Most running tasks, 1-{MAX_TASKS}.",
            ),
        ),
        cpu_target=number(
            "CpuTarget", "Target CPU utilization (%)", spec.cpu_target, 10, 90,
            "Average CPU utilization that target-tracking scaling aims for.",
        ),
    )
    _add_task_count_rule(template, spec, parameters)
    return parameters


def _add_task_count_rule(template: Template, spec: ServiceSpec, parameters: ServiceParameters) -> None:
    """``<Name>TaskCounts``: CloudFormation refuses MinTasks above MaxTasks before it creates or
    updates anything (Application Auto Scaling would refuse it only after the ECS service exists).

    Rule functions compare strings, not numbers ("Rule functions", AWS CloudFormation Template
    Reference: Fn::And, Fn::Contains, Fn::Equals, Fn::Not ...), so the assertion lists cases: for
    each allowed floor m above 1, not (MinTasks is m and MaxTasks is one of 1 .. m-1). Fn::And
    takes at most ten conditions, which the nine floors 2 .. MAX_MIN_TASKS fit.
    """
    minimum, maximum = Ref(parameters.min_tasks), Ref(parameters.max_tasks)
    cases = [
        Not(And(Equals(minimum, str(floor)), {"Fn::Contains": [[str(count) for count in range(1, floor)], maximum]}))
        for floor in range(MIN_MIN_TASKS + 1, MAX_MIN_TASKS + 1)
    ]
    template.add_rule(
        logical_id(spec.name, "TaskCounts"),
        {
            "Assertions": [
                {
                    "Assert": And(*cases) if len(cases) > 1 else cases[0],
                    "AssertDescription": (
                        f"{parameters.min_tasks.title} must not exceed {parameters.max_tasks.title} ({spec.name} service)"
                    ),
                }
            ]
        },
    )


def _environment(spec: ServiceSpec, tables: tuple[Table, ...]) -> list[ecs.Environment]:
    """The container's environment, sorted by name so the template never reorders: what every
    service gets (PORT, AWS_REGION, DRAIN_SECONDS), the item store's table and path, or each of
    your own tables' name as ``<NAME>_TABLE``, then the service's own ``environment``."""
    values = {ENV_REGION: Ref("AWS::Region"), ENV_PORT: str(spec.port), ENV_DRAIN_SECONDS: str(spec.drain_seconds)}
    for table in tables:
        if table.spec is None:
            values.update({
                ENV_TABLE_NAME: Ref(table.resource),
                ENV_TABLE_KEY: spec.key_attribute,
                ENV_ITEM_PATH_PREFIX: spec.path_prefix,
            })
        else:
            values[table.spec.environment_name] = Ref(table.resource)
    values.update(dict(spec.environment))
    return [ecs.Environment(Name=name, Value=values[name]) for name in sorted(values)]


def _secrets(spec: ServiceSpec) -> dict:
    """The task definition's ``Secrets`` (sorted by name), none when the service has none."""
    if not spec.secrets:
        return {}
    return {"Secrets": [ecs.Secret(Name=name, ValueFrom=source.value_from) for name, source in spec.secret_sources]}


def _health_check(spec: ServiceSpec) -> dict:
    """The container's ``HealthCheck``; none for ``health_check = "none"`` (ECS then counts the
    container healthy as soon as it runs)."""
    check = spec.container_health_check
    if check is None:
        return {}
    return {
        "HealthCheck": ecs.HealthCheck(
            Command=list(check.command), Interval=check.interval, Timeout=check.timeout, Retries=check.retries,
            StartPeriod=check.start_period,
        )
    }


# A private ECR image: ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPOSITORY[:tag|@digest] ("Amazon
# ECR private registry", Amazon ECR User Guide: the registry URL and repository naming).
ECR_IMAGE = lazy(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})?$"
)


def configured_repository(image: str | None) -> Sub | None:
    """The ARN of the ECR repository ``image`` names, or None for an image elsewhere (or none)."""
    match = ECR_IMAGE.match(image or "")
    if match is None:
        return None
    return Sub(f"arn:${{AWS::Partition}}:ecr:{match['region']}:{match['account']}:repository/{match['repository']}")


def _execution_statements(spec: ServiceSpec, log_group: logs.LogGroup) -> list:
    """Pull the image (this account's repositories in this Region, and the repository of the
    configured image, which may be another account's or Region's) and write logs; read exactly the
    service's secrets and parameters, and decrypt with its ``kms_key`` (only when it has secrets)."""
    statements = [policies.write_log_streams(log_group), policies.registry_login(), policies.pull_private_images()]
    repository = None if spec.is_item_store else configured_repository(spec.image)
    if repository is not None:
        statements.append(policies.pull_image_from(repository))
    sources = [source for _, source in spec.secret_sources]
    secrets = sorted({source.iam_resource for source in sources if source.service == "secretsmanager"})
    parameters = sorted({source.iam_resource for source in sources if source.service == "ssm"})
    if secrets:
        statements.append(policies.read_secrets(secrets))
    if parameters:
        statements.append(policies.read_parameters(parameters))
    if spec.kms_key is not None:
        statements.append(policies.decrypt_secrets(spec.kms_key, [(s.service, s.region) for s in sources]))
    return statements


def _add_roles(
    template: Template, spec: ServiceSpec, tables: tuple[Table, ...], key: kms.Key | None, log_group: logs.LogGroup
) -> tuple[iam.Role, iam.Role]:
    """(execution role, task role). The task role may use exactly the service's tables: the item
    store's GetItem/PutItem on its one, your own service's actions on its own tables and their
    indexes; with no table it has no statement at all (its policy then is absent, not empty)."""
    name = spec.name
    execution_role = template.add_resource(
        policies.role(
            logical_id(name, "ExecutionRole"), policies.execution_role_trust(), "pull-image-and-write-logs",
            *_execution_statements(spec, log_group),
        )
    )
    own = [table.resource for table in tables if table.spec is not None]
    statements = [policies.item_store_access(table.resource) for table in tables if table.spec is None]
    if own:
        statements.append(policies.own_tables_access(own))
    if statements and key is not None:
        statements.append(policies.use_key_through_dynamodb(key))
    if statements:
        task_role = policies.role(
            logical_id(name, "TaskRole"), policies.task_role_trust(),
            "item-store-table" if spec.is_item_store else "own-tables", *statements,
        )
    else:
        task_role = iam.Role(logical_id(name, "TaskRole"), AssumeRolePolicyDocument=policies.task_role_trust())
    return execution_role, template.add_resource(task_role)


def add_service(
    template: Template,
    config: StackConfig,
    spec: ServiceSpec,
    parameters: ServiceParameters,
    image: ImageBuild | None,
    network: Network,
    cluster: Cluster,
    tables: tuple[Table, ...],
    discovery_service: servicediscovery.Service,
    key: kms.Key | None,
    deployment_alarm: DeploymentAlarm | None = None,
) -> Service:
    """Everything one service needs: log group, roles, task definition, security group, ECS
    service and scaling; returns the handles the API and outputs wire to. With
    ``deployment_alarm``, a deployment is rolled back when that alarm fires."""
    name = spec.name
    log_group = add_log_group(template, config, key, logical_id(name, "LogGroup"), spec.log_retention_days)
    execution_role, task_role = _add_roles(template, spec, tables, key, log_group)
    task_definition = _add_task_definition(
        template, config, spec, parameters, image, tables, log_group, execution_role, task_role
    )
    security_group = _add_security_group(template, spec, network)
    service = _add_ecs_service(
        template, spec, network, cluster, task_definition, security_group, discovery_service, deployment_alarm
    )
    scalable_target = _add_scaling(template, spec, parameters, cluster, service)
    return Service(
        spec=spec,
        parameters=parameters,
        tables=tables,
        discovery_service=discovery_service,
        security_group=security_group,
        service=service,
        scalable_target=scalable_target,
    )


def _add_security_group(template: Template, spec: ServiceSpec, network: Network) -> ec2.SecurityGroup:
    """The tasks' group: inbound rules come from the API's VPC link (api.py), outbound HTTPS only."""
    return template.add_resource(
        ec2.SecurityGroup(
            logical_id(spec.name, "SecurityGroup"),
            GroupDescription=f"{spec.name} tasks - inbound only from the API VPC link, outbound HTTPS only",
            VpcId=Ref(network.vpc),
            # Outbound: image pulls, CloudWatch Logs, DynamoDB, Secrets Manager and SSM, all over
            # HTTPS. DNS goes to the VPC resolver, which security groups do not filter.
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0",
                    Description="HTTPS to AWS APIs and image registries",
                )
            ],
        )
    )


def _add_task_definition(
    template: Template,
    config: StackConfig,
    spec: ServiceSpec,
    parameters: ServiceParameters,
    image: ImageBuild | None,
    tables: tuple[Table, ...],
    log_group: logs.LogGroup,
    execution_role: iam.Role,
    task_role: iam.Role,
) -> ecs.TaskDefinition:
    """One container on a read-only root filesystem with a scratch volume, its health check, its
    secrets, and its logs in the service's log group. The item store's image is the parameter's,
    or when that is empty the stack's own build, by digest; your own service's is the parameter's."""
    name = spec.name
    container_image = If(uses_built_image(name), image.image_uri(), Ref(parameters.image)) if spec.is_item_store \
        else Ref(parameters.image)
    return template.add_resource(
        ecs.TaskDefinition(
            logical_id(name, "TaskDefinition"),
            Family=Sub(f"${{AWS::StackName}}-{name}"),
            Cpu=str(spec.cpu),
            Memory=str(spec.memory),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            # The stack's own image is built for this architecture too (image.py); your own image
            # must be built for it (an x86-only image on ARM64 fails at task start).
            RuntimePlatform=ecs.RuntimePlatform(
                CpuArchitecture=config.cpu_architecture.value, OperatingSystemFamily="LINUX"
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            Volumes=[ecs.Volume(Name=SCRATCH_VOLUME)],
            ContainerDefinitions=[
                ecs.ContainerDefinition(
                    Name=name,
                    Image=container_image,
                    **({"Command": list(spec.command)} if spec.command is not None else {}),
                    Essential=True,
                    PortMappings=[ecs.PortMapping(ContainerPort=spec.port, Protocol="tcp")],
                    Environment=_environment(spec, tables),
                    **_secrets(spec),
                    ReadonlyRootFilesystem=True,
                    MountPoints=[
                        ecs.MountPoint(
                            SourceVolume=SCRATCH_VOLUME, ContainerPath=WRITABLE_SCRATCH_PATH, ReadOnly=False
                        )
                    ],
                    # ECS sends SIGTERM, then SIGKILL after StopTimeout (at most 120 s on Fargate,
                    # constants.FARGATE_MAX_STOP_TIMEOUT_SECONDS). The task drains, then stops
                    # gracefully (itemstore.drain): drain + graceful + margin, checked by ServiceSpec.
                    StopTimeout=spec.stop_timeout_seconds,
                    **_health_check(spec),
                    LogConfiguration=ecs.LogConfiguration(
                        LogDriver="awslogs",
                        Options={
                            "awslogs-group": Ref(log_group),
                            "awslogs-region": Ref("AWS::Region"),
                            "awslogs-stream-prefix": name,
                        },
                    ),
                )
            ],
        )
    )


def _add_ecs_service(
    template: Template,
    spec: ServiceSpec,
    network: Network,
    cluster: Cluster,
    task_definition: ecs.TaskDefinition,
    security_group: ec2.SecurityGroup,
    discovery_service: servicediscovery.Service,
    deployment_alarm: DeploymentAlarm | None = None,
) -> ecs.Service:
    """The Fargate service in the network's task subnets, registered in Cloud Map by container and
    port; each task gets a public IPv4 address only when the network has no NAT."""
    # ECS fails a deployment, and with Rollback returns to the last completed one, when a named
    # alarm goes to ALARM during the deployment or the bake time after it, which ECS derives from
    # the alarm's periods ("How CloudWatch alarms detect Amazon ECS deployment failures", Amazon
    # ECS Developer Guide); OK and INSUFFICIENT_DATA never fail it.
    alarms = (
        {"Alarms": ecs.DeploymentAlarms(AlarmNames=[deployment_alarm.alarm.name], Enable=True, Rollback=True)}
        if deployment_alarm is not None
        else {}
    )
    # Tasks pull their image through NAT or, without NAT, their public address and the internet
    # gateway: without those routes they would fail to start. A capacity
    # provider strategy works only once the cluster's association exists, and deleting the
    # association while a service still uses it fails ("The specified capacity provider is in use
    # and cannot be removed"; aws/containers-roadmap#631 recommends this DependsOn): the
    # association is created before the services and deleted after them.
    depends_on = [route.title for route in network.task_default_routes]
    depends_on.append(cluster.capacity_providers.title)
    if deployment_alarm is not None:
        depends_on.append(deployment_alarm.depends_on)
    service = template.add_resource(
        ecs.Service(
            logical_id(spec.name, "Service"),
            DependsOn=depends_on,
            Cluster=Ref(cluster.cluster),
            TaskDefinition=Ref(task_definition),
            # No DesiredCount: CloudFormation then starts a new service with 1 task and leaves the
            # count alone on every update, so a stack update never scales in a service that
            # autoscaling scaled out (aws/aws-cdk#13130 quotes this CloudFormation behaviour). The
            # scalable target, registered next, moves the count into [MinTasks, MaxTasks]
            # ("RegisterScalableTarget", Application Auto Scaling API Reference), on create and
            # whenever the parameters change.
            # Never LaunchType, whatever the Spot share (generator/template/cluster.py).
            CapacityProviderStrategy=list(cluster.capacity_strategy),
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="ENABLED" if network.task_public_ip else "DISABLED",
                    SecurityGroups=[Ref(security_group)],
                    Subnets=[Ref(subnet) for subnet in network.task_subnets],
                )
            ),
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
                MaximumPercent=200,
                MinimumHealthyPercent=100,
                **alarms,
            ),
            # SRV records carry the port, so ECS registers the container name and port.
            ServiceRegistries=[
                ecs.ServiceRegistry(
                    RegistryArn=GetAtt(discovery_service, "Arn"), ContainerName=spec.name, ContainerPort=spec.port
                )
            ],
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
        )
    )
    return skip_checks(service, *([TASK_PUBLIC_IP] if network.task_public_ip else []))


def _add_scaling(
    template: Template, spec: ServiceSpec, parameters: ServiceParameters, cluster: Cluster, service: ecs.Service
) -> aas.ScalableTarget:
    """Target tracking on average CPU between the MinTasks and MaxTasks parameters."""
    name = spec.name
    scalable_target = template.add_resource(
        aas.ScalableTarget(
            logical_id(name, "ScalableTarget"),
            MinCapacity=Ref(parameters.min_tasks),
            MaxCapacity=Ref(parameters.max_tasks),
            ResourceId=Sub(f"service/${{{cluster.cluster.title}}}/${{{service.title}.Name}}"),
            RoleARN=Sub(ECS_AUTOSCALING_ROLE),
            ScalableDimension="ecs:service:DesiredCount",
            ServiceNamespace="ecs",
        )
    )
    template.add_resource(
        aas.ScalingPolicy(
            logical_id(name, "ScalingPolicy"),
            PolicyName=Sub(f"${{AWS::StackName}}-{name}-cpu"),
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(scalable_target),
            TargetTrackingScalingPolicyConfiguration=aas.TargetTrackingScalingPolicyConfiguration(
                PredefinedMetricSpecification=aas.PredefinedMetricSpecification(
                    PredefinedMetricType="ECSServiceAverageCPUUtilization"
                ),
                TargetValue=Ref(parameters.cpu_target),
                ScaleInCooldown=60,
                ScaleOutCooldown=60,
            ),
        )
    )
    return scalable_target
