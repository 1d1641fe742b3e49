import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * `cdk synth` through the real CLI, as CI runs it: placeholder assets, no AWS credentials, no
 * AWS configuration, no network lookups. Proves bin/fanorder.ts and cdk.json work end to end.
 */
describe('cdk synth (CLI) without AWS credentials', () => {
  const root = path.join(__dirname, '..');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fanorder-synth-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('synthesizes the Fanorder stack into a CloudFormation template', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
    }
    Object.assign(env, {
      HOME: tmp, // no ~/.aws, no ~/.cdk.json
      AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    });
    const out = path.join(tmp, 'cdk.out');
    const cdk = path.join(root, 'node_modules', '.bin', 'cdk');
    const r = spawnSync(cdk, ['synth', '--quiet', '--no-notices', '-c', 'placeholderAssets=true', '-o', out], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 170_000,
    });
    if (r.status !== 0) throw new Error(`cdk synth failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    const template = JSON.parse(fs.readFileSync(path.join(out, 'Fanorder.template.json'), 'utf8'));
    const types = Object.values<{ Type: string }>(template.Resources).map((x) => x.Type);
    for (const t of [
      'AWS::DynamoDB::Table',
      'AWS::Lambda::Function',
      'AWS::Lambda::EventSourceMapping',
      'AWS::ApiGatewayV2::Api',
      'AWS::Events::EventBus',
      'AWS::Events::Archive',
      'AWS::SNS::Topic',
      'AWS::SQS::Queue',
      'AWS::Scheduler::Schedule',
      'AWS::SecretsManager::Secret',
      'AWS::CloudWatch::Alarm',
    ]) {
      expect(types).toContain(t);
    }
    // Environment-agnostic: no account or region baked in, and no context lookups were needed.
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts.Fanorder.environment).toBe('aws://unknown-account/unknown-region');
    expect(manifest.missing).toBeUndefined();
  });
});
