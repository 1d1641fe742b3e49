import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FanorderStack, type FanorderStackProps } from '../lib/fanorder-stack';

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'),
).context;

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Synthesized {
  readonly stack: FanorderStack;
  readonly template: Template;
  /** The CloudFormation template as plain JSON. */
  readonly json: Json;
  readonly resources: Record<string, Json>;
}

/** Synthesizes the stack with placeholder assets unless the context says otherwise. */
export function synth(context: Record<string, unknown> = {}, props: FanorderStackProps = {}): Synthesized {
  const app = new App({
    context: {
      ...CDK_JSON_CONTEXT,
      // What the CLI turns on: construct paths and asset paths in resource metadata.
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:enable-asset-metadata': true,
      placeholderAssets: true,
      ...context,
    },
  });
  const stack = new FanorderStack(app, 'Fanorder', props);
  const template = Template.fromStack(stack);
  const json = template.toJSON();
  return { stack, template, json, resources: json.Resources };
}

/** Logical ids of resources of one type. */
export function ofType(s: Synthesized, type: string): [string, Json][] {
  return Object.entries(s.resources).filter(([, r]) => r.Type === type);
}

/** The logical id of the one resource whose construct path is exactly `cdkPath`. */
export function idAt(s: Synthesized, cdkPath: string): string {
  const hits = Object.entries(s.resources).filter(([, r]) => r.Metadata?.['aws:cdk:path'] === cdkPath);
  if (hits.length !== 1) throw new Error(`expected one resource at ${cdkPath}, found ${hits.length}`);
  return hits[0][0];
}

export const FUNCTIONS = ['Api', 'Webhook', 'Stream', 'Schedule'] as const;
export type Fn = (typeof FUNCTIONS)[number];

export function functionId(s: Synthesized, fn: Fn): string {
  return idAt(s, `Fanorder/${fn}/Function/Resource`);
}

export function roleId(s: Synthesized, who: Fn | 'TenantAccessRole'): string {
  return who === 'TenantAccessRole' ? idAt(s, 'Fanorder/TenantAccessRole/Resource') : idAt(s, `Fanorder/${who}/Role/Resource`);
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every identity-policy statement in the template, with the roles it is attached to. */
export function allIdentityStatements(s: Synthesized): { roles: string[]; statement: Json; source: string }[] {
  const out: { roles: string[]; statement: Json; source: string }[] = [];
  for (const [id, r] of Object.entries(s.resources)) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = asArray(r.Properties.Roles).map((x: Json) => x.Ref);
      for (const st of asArray(r.Properties.PolicyDocument.Statement)) out.push({ roles, statement: st, source: id });
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of asArray(r.Properties.Policies)) {
        for (const st of asArray((p as Json).PolicyDocument.Statement)) out.push({ roles: [id], statement: st, source: id });
      }
    }
  }
  return out;
}

/** The statements that apply to one role. */
export function statementsOf(s: Synthesized, role: string): Json[] {
  return allIdentityStatements(s)
    .filter((x) => x.roles.includes(role))
    .map((x) => x.statement);
}

/** IAM StringLike: `*` any run of characters, `?` one character. */
export function stringLike(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

/** Replaces ${aws:PrincipalTag/k} with the session's tag values (as IAM does). */
function substituteTags(pattern: string, tags: Record<string, string>): string | undefined {
  let missing = false;
  const out = pattern.replace(/\$\{aws:PrincipalTag\/([^}]+)\}/g, (_m, k: string) => {
    if (!(k in tags)) missing = true;
    return tags[k] ?? '';
  });
  return missing ? undefined : out;
}

export interface TableRequest {
  readonly action: string;
  /** 'table' or the name of an index. */
  readonly target: 'table' | string;
  /** The partition keys the request names (dynamodb:LeadingKeys). */
  readonly leadingKeys: string[];
  /** Session tags of the caller. */
  readonly tags?: Record<string, string>;
}

/**
 * A small, strict evaluator of the Allow statements of one role against a DynamoDB request on
 * the stack's table: enough IAM to prove who can reach which partition. Unknown condition
 * operators make it throw, so a new condition cannot silently pass the tests.
 */
export function allows(s: Synthesized, role: string, req: TableRequest): boolean {
  const tableId = idAt(s, 'Fanorder/Data/Table/Resource');
  const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
  const resourceMatches = (res: Json): boolean => {
    if (res === '*') return true;
    if (req.target === 'table') return JSON.stringify(res) === JSON.stringify(tableArn);
    const join = res?.['Fn::Join'];
    if (!join || JSON.stringify(join[1][0]) !== JSON.stringify(tableArn)) return false;
    const suffix: string = join[1][1];
    return stringLike(suffix, `/index/${req.target}`);
  };
  const actionMatches = (a: string): boolean => stringLike(a, req.action);

  for (const st of statementsOf(s, role)) {
    if (st.Effect === 'Deny') throw new Error('evaluator does not handle Deny statements');
    if (!asArray<string>(st.Action).some(actionMatches)) continue;
    if (!asArray(st.Resource).some(resourceMatches)) continue;
    if (conditionsHold(st.Condition ?? {}, req)) return true;
  }
  return false;
}

function conditionsHold(condition: Json, req: TableRequest): boolean {
  for (const [op, body] of Object.entries<Json>(condition)) {
    for (const [key, expected] of Object.entries<Json>(body)) {
      const tag = key.match(/^aws:PrincipalTag\/(.+)$/)?.[1];
      if (tag !== undefined) {
        if (op !== 'StringLike' || expected !== '?*') throw new Error(`evaluator does not know ${op} ${key}`);
        if (!(req.tags?.[tag] ?? '').length) return false;
        continue;
      }
      if (key !== 'dynamodb:LeadingKeys') throw new Error(`evaluator does not know condition key ${key}`);
      if (op === 'Null') {
        const present = req.leadingKeys.length > 0;
        if ((expected === 'false') !== present) return false;
      } else if (op === 'ForAllValues:StringLike') {
        const patterns = asArray<string>(expected)
          .map((p) => substituteTags(p, req.tags ?? {}))
          .filter((p): p is string => p !== undefined);
        if (!req.leadingKeys.every((k) => patterns.some((p) => stringLike(p, k)))) return false;
      } else {
        throw new Error(`evaluator does not know condition operator ${op}`);
      }
    }
  }
  return true;
}
