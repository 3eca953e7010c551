// The default ecsapi stack written with the AWS CDK (aws-cdk-lib v2), so that `make bench-generator`
// can time an equivalent CDK synth beside a cold `ecsapi template`, on the same machine in the same
// run. It builds what the default template builds: a 3-AZ VPC with a NAT gateway per AZ and gateway
// endpoints, an ECS cluster with Container Insights, per service a DynamoDB table, a Fargate task
// definition and service found through a Cloud Map SRV service with CPU autoscaling, a Cognito user
// pool and client, and an HTTP API over a VPC link with a JWT authorizer on PUT and logged stage.
// The image comes from a registry name (a CDK asset would run a Docker build during synth, which
// ecsapi does in the stack instead). `node app.js` synthesizes into cdk.out without the CDK CLI,
// which makes no network calls and is a lower bound on `cdk synth`'s time.
"use strict";
const cdk = require("aws-cdk-lib");
const ec2 = require("aws-cdk-lib/aws-ec2");
const ecs = require("aws-cdk-lib/aws-ecs");
const dynamodb = require("aws-cdk-lib/aws-dynamodb");
const logs = require("aws-cdk-lib/aws-logs");
const servicediscovery = require("aws-cdk-lib/aws-servicediscovery");
const cognito = require("aws-cdk-lib/aws-cognito");
const apigwv2 = require("aws-cdk-lib/aws-apigatewayv2");
const integrations = require("aws-cdk-lib/aws-apigatewayv2-integrations");
const authorizers = require("aws-cdk-lib/aws-apigatewayv2-authorizers");

const SERVICES = [
  { name: "foodstore", path: "/foodstore/foods/{foodId}" },
  { name: "petstore", path: "/petstore/pets/{petId}" },
];
const PORT = 8080;

const app = new cdk.App({ outdir: process.env.CDK_OUTDIR || "cdk.out" });
const stack = new cdk.Stack(app, "EcsApi");

const vpc = new ec2.Vpc(stack, "Vpc", {
  maxAzs: 3,
  natGateways: 3,
  gatewayEndpoints: {
    DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
    S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
  },
});
vpc.addFlowLog("FlowLog");
const cluster = new ecs.Cluster(stack, "Cluster", { vpc, containerInsights: true });
const namespace = new servicediscovery.PrivateDnsNamespace(stack, "Namespace", { name: "service", vpc });
const linkGroup = new ec2.SecurityGroup(stack, "VpcLinkSecurityGroup", { vpc });
const vpcLink = new apigwv2.VpcLink(stack, "VpcLink", { vpc, securityGroups: [linkGroup] });

const userPool = new cognito.UserPool(stack, "UserPool", {
  selfSignUpEnabled: true,
  signInAliases: { email: true },
  autoVerify: { email: true },
});
const client = userPool.addClient("WebClient", { authFlows: { userPassword: true } });
const authorizer = new authorizers.HttpJwtAuthorizer("Jwt", `https://cognito-idp.${stack.region}.amazonaws.com/${userPool.userPoolId}`, {
  jwtAudience: [client.userPoolClientId],
});

const accessLogs = new logs.LogGroup(stack, "ApiAccessLogs", { retention: logs.RetentionDays.ONE_MONTH });
const api = new apigwv2.HttpApi(stack, "Api", { createDefaultStage: false });
new apigwv2.HttpStage(stack, "Stage", {
  httpApi: api,
  stageName: "$default",
  autoDeploy: true,
  throttle: { rateLimit: 100, burstLimit: 50 },
  accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
});

for (const spec of SERVICES) {
  const table = new dynamodb.Table(stack, `${spec.name}Table`, {
    partitionKey: { name: "id", type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: cdk.RemovalPolicy.RETAIN,
  });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, `${spec.name}Task`, { cpu: 256, memoryLimitMiB: 512 });
  taskDefinition.addContainer("app", {
    image: ecs.ContainerImage.fromRegistry(`public.ecr.aws/example/${spec.name}:latest`),
    portMappings: [{ containerPort: PORT }],
    readonlyRootFilesystem: true,
    user: "1000",
    environment: { TABLE_NAME: table.tableName, PORT: String(PORT) },
    healthCheck: { command: ["CMD", "python", "-m", "itemstore.healthcheck"] },
    logging: ecs.LogDrivers.awsLogs({
      streamPrefix: spec.name,
      logGroup: new logs.LogGroup(stack, `${spec.name}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
    }),
  });
  table.grantReadWriteData(taskDefinition.taskRole);
  const serviceGroup = new ec2.SecurityGroup(stack, `${spec.name}SecurityGroup`, { vpc, allowAllOutbound: true });
  serviceGroup.addIngressRule(linkGroup, ec2.Port.tcp(PORT));
  const service = new ecs.FargateService(stack, `${spec.name}Service`, {
    cluster,
    taskDefinition,
    securityGroups: [serviceGroup],
    minHealthyPercent: 100,
    circuitBreaker: { rollback: true },
    cloudMapOptions: {
      name: spec.name,
      cloudMapNamespace: namespace,
      dnsRecordType: servicediscovery.DnsRecordType.SRV,
      containerPort: PORT,
    },
  });
  service.autoScaleTaskCount({ minCapacity: 1, maxCapacity: 10 }).scaleOnCpuUtilization("Cpu", { targetUtilizationPercent: 50 });
  const integration = new integrations.HttpServiceDiscoveryIntegration(`${spec.name}Integration`, service.cloudMapService, { vpcLink });
  api.addRoutes({ path: spec.path, methods: [apigwv2.HttpMethod.GET], integration });
  api.addRoutes({ path: spec.path, methods: [apigwv2.HttpMethod.PUT], integration, authorizer });
}

new cdk.CfnOutput(stack, "ApiUrl", { value: api.apiEndpoint });
app.synth();
