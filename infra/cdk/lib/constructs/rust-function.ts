import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** A tiny custom-runtime bootstrap used when the real binaries are not built (CI, laptops). */
export const PLACEHOLDER_DIR = path.resolve(__dirname, '..', '..', 'placeholder');

export interface AssetChoice {
  readonly dir: string;
  readonly placeholder: boolean;
}

/**
 * `target/lambda/<binary>/bootstrap` as laid out by `cargo lambda build --release --arm64`,
 * or the placeholder when asked for (`placeholderAssets=true`) or when the binary is missing.
 */
export function chooseAsset(lambdaDir: string, binary: string, forcePlaceholder: boolean): AssetChoice {
  const dir = path.join(lambdaDir, binary);
  if (!forcePlaceholder && fs.existsSync(path.join(dir, 'bootstrap'))) {
    return { dir, placeholder: false };
  }
  return { dir: PLACEHOLDER_DIR, placeholder: true };
}

export interface RustFunctionProps {
  /** Cargo binary name: the asset is `<lambdaDir>/<binary>/bootstrap`. */
  readonly binary: string;
  readonly lambdaDir: string;
  readonly placeholderAssets: boolean;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One Rust Lambda function: provided.al2023 on arm64 with handler `bootstrap`, its own role
 * (no managed policies: logging is granted on its own log group only) and its own log group
 * with a retention.
 */
export class RustFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly asset: AssetChoice;

  constructor(scope: Construct, id: string, props: RustFunctionProps) {
    super(scope, id);

    this.asset = chooseAsset(props.lambdaDir, props.binary, props.placeholderAssets);
    if (this.asset.placeholder && !props.placeholderAssets) {
      Annotations.of(this).addWarningV2(
        'fanorder:placeholder-asset',
        `${path.join(props.lambdaDir, props.binary, 'bootstrap')} not found: using the placeholder bootstrap. ` +
          'Run scripts/build-lambda before deploying.',
      );
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `fanorder ${id} function (${props.binary})`,
    });
    // What AWSLambdaBasicExecutionRole gives, narrowed to this function's own log group.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(this.asset.dir),
      role: this.role,
      memorySize: props.memorySize,
      timeout: props.timeout,
      environment: props.environment,
      logGroup: this.logGroup,
    });
    // lambda.Function depends on its role construct, so it waits for the role's DefaultPolicy
    // (wanted: no cold start without permissions). The DependsOn on the role itself repeats the
    // GetAtt on the role's ARN, which cfn-lint reports as W3005; silence that here only.
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });
  }
}
