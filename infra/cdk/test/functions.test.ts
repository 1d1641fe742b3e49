import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { PLACEHOLDER_DIR } from '../lib/constructs/rust-function';
import { FUNCTIONS, functionId, idAt, ofType, roleId, synth, type Fn, type Json, type Synthesized } from './helpers';

const COMMON_ENV = [
  'FANORDER_ENV',
  'FANORDER_STORE',
  'FANORDER_SECRETS_ARN',
  'FANORDER_EVENT_BUS',
  'FANORDER_EVENT_SOURCE',
  'FANORDER_SNS_TOPIC_ARN',
  'FANORDER_LOG_FORMAT',
];
const EXTRA_ENV: Record<Fn, string[]> = {
  Api: ['FANORDER_LAMBDA_ROUTES', 'FANORDER_TENANT_ROLE_ARN'],
  Webhook: ['FANORDER_LAMBDA_ROUTES'],
  Stream: ['FANORDER_LATE_AFTER_MINUTES'],
  Schedule: ['FANORDER_LATE_AFTER_MINUTES'],
};

const env = (s: Synthesized, fn: Fn): Record<string, Json> =>
  s.resources[functionId(s, fn)].Properties.Environment.Variables;

describe('the four Lambda functions', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth();
  });

  test('exactly four functions: api, webhook, stream, schedule', () => {
    expect(ofType(s, 'AWS::Lambda::Function')).toHaveLength(4);
    for (const fn of FUNCTIONS) expect(functionId(s, fn)).toBeDefined();
  });

  test.each(FUNCTIONS)('%s: provided.al2023 on arm64 with handler bootstrap and its own role', (fn) => {
    const props = s.resources[functionId(s, fn)].Properties;
    expect(props.Runtime).toBe('provided.al2023');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('bootstrap');
    expect(props.Role).toEqual({ 'Fn::GetAtt': [roleId(s, fn), 'Arn'] });
  });

  test('each function has its own role, with no managed policy', () => {
    const roles = FUNCTIONS.map((fn) => roleId(s, fn));
    expect(new Set(roles).size).toBe(4);
    for (const [, r] of ofType(s, 'AWS::IAM::Role')) expect(r.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test.each(FUNCTIONS)('%s: exactly the agreed environment variables', (fn) => {
    expect(Object.keys(env(s, fn)).sort()).toEqual([...COMMON_ENV, ...EXTRA_ENV[fn]].sort());
  });

  test('the common values: production, DynamoDB store, JSON logs, event source, bus, topic, secret ARN', () => {
    const ids = {
      table: idAt(s, 'Fanorder/Data/Table/Resource'),
      secret: idAt(s, 'Fanorder/AppSecret/Resource'),
      bus: idAt(s, 'Fanorder/EventBus/Resource'),
      topic: idAt(s, 'Fanorder/StaffTopic/Resource'),
    };
    for (const fn of FUNCTIONS) {
      const e = env(s, fn);
      expect(e.FANORDER_ENV).toBe('production');
      expect(e.FANORDER_LOG_FORMAT).toBe('json');
      expect(e.FANORDER_EVENT_SOURCE).toBe('fanorder');
      expect(e.FANORDER_STORE).toEqual({ 'Fn::Join': ['', ['dynamodb:', { Ref: ids.table }]] });
      expect(e.FANORDER_SECRETS_ARN).toEqual({ Ref: ids.secret });
      expect(e.FANORDER_EVENT_BUS).toEqual({ Ref: ids.bus });
      expect(e.FANORDER_SNS_TOPIC_ARN).toEqual({ Ref: ids.topic });
    }
  });

  test('route sets, the tenant role ARN (api only) and the late-order minutes (stream, schedule)', () => {
    expect(env(s, 'Api').FANORDER_LAMBDA_ROUTES).toBe('api');
    expect(env(s, 'Webhook').FANORDER_LAMBDA_ROUTES).toBe('webhook');
    expect(env(s, 'Api').FANORDER_TENANT_ROLE_ARN).toEqual({ 'Fn::GetAtt': [roleId(s, 'TenantAccessRole'), 'Arn'] });
    expect(env(s, 'Stream').FANORDER_LATE_AFTER_MINUTES).toBe('10');
    expect(env(s, 'Schedule').FANORDER_LATE_AFTER_MINUTES).toBe('10');
    const s2 = synth({ lateAfterMinutes: '25' });
    expect(env(s2, 'Stream').FANORDER_LATE_AFTER_MINUTES).toBe('25');
    expect(env(s2, 'Schedule').FANORDER_LATE_AFTER_MINUTES).toBe('25');
    expect(() => synth({ lateAfterMinutes: '0' })).toThrow(/lateAfterMinutes/);
  });

  test('no secret value in any environment: only the secret ARN, as a reference', () => {
    const secretish = /SECRET|TOKEN|PASSWORD|PASSWD|JWT|PRIVATE|CREDENTIAL|API_KEY|_KEY$/i;
    const secretId = idAt(s, 'Fanorder/AppSecret/Resource');
    for (const fn of FUNCTIONS) {
      for (const [k, v] of Object.entries(env(s, fn))) {
        if (k === 'FANORDER_SECRETS_ARN') {
          expect(v).toEqual({ Ref: secretId });
          continue;
        }
        expect(k).not.toMatch(secretish);
        // No dynamic reference that CloudFormation would resolve to a secret value.
        expect(JSON.stringify(v)).not.toMatch(/resolve:(secretsmanager|ssm-secure)/);
      }
    }
    // The secret's only generated value never appears in the template.
    const secret = s.resources[secretId].Properties;
    expect(secret.SecretString).toBeUndefined();
    expect(secret.GenerateSecretString).toMatchObject({ GenerateStringKey: 'fb_verify_token', SecretStringTemplate: '{}' });
  });

  test.each(FUNCTIONS)('%s: logs go to its own log group, kept 30 days by default', (fn) => {
    const lg = idAt(s, `Fanorder/${fn}/LogGroup/Resource`);
    expect(s.resources[functionId(s, fn)].Properties.LoggingConfig).toEqual({ LogGroup: { Ref: lg } });
    expect(s.resources[lg].Properties.RetentionInDays).toBe(30);
    expect(s.resources[lg].DeletionPolicy).toBe('Retain');
  });

  test('every log group (functions and API access log) follows -c logRetentionDays', () => {
    const s90 = synth({ logRetentionDays: '90' });
    const groups = ofType(s90, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(5);
    for (const [, g] of groups) expect(g.Properties.RetentionInDays).toBe(90);
    expect(() => synth({ logRetentionDays: '45' })).toThrow(/logRetentionDays must be one of/);
  });
});

describe('Lambda assets', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fanorder-lambda-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const assetPath = (s: Synthesized, fn: Fn): string =>
    s.resources[functionId(s, fn)].Metadata['aws:asset:path'] as string;

  test('placeholderAssets=true: every function uses the placeholder bootstrap, which is executable', () => {
    const s = synth({ placeholderAssets: 'true', lambdaDir: tmp });
    const hashes = new Set(FUNCTIONS.map((fn) => s.resources[functionId(s, fn)].Properties.Code.S3Key));
    expect(hashes.size).toBe(1);
    const mode = fs.statSync(path.join(PLACEHOLDER_DIR, 'bootstrap')).mode;
    expect(mode & 0o111).not.toBe(0);
  });

  test('built binaries in target/lambda/<binary>/bootstrap are used, api and webhook share one', () => {
    for (const bin of ['fanorder-lambda-http', 'fanorder-lambda-stream', 'fanorder-lambda-schedule']) {
      fs.mkdirSync(path.join(tmp, bin), { recursive: true });
      fs.writeFileSync(path.join(tmp, bin, 'bootstrap'), `#!/bin/sh\n# fake ${bin}\n`, { mode: 0o755 });
    }
    const s = synth({ placeholderAssets: 'false', lambdaDir: tmp });
    const key = (fn: Fn): string => JSON.stringify(s.resources[functionId(s, fn)].Properties.Code.S3Key);
    expect(key('Api')).toBe(key('Webhook'));
    expect(new Set(FUNCTIONS.map(key)).size).toBe(3);
    const placeholder = synth({ placeholderAssets: 'true', lambdaDir: tmp });
    expect(key('Api')).not.toBe(JSON.stringify(placeholder.resources[functionId(placeholder, 'Api')].Properties.Code.S3Key));
    Annotations.fromStack(s.stack).hasNoWarning('*', Match.stringLikeRegexp('placeholder'));
    expect(assetPath(s, 'Api')).toMatch(/^asset\./);
  });

  test('a missing binary falls back to the placeholder with a warning, so synth works without a Rust build', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'fanorder-empty-'));
    // CDK prints the (expected) warnings on stderr while synthesizing; keep the test output clean.
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const s = synth({ placeholderAssets: 'false', lambdaDir: empty });
      Annotations.fromStack(s.stack).hasWarning('/Fanorder/Api', Match.stringLikeRegexp('placeholder bootstrap'));
      Annotations.fromStack(s.stack).hasWarning('/Fanorder/Stream', Match.stringLikeRegexp('scripts/build-lambda'));
    } finally {
      quiet.mockRestore();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
