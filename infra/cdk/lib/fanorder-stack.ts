import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  SESSION_TAG_KEYS,
  STREAM_LIST_ACTIONS,
  STREAM_READ_ACTIONS,
  TABLE_GRANTS,
  TENANT_GUARD_GRANTS,
  TENANT_TAG,
  type GrantName,
  type TableGrant,
} from './access';
import { resolveConfig, type FanorderConfig } from './config';
import { Monitoring } from './constructs/monitoring';
import { RustFunction } from './constructs/rust-function';
import { SchemaTable } from './constructs/table';
import { loadTableSchema } from './schema';

/** Cargo binaries, each built to `target/lambda/<binary>/bootstrap`. */
export const BINARIES = {
  http: 'fanorder-lambda-http',
  stream: 'fanorder-lambda-stream',
  schedule: 'fanorder-lambda-schedule',
} as const;

/** EventBridge `Source` of every fanorder event. */
export const EVENT_SOURCE = 'fanorder';

/** Stream records that wake the stream processor: new outbox events and new inbound messages. */
export const STREAM_SK_PREFIXES = ['OUTBOX#', 'INBOX#'] as const;

export type FunctionName = 'api' | 'webhook' | 'stream' | 'schedule';

export interface FanorderStackProps extends StackProps {
  /** Overrides for CDK context values (see FanorderConfig). */
  readonly config?: Partial<FanorderConfig>;
}

export class FanorderStack extends Stack {
  public readonly config: FanorderConfig;
  public readonly table: dynamodb.Table;
  public readonly secret: secretsmanager.Secret;
  public readonly eventBus: events.EventBus;
  public readonly eventArchive: events.Archive;
  public readonly staffTopic: sns.Topic;
  public readonly streamDlq: sqs.Queue;
  public readonly functions: Record<FunctionName, RustFunction>;
  public readonly tenantAccessRole: iam.Role;
  public readonly httpApi: apigwv2.HttpApi;
  public readonly httpStage: apigwv2.HttpStage;
  public readonly streamMapping: lambda.EventSourceMapping;
  public readonly lateOrderSchedule: scheduler.Schedule;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: FanorderStackProps = {}) {
    super(scope, id, props);
    const cfg = (this.config = resolveConfig(this.node, props.config));
    const schema = loadTableSchema(cfg.schemaPath);
    const removalPolicy = cfg.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = cfg.logRetentionDays as logs.RetentionDays;

    // --- data -----------------------------------------------------------------------------
    this.table = new SchemaTable(this, 'Data', {
      schema,
      tableName: cfg.tableName,
      deletionProtection: cfg.deletionProtection,
    }).table;

    // One JSON secret: secret_key, jwt_keys, fb_app_secret, fb_verify_token. Only the webhook
    // verify token (any random string, typed into the Facebook app) is generated here; the
    // operator adds the other three after the first deploy (README, "Secrets"). The functions
    // read it at cold start by ARN; no value ever sits in an environment variable.
    this.secret = new secretsmanager.Secret(this, 'AppSecret', {
      description: 'fanorder application secrets (JSON: secret_key, jwt_keys, fb_app_secret, fb_verify_token)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'fb_verify_token',
        passwordLength: 40,
        excludePunctuation: true,
      },
      removalPolicy,
    });

    // --- events -----------------------------------------------------------------------------
    this.eventBus = new events.EventBus(this, 'EventBus', {
      eventBusName: cfg.eventBusName,
      description: 'fanorder domain events (order.placed, order.status_changed, ...) for integrators',
    });
    this.eventArchive = this.eventBus.archive('EventArchive', {
      description: 'Every fanorder event for 30 days, for replay',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(30),
    });

    this.staffTopic = new sns.Topic(this, 'StaffTopic', {
      displayName: 'fanorder staff notifications',
      enforceSSL: true,
    });

    this.streamDlq = new sqs.Queue(this, 'StreamDlq', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    // --- functions --------------------------------------------------------------------------
    const common: Record<string, string> = {
      FANORDER_ENV: 'production',
      FANORDER_STORE: `dynamodb:${this.table.tableName}`,
      FANORDER_SECRETS_ARN: this.secret.secretArn,
      FANORDER_EVENT_BUS: this.eventBus.eventBusName,
      FANORDER_EVENT_SOURCE: EVENT_SOURCE,
      FANORDER_SNS_TOPIC_ARN: this.staffTopic.topicArn,
      FANORDER_LOG_FORMAT: 'json',
    };
    const late = { FANORDER_LATE_AFTER_MINUTES: String(cfg.lateAfterMinutes) };
    const fnDefaults = {
      lambdaDir: cfg.lambdaDir,
      placeholderAssets: cfg.placeholderAssets,
      logRetention,
      removalPolicy,
    };

    // The tenant access role's ARN is in the API's environment, and its trust policy names the
    // API's role; the role is created first so both can refer to each other without a cycle.
    const api = new RustFunction(this, 'Api', {
      ...fnDefaults,
      binary: BINARIES.http,
      description: 'fanorder REST API, health and dashboard (HTTP API, payload v2)',
      memorySize: 512,
      timeout: Duration.seconds(25),
      environment: { ...common, FANORDER_LAMBDA_ROUTES: 'api' },
    });
    const webhook = new RustFunction(this, 'Webhook', {
      ...fnDefaults,
      binary: BINARIES.http,
      description: 'fanorder Messenger and payment webhooks (HTTP API, payload v2)',
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: { ...common, FANORDER_LAMBDA_ROUTES: 'webhook' },
    });
    const stream = new RustFunction(this, 'Stream', {
      ...fnDefaults,
      binary: BINARIES.stream,
      description: 'fanorder stream processor: bot replies for INBOX items, outbox relay to EventBridge/SNS',
      memorySize: 512,
      timeout: Duration.seconds(60),
      environment: { ...common, ...late },
    });
    const schedule = new RustFunction(this, 'Schedule', {
      ...fnDefaults,
      binary: BINARIES.schedule,
      description: 'fanorder late-order sweep, every minute',
      memorySize: 256,
      timeout: Duration.seconds(50),
      environment: { ...common, ...late },
    });
    this.functions = { api, webhook, stream, schedule };

    // Every function reads the one secret, and nothing else in Secrets Manager.
    for (const f of Object.values(this.functions)) {
      f.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadAppSecret',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.secret.secretArn],
        }),
      );
    }

    // --- tenant isolation (AWS SaaS Factory pattern) ---------------------------------------
    // The API assumes this role once per tenant with the session tag tenant=<id> and uses the
    // credentials for that tenant's requests; its policy only reaches T#<id> and T#<id>#*.
    this.tenantAccessRole = new iam.Role(this, 'TenantAccessRole', {
      description: 'fanorder tenant-scoped table access; assumed by the API function with a tenant session tag',
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.ArnPrincipal(api.role.roleArn)
        .withConditions({
          StringLike: { [`aws:RequestTag/${TENANT_TAG}`]: '?*' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': SESSION_TAG_KEYS },
        })
        .withSessionTags(),
    });
    this.tenantAccessRole.addToPrincipalPolicy(tableStatement(this.table, 'TenantItems', TABLE_GRANTS.tenant));
    // Signup, page connect/disconnect and profile edits: exactly the tagged platform item.
    for (const guard of TENANT_GUARD_GRANTS) {
      this.tenantAccessRole.addToPrincipalPolicy(tableStatement(this.table, guard.sid, guard, guard.requiredTag));
    }

    api.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeTenantAccessRole',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [this.tenantAccessRole.roleArn],
      }),
    );
    api.function.addEnvironment('FANORDER_TENANT_ROLE_ARN', this.tenantAccessRole.roleArn);

    // Each function's own table access (see lib/access.ts for what and why).
    for (const name of Object.keys(this.functions) as (FunctionName & GrantName)[]) {
      this.functions[name].role.addToPrincipalPolicy(tableStatement(this.table, 'TableItems', TABLE_GRANTS[name]));
    }

    // Publishing: only the stream processor publishes (the outbox relay to the bus, staff
    // notices to the topic). The sweep writes its order.late events to the outbox like every
    // other change, so it needs no sns:Publish.
    stream.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'PutEventsOnBus', actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] }),
    );
    stream.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'PublishStaffTopic', actions: ['sns:Publish'], resources: [this.staffTopic.topicArn] }),
    );

    // --- stream processor ------------------------------------------------------------------
    const streamArn = this.table.tableStreamArn!;
    stream.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadTableStream', actions: STREAM_READ_ACTIONS, resources: [streamArn] }),
    );
    stream.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListTableStreams',
        actions: STREAM_LIST_ACTIONS,
        resources: [`${this.table.tableArn}/stream/*`],
      }),
    );
    // Built as a plain mapping (not DynamoEventSource) because DynamoEventSource grants
    // dynamodb:ListStreams on "*"; the grants above are scoped to this table's stream.
    this.streamMapping = new lambda.EventSourceMapping(this, 'StreamMapping', {
      target: stream.function,
      eventSourceArn: streamArn,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      parallelizationFactor: 1, // per-partition order: an order's events stay in sequence
      bisectBatchOnError: true,
      retryAttempts: 10,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(this.streamDlq),
      filters: STREAM_SK_PREFIXES.map((prefix) =>
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { NewImage: { sk: { S: lambda.FilterRule.beginsWith(prefix) } } },
        }),
      ),
    });
    // The mapping validates its role at creation: make sure the stream grants exist first.
    this.streamMapping.node.addDependency(stream.role);

    // --- late-order schedule -----------------------------------------------------------------
    // EventBridge Scheduler rather than a rule: its target has its own retry policy and event
    // age, and it invokes through a role limited to this one function. A sweep that fails is
    // not retried: the next one runs a minute later and does the same work.
    this.lateOrderSchedule = new scheduler.Schedule(this, 'LateOrderSchedule', {
      description: 'fanorder late-order sweep',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      target: new schedulerTargets.LambdaInvoke(schedule.function, {
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });
    schedule.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    // --- HTTP API ----------------------------------------------------------------------------
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'fanorder REST API and webhooks',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'HttpApiAccessLogs', {
      retention: logRetention,
      removalPolicy,
    });
    this.httpStage = new apigwv2.HttpStage(this, 'HttpStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: cfg.apiRateLimit, burstLimit: cfg.apiBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        // No query string: the Messenger handshake carries hub.verify_token there.
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            path: '$context.path',
            route: '$context.routeKey',
            status: '$context.status',
            bytes: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });

    const apiIntegration = new HttpLambdaIntegration('ApiIntegration', api.function);
    const webhookIntegration = new HttpLambdaIntegration('WebhookIntegration', webhook.function);
    const M = apigwv2.HttpMethod;
    const routes: [string, apigwv2.HttpMethod[], HttpLambdaIntegration][] = [
      ['/v1/{proxy+}', [M.ANY], apiIntegration],
      ['/healthz', [M.GET], apiIntegration],
      ['/readyz', [M.GET], apiIntegration],
      ['/', [M.GET], apiIntegration],
      ['/dashboard', [M.GET], apiIntegration],
      ['/dashboard/{proxy+}', [M.GET], apiIntegration],
      // More specific than /v1/{proxy+}, so API Gateway sends these to the webhook function.
      ['/webhooks/messenger', [M.GET, M.POST], webhookIntegration],
      ['/v1/payments/{provider}/webhook', [M.POST], webhookIntegration],
    ];
    for (const [path, methods, integration] of routes) {
      this.httpApi.addRoutes({ path, methods, integration });
    }

    // --- monitoring --------------------------------------------------------------------------
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: this.functions,
      streamFunction: stream.function,
      dlq: this.streamDlq,
      httpApi: this.httpApi,
      alarmEmail: cfg.alarmEmail,
    });

    // --- outputs -----------------------------------------------------------------------------
    const url = this.httpStage.url; // ends with "/"
    new CfnOutput(this, 'ApiUrl', { value: url, description: 'Base URL of the REST API' });
    new CfnOutput(this, 'MessengerWebhookUrl', {
      value: `${url}webhooks/messenger`,
      description: 'Callback URL for the Facebook app (Messenger webhook)',
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'StaffTopicArn', { value: this.staffTopic.topicArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.alarmTopic.topicArn });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn, description: 'Put the secrets JSON here' });
    new CfnOutput(this, 'TenantAccessRoleArn', { value: this.tenantAccessRole.roleArn });
    new CfnOutput(this, 'StreamDlqUrl', { value: this.streamDlq.queueUrl });
  }
}

/**
 * One statement: the grant's actions on the table (and indexes), fenced by LeadingKeys; with
 * `requiredTag`, only for sessions that carry that session tag.
 */
export function tableStatement(
  table: dynamodb.ITable,
  sid: string,
  grant: TableGrant,
  requiredTag?: string,
): iam.PolicyStatement {
  const resources = [table.tableArn];
  if (grant.indexes === 'all') {
    resources.push(`${table.tableArn}/index/*`);
  } else if (grant.indexes !== 'none') {
    for (const index of grant.indexes) resources.push(`${table.tableArn}/index/${index}`);
  }
  return new iam.PolicyStatement({
    sid,
    actions: [...grant.actions],
    resources,
    conditions: {
      // Every partition key the request names must match one of the patterns...
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...grant.partitions] },
      // ...and the request must name one: ForAllValues alone is true for an empty set.
      Null: { 'dynamodb:LeadingKeys': 'false' },
      ...(requiredTag ? { StringLike: { [`aws:PrincipalTag/${requiredTag}`]: '?*' } } : {}),
    },
  });
}
