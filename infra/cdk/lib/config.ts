import * as path from 'node:path';
import type { Node } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { loadTableSchema, DEFAULT_SCHEMA_PATH } from './schema';

/** Repository root (infra/cdk/lib -> repo). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Everything an operator can set. Each field can be given as a stack prop or as CDK context
 * (`npx cdk deploy -c tableName=orders-prod -c logRetentionDays=90`); props win over context,
 * context wins over the defaults below.
 */
export interface FanorderConfig {
  /** DynamoDB table name. Default: `table_name` from schema/table.json ("fanorder"). */
  readonly tableName: string;
  /** Deletion protection on the table; also RETAIN on table, secret and log groups. Default true. */
  readonly deletionProtection: boolean;
  /** Retention of every log group (functions and API access log), in days. Default 30. */
  readonly logRetentionDays: number;
  /** Minutes after which a PAID order that has not moved is "late" (FANORDER_LATE_AFTER_MINUTES). Default 10. */
  readonly lateAfterMinutes: number;
  /** Operator e-mail subscribed to the alarm topic. Default: none (subscribe later). */
  readonly alarmEmail?: string;
  /** Name of the custom EventBridge bus. Default "fanorder". */
  readonly eventBusName: string;
  /** Steady-state request rate limit of the HTTP API (requests per second). Default 200. */
  readonly apiRateLimit: number;
  /** Burst limit of the HTTP API. Default 400. */
  readonly apiBurstLimit: number;
  /** Use the placeholder bootstrap instead of target/lambda/<binary>. Default false. */
  readonly placeholderAssets: boolean;
  /** Where `cargo lambda build` put the binaries. Default <repo>/target/lambda. */
  readonly lambdaDir: string;
  /** The table schema file. Default <repo>/schema/table.json. */
  readonly schemaPath: string;
}

export const CONTEXT_KEYS = [
  'tableName',
  'deletionProtection',
  'logRetentionDays',
  'lateAfterMinutes',
  'alarmEmail',
  'eventBusName',
  'apiRateLimit',
  'apiBurstLimit',
  'placeholderAssets',
  'lambdaDir',
  'schemaPath',
] as const;

function asBool(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new Error(`context ${name} must be true or false, got ${JSON.stringify(v)}`);
}

function asInt(name: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'number' ? v : Number(String(v));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`context ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return n;
}

function asString(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

/** Retention values CloudWatch Logs accepts. */
const RETENTIONS = new Set(
  Object.values(RetentionDays).filter((v): v is number => typeof v === 'number' && v > 0),
);

/** Resolves the configuration from props, then context, then defaults; validates every value. */
export function resolveConfig(node: Node, props: Partial<FanorderConfig> = {}): FanorderConfig {
  const get = (k: (typeof CONTEXT_KEYS)[number]): unknown =>
    (props as Record<string, unknown>)[k] ?? node.tryGetContext(k);

  const schemaPath = path.resolve(asString(get('schemaPath')) ?? DEFAULT_SCHEMA_PATH);
  const tableName = asString(get('tableName')) ?? loadTableSchema(schemaPath).table_name;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    throw new Error(`tableName ${JSON.stringify(tableName)} is not a valid DynamoDB table name`);
  }
  const eventBusName = asString(get('eventBusName')) ?? 'fanorder';
  if (!/^[A-Za-z0-9._-]{1,256}$/.test(eventBusName) || eventBusName === 'default') {
    throw new Error(`eventBusName ${JSON.stringify(eventBusName)} is not a valid custom bus name`);
  }
  const logRetentionDays = asInt('logRetentionDays', get('logRetentionDays'), 30, 1, 3653);
  if (!RETENTIONS.has(logRetentionDays)) {
    throw new Error(
      `logRetentionDays must be one of ${[...RETENTIONS].sort((a, b) => a - b).join(', ')}; got ${logRetentionDays}`,
    );
  }
  const alarmEmail = asString(get('alarmEmail'));
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new Error(`alarmEmail ${JSON.stringify(alarmEmail)} is not an e-mail address`);
  }
  const apiRateLimit = asInt('apiRateLimit', get('apiRateLimit'), 200, 1, 100000);
  const apiBurstLimit = asInt('apiBurstLimit', get('apiBurstLimit'), 400, 1, 100000);
  return {
    tableName,
    deletionProtection: asBool('deletionProtection', get('deletionProtection'), true),
    logRetentionDays,
    lateAfterMinutes: asInt('lateAfterMinutes', get('lateAfterMinutes'), 10, 1, 1440),
    alarmEmail,
    eventBusName,
    apiRateLimit,
    apiBurstLimit,
    placeholderAssets: asBool('placeholderAssets', get('placeholderAssets'), false),
    lambdaDir: path.resolve(REPO_ROOT, asString(get('lambdaDir')) ?? path.join('target', 'lambda')),
    schemaPath,
  };
}
