// The default ecsapi stack written with the AWS CDK (aws-cdk-lib v2), so that `make bench-generator`
// can time an equivalent CDK synth beside a cold `ecsapi template`, on the same machine in the same
// run. It builds what the default template builds: a 3-AZ VPC with a NAT gateway per AZ, gateway
// endpoints and flow logs; an ECS cluster with Container Insights; per service a DynamoDB table, a
// Fargate task definition and service found through a Cloud Map SRV service with CPU autoscaling and
// a deployment alarm; a Cognito user pool and client; an HTTP API over a VPC link with a JWT
// authorizer on PUT and a logged stage; the custom resources (AZ choice, ECS service-linked role,
// the image build with its ECR repository, CodeBuild project and EventBridge answer, the page
// publisher), each a Lambda function with retries off; the test page's bucket behind CloudFront with
// origin access control and a response-headers policy; the alarms, their SNS topic and a dashboard.
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
const lambda = require("aws-cdk-lib/aws-lambda");
const ecr = require("aws-cdk-lib/aws-ecr");
const codebuild = require("aws-cdk-lib/aws-codebuild");
const events = require("aws-cdk-lib/aws-events");
const targets = require("aws-cdk-lib/aws-events-targets");
const s3 = require("aws-cdk-lib/aws-s3");
const cloudfront = require("aws-cdk-lib/aws-cloudfront");
const origins = require("aws-cdk-lib/aws-cloudfront-origins");
const sns = require("aws-cdk-lib/aws-sns");
const cloudwatch = require("aws-cdk-lib/aws-cloudwatch");
const cwActions = require("aws-cdk-lib/aws-cloudwatch-actions");
const iam = require("aws-cdk-lib/aws-iam");

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

// A custom resource as ecsapi makes one: an inline Python function with its own log group, Lambda's
// asynchronous retries off, and the resource that invokes it.
function customResource(name, properties) {
  const fn = new lambda.Function(stack, `${name}Function`, {
    runtime: lambda.Runtime.PYTHON_3_13,
    handler: "index.handler",
    code: lambda.Code.fromInline("def handler(event, context):\n    pass\n"),
    timeout: cdk.Duration.minutes(2),
    retryAttempts: 0,
    logGroup: new logs.LogGroup(stack, `${name}FunctionLogs`, { retention: logs.RetentionDays.ONE_MONTH }),
  });
  const resource = new cdk.CustomResource(stack, name, { serviceToken: fn.functionArn, properties });
  return { fn, resource };
}
const zoneChoice = customResource("ZoneChoice", { Count: 3 });
const serviceRole = customResource("EcsServiceLinkedRole", { ServiceName: "ecs.amazonaws.com" });
cluster.node.addDependency(serviceRole.resource);

const repository = new ecr.Repository(stack, "ImageRepository", {
  imageScanOnPush: true, imageTagMutability: ecr.TagMutability.IMMUTABLE, emptyOnDelete: true,
  removalPolicy: cdk.RemovalPolicy.DESTROY,
});
const project = new codebuild.Project(stack, "ImageBuildProject", {
  environment: { buildImage: codebuild.LinuxBuildImage.AMAZON_LINUX_2_5, privileged: true },
  buildSpec: codebuild.BuildSpec.fromObject({ version: "0.2", phases: { build: { commands: ["bash build.sh"] } } }),
  timeout: cdk.Duration.minutes(50),
});
repository.grantPullPush(project);
const imageBuild = customResource("ImageBuild", { ProjectName: project.projectName });
const answer = customResource("ImageBuildAnswer", {});
new events.Rule(stack, "ImageBuildDoneRule", {
  eventPattern: { source: ["aws.codebuild"], detailType: ["CodeBuild Build State Change"],
                  detail: { "project-name": [project.projectName] } },
  targets: [new targets.LambdaFunction(answer.fn, { retryAttempts: 2 })],
});

const bucket = new s3.Bucket(stack, "SiteBucket", {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, enforceSSL: true, versioned: true,
  encryption: s3.BucketEncryption.S3_MANAGED,
  lifecycleRules: [{ noncurrentVersionExpiration: cdk.Duration.days(30), abortIncompleteMultipartUploadAfter: cdk.Duration.days(1) }],
});
const headers = new cloudfront.ResponseHeadersPolicy(stack, "SiteHeaders", {
  securityHeadersBehavior: {
    contentSecurityPolicy: { contentSecurityPolicy: "default-src 'self'", override: true },
    contentTypeOptions: { override: true },
    frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
    referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
    strictTransportSecurity: { accessControlMaxAge: cdk.Duration.days(365), override: true },
  },
});
const distribution = new cloudfront.Distribution(stack, "SiteDistribution", {
  defaultBehavior: {
    origin: origins.S3BucketOrigin.withOriginAccessControl(bucket),
    viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
    responseHeadersPolicy: headers,
  },
  defaultRootObject: "index.html",
});
const sitePage = customResource("SitePage", { Bucket: bucket.bucketName, Distribution: distribution.distributionId });
bucket.grantReadWrite(sitePage.fn);

const topic = new sns.Topic(stack, "AlarmTopic");
topic.addToResourcePolicy(new iam.PolicyStatement({
  principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")], actions: ["sns:Publish"],
  resources: [topic.topicArn], conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
}));
const alarmAction = new cwActions.SnsAction(topic);
function alarm(id, props) {
  const made = new cloudwatch.Alarm(stack, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props });
  made.addAlarmAction(alarmAction);
  made.addOkAction(alarmAction);
  return made;
}
const dashboard = new cloudwatch.Dashboard(stack, "Dashboard");
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
const api = new apigwv2.HttpApi(stack, "Api", {
  createDefaultStage: false,
  corsPreflight: { allowOrigins: [`https://${distribution.distributionDomainName}`], allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.PUT] },
});
new apigwv2.HttpStage(stack, "Stage", {
  httpApi: api,
  stageName: "$default",
  autoDeploy: true,
  throttle: { rateLimit: 100, burstLimit: 50 },
  accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
});

const requests = api.metricCount();
const errors = api.metricServerError();
const errorRate = new cloudwatch.MathExpression({
  expression: "IF(requests > 0, 100 * errors / requests, 0)", usingMetrics: { requests, errors }, period: cdk.Duration.minutes(1),
});
const apiErrors = alarm("ApiErrorRateAlarm", { metric: errorRate, threshold: 5, evaluationPeriods: 3 });
alarm("ApiLatencyAlarm", { metric: api.metricIntegrationLatency({ statistic: "p99" }), threshold: 15000, evaluationPeriods: 3 });
dashboard.addWidgets(
  new cloudwatch.GraphWidget({ title: "API requests and errors", left: [requests, api.metricClientError(), errors] }),
  new cloudwatch.GraphWidget({ title: "API latency", left: [api.metricLatency({ statistic: "p50" }), api.metricLatency({ statistic: "p99" })] }),
  new cloudwatch.GraphWidget({ title: "Custom resource errors", left: [zoneChoice.fn, imageBuild.fn, sitePage.fn].map((f) => f.metricErrors()) }),
);

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
  service.enableDeploymentAlarms([apiErrors.alarmName], { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM });
  const running = new cloudwatch.Metric({
    namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount", statistic: "Maximum",
    dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: service.serviceName },
  });
  alarm(`${spec.name}TasksAlarm`, { metric: running, threshold: 1, comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                                   evaluationPeriods: 3, treatMissingData: cloudwatch.TreatMissingData.BREACHING });
  alarm(`${spec.name}ScalingCeilingAlarm`, { metric: service.metricCpuUtilization(), threshold: 50, evaluationPeriods: 3 });
  alarm(`${spec.name}TableErrorsAlarm`, { metric: table.metricSystemErrorsForOperations({ operations: [dynamodb.Operation.GET_ITEM, dynamodb.Operation.PUT_ITEM] }),
                                         threshold: 0, evaluationPeriods: 1 });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: `${spec.name}: tasks`, left: [running] }),
    new cloudwatch.GraphWidget({ title: `${spec.name}: CPU and memory`, left: [service.metricCpuUtilization(), service.metricMemoryUtilization()] }),
    new cloudwatch.GraphWidget({ title: `${spec.name}: table`, left: [table.metricConsumedReadCapacityUnits(), table.metricConsumedWriteCapacityUnits()] }),
  );
  const integration = new integrations.HttpServiceDiscoveryIntegration(`${spec.name}Integration`, service.cloudMapService, { vpcLink });
  api.addRoutes({ path: spec.path, methods: [apigwv2.HttpMethod.GET], integration });
  api.addRoutes({ path: spec.path, methods: [apigwv2.HttpMethod.PUT], integration, authorizer });
}

new cdk.CfnOutput(stack, "ApiUrl", { value: api.apiEndpoint });
app.synth();
