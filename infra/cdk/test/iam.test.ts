import { TABLE_GRANTS } from '../lib/access';
import {
  FUNCTIONS,
  allIdentityStatements,
  allows,
  asArray,
  idAt,
  ofType,
  roleId,
  statementsOf,
  synth,
  type Fn,
  type Json,
  type Synthesized,
} from './helpers';

const ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];

describe('IAM: least privilege and tenant isolation', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth();
  });

  const actionsOf = (role: string): string[] =>
    [...new Set(statementsOf(s, role).flatMap((st: Json) => asArray<string>(st.Action)))].sort();

  test('no identity statement anywhere has Resource "*", and none names a DynamoDB wildcard action', () => {
    const all = allIdentityStatements(s);
    expect(all.length).toBeGreaterThan(10);
    for (const { statement, source } of all) {
      expect({ source, resources: asArray(statement.Resource).filter((r) => r === '*') }).toEqual({ source, resources: [] });
      for (const a of asArray<string>(statement.Action)) expect(a).not.toMatch(/^dynamodb:\*$|^\*$/);
    }
  });

  test('every statement with a DynamoDB item action is on the table or its indexes and fenced by LeadingKeys', () => {
    const tableArn = { 'Fn::GetAtt': [idAt(s, 'Fanorder/Data/Table/Resource'), 'Arn'] };
    let seen = 0;
    for (const { statement } of allIdentityStatements(s)) {
      const actions = asArray<string>(statement.Action);
      if (!actions.some((a) => ITEM_ACTIONS.includes(a))) continue;
      seen++;
      for (const r of asArray<Json>(statement.Resource)) {
        const ok = JSON.stringify(r) === JSON.stringify(tableArn) || JSON.stringify(r['Fn::Join']?.[1]?.[0]) === JSON.stringify(tableArn);
        expect(ok).toBe(true);
      }
      expect(statement.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'].length).toBeGreaterThan(0);
      expect(statement.Condition.Null).toEqual({ 'dynamodb:LeadingKeys': 'false' });
    }
    expect(seen).toBe(8); // tenant role (its items + three guards) + four functions
  });

  test('the tenant access role: LeadingKeys limited to T#<tenant tag> and T#<tenant tag>#*', () => {
    const st = statementsOf(s, roleId(s, 'TenantAccessRole')).filter((x: Json) => x.Sid === 'TenantItems');
    expect(st).toHaveLength(1);
    expect(st[0].Condition['ForAllValues:StringLike']).toEqual({
      'dynamodb:LeadingKeys': ['T#${aws:PrincipalTag/tenant}', 'T#${aws:PrincipalTag/tenant}#*'],
    });
    expect(asArray(st[0].Action).sort()).toEqual([...ITEM_ACTIONS].sort());
  });

  test('the tenant access role can be assumed only by the api role, with a tenant session tag', () => {
    const trust = s.resources[roleId(s, 'TenantAccessRole')].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Principal: { AWS: { 'Fn::GetAtt': [roleId(s, 'Api'), 'Arn'] } },
        Condition: {
          StringLike: { 'aws:RequestTag/tenant': '?*' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['tenant', 'slug', 'page', 'directory'] },
        },
      },
    ]);
    expect(s.resources[roleId(s, 'TenantAccessRole')].Properties.MaxSessionDuration).toBe(3600);
    // Only the api role may call AssumeRole / TagSession, and only on this role.
    const tenantArn = { 'Fn::GetAtt': [roleId(s, 'TenantAccessRole'), 'Arn'] };
    for (const { roles, statement } of allIdentityStatements(s)) {
      const sts = asArray<string>(statement.Action).filter((a) => a.startsWith('sts:'));
      if (sts.length === 0) continue;
      expect(roles).toEqual([roleId(s, 'Api')]);
      expect(sts.sort()).toEqual(['sts:AssumeRole', 'sts:TagSession']);
      expect(statement.Resource).toEqual(tenantArn);
    }
  });

  describe('who can reach which partition', () => {
    const get = (key: string, tags?: Record<string, string>) => ({ action: 'dynamodb:GetItem', target: 'table', leadingKeys: [key], tags });

    test('a tenant session reaches its own partition and index keys, and nothing else', () => {
      const tenant = roleId(s, 'TenantAccessRole');
      const tags = { tenant: '01HZTENANTA' };
      expect(allows(s, tenant, get('T#01HZTENANTA', tags))).toBe(true);
      for (const action of ITEM_ACTIONS) {
        expect(allows(s, tenant, { action, target: 'table', leadingKeys: ['T#01HZTENANTA'], tags })).toBe(true);
      }
      expect(allows(s, tenant, { action: 'dynamodb:Query', target: 'gsi1', leadingKeys: ['T#01HZTENANTA#Q#PAID'], tags })).toBe(true);
      expect(allows(s, tenant, { action: 'dynamodb:Query', target: 'gsi2', leadingKeys: ['T#01HZTENANTA#C#01HZCUST'], tags })).toBe(true);

      // Another tenant, including one whose id starts with ours, and every platform partition.
      for (const key of ['T#01HZTENANTB', 'T#01HZTENANTAB', 'T#01HZTENANTB#Q#PAID', 'PAGE#1234', 'SLUG#pizza', 'PLATFORM', 'PING']) {
        expect(allows(s, tenant, get(key, tags))).toBe(false);
      }
      expect(allows(s, tenant, { action: 'dynamodb:Query', target: 'gsi1', leadingKeys: ['T#01HZTENANTB#Q#PAID'], tags })).toBe(false);
      // A request that names one foreign key among its own is refused (ForAllValues).
      expect(allows(s, tenant, { action: 'dynamodb:GetItem', target: 'table', leadingKeys: ['T#01HZTENANTA', 'T#01HZTENANTB'], tags })).toBe(false);
      // A request naming no partition at all is refused (the Null guard).
      expect(allows(s, tenant, { action: 'dynamodb:Query', target: 'table', leadingKeys: [], tags })).toBe(false);
      // Without the tenant tag nothing matches.
      expect(allows(s, tenant, get('T#01HZTENANTA', {}))).toBe(false);
      // Scan is never granted.
      expect(allows(s, tenant, { action: 'dynamodb:Scan', target: 'table', leadingKeys: ['T#01HZTENANTA'], tags })).toBe(false);
    });

    test('a tenant session tagged for a guard reaches exactly that slug, page route or directory, and only to write', () => {
      const tenant = roleId(s, 'TenantAccessRole');
      const req = (action: string, key: string, tags: Record<string, string>) =>
        allows(s, tenant, { action: `dynamodb:${action}`, target: 'table', leadingKeys: [key], tags });
      const t = '01HZTENANTA';
      // An ordinary tenant session reaches no platform item.
      for (const key of ['SLUG#pizza', 'PAGE#1234', 'PLATFORM']) {
        for (const action of ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem']) {
          expect(req(action, key, { tenant: t })).toBe(false);
        }
      }
      // Signup: its own slug guard (put only) and the directory, beside its own items.
      const signup = { tenant: t, slug: 'pizza', directory: t };
      expect(req('PutItem', 'SLUG#pizza', signup)).toBe(true);
      expect(req('PutItem', 'T#01HZTENANTA', signup)).toBe(true);
      expect(req('PutItem', 'PLATFORM', signup)).toBe(true);
      expect(req('PutItem', 'SLUG#pasta', signup)).toBe(false);
      expect(req('DeleteItem', 'SLUG#pizza', signup)).toBe(false);
      expect(req('GetItem', 'PLATFORM', signup)).toBe(false);
      expect(req('PutItem', 'PAGE#1234', signup)).toBe(false);
      // Page connect/disconnect: that page's route only.
      const page = { tenant: t, page: '1234' };
      expect(req('PutItem', 'PAGE#1234', page)).toBe(true);
      expect(req('DeleteItem', 'PAGE#1234', page)).toBe(true);
      expect(req('PutItem', 'PAGE#12345', page)).toBe(false);
      expect(req('GetItem', 'PAGE#1234', page)).toBe(false);
      expect(req('UpdateItem', 'PLATFORM', page)).toBe(false);
      // Profile edit: the directory (update), never another tenant.
      const profile = { tenant: t, directory: t };
      expect(req('UpdateItem', 'PLATFORM', profile)).toBe(true);
      expect(req('DeleteItem', 'PLATFORM', profile)).toBe(false);
      expect(req('UpdateItem', 'T#01HZTENANTB', profile)).toBe(false);
    });

    test('the api function role reaches SLUG#, PLATFORM and PING only: no page route, no tenant item', () => {
      const api = roleId(s, 'Api');
      for (const key of ['SLUG#pizza-place', 'PLATFORM', 'PING']) expect(allows(s, api, get(key))).toBe(true);
      for (const key of ['PAGE#1234', 'T#01HZTENANTA', 'T#01HZTENANTA#Q#PAID', 'PLATFORMX', 'PINGPONG']) {
        for (const action of ITEM_ACTIONS) {
          expect(allows(s, api, { action, target: 'table', leadingKeys: [key] })).toBe(false);
        }
      }
      expect(allows(s, api, { action: 'dynamodb:Query', target: 'gsi1', leadingKeys: ['SLUG#x'] })).toBe(false);
    });

    test('only the webhook and stream roles can read page routes', () => {
      const canReadPage = (who: Fn | 'TenantAccessRole'): boolean =>
        allows(s, roleId(s, who), get('PAGE#1234', { tenant: '1234' }));
      expect(canReadPage('Webhook')).toBe(true);
      expect(canReadPage('Stream')).toBe(true);
      expect(canReadPage('Api')).toBe(false);
      expect(canReadPage('Schedule')).toBe(false);
      expect(canReadPage('TenantAccessRole')).toBe(false);
      for (const [id] of ofType(s, 'AWS::IAM::Role')) {
        if (![roleId(s, 'Webhook'), roleId(s, 'Stream')].includes(id)) {
          expect(allows(s, id, get('PAGE#1234', { tenant: '1234' }))).toBe(false);
        }
      }
    });

    test('platform functions reach every tenant; none reaches SLUG# guards; the sweep reads gsi1 only', () => {
      for (const fn of ['Webhook', 'Stream'] as const) {
        expect(allows(s, roleId(s, fn), get('T#01HZTENANTA'))).toBe(true);
        expect(allows(s, roleId(s, fn), get('SLUG#pizza'))).toBe(false);
      }
      // The sweep: the directory and each PAID queue by Query, the order and its outbox item
      // by UpdateItem and PutItem (one transaction); it reads no single item.
      const sched = roleId(s, 'Schedule');
      const query = (target: string, key: string) =>
        allows(s, sched, { action: 'dynamodb:Query', target, leadingKeys: [key] });
      expect(query('gsi1', 'T#A#Q#PAID')).toBe(true);
      expect(query('gsi2', 'T#A#C#x')).toBe(false);
      expect(query('table', 'PLATFORM')).toBe(true);
      for (const action of ['dynamodb:UpdateItem', 'dynamodb:PutItem']) {
        expect(allows(s, sched, { action, target: 'table', leadingKeys: ['T#01HZTENANTA'] })).toBe(true);
      }
      expect(allows(s, sched, get('T#01HZTENANTA'))).toBe(false);
      expect(allows(s, sched, get('SLUG#pizza'))).toBe(false);
      expect(allows(s, roleId(s, 'Webhook'), { action: 'dynamodb:Query', target: 'gsi1', leadingKeys: ['T#A#Q#PAID'] })).toBe(false);
      expect(allows(s, roleId(s, 'Stream'), { action: 'dynamodb:Query', target: 'gsi2', leadingKeys: ['T#A#C#x'] })).toBe(true);
      // Nobody but the tenant role and the api role may delete items.
      for (const fn of ['Webhook', 'Stream', 'Schedule'] as const) {
        expect(allows(s, roleId(s, fn), { action: 'dynamodb:DeleteItem', target: 'table', leadingKeys: ['T#A'] })).toBe(false);
      }
    });
  });

  test('each role gets exactly the actions it uses', () => {
    const dynamo = (g: keyof typeof TABLE_GRANTS): string[] => [...TABLE_GRANTS[g].actions];
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    const secret = ['secretsmanager:GetSecretValue'];
    const expected: Record<Fn | 'TenantAccessRole', string[]> = {
      Api: [...logs, ...secret, ...dynamo('api'), 'sts:AssumeRole', 'sts:TagSession'],
      Webhook: [...logs, ...secret, ...dynamo('webhook')],
      Stream: [
        ...logs,
        ...secret,
        ...dynamo('stream'),
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
        'events:PutEvents',
        'sns:Publish',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ],
      Schedule: [...logs, ...secret, ...dynamo('schedule')],
      TenantAccessRole: dynamo('tenant'),
    };
    for (const [who, actions] of Object.entries(expected) as [Fn | 'TenantAccessRole', string[]][]) {
      expect({ who, actions: actionsOf(roleId(s, who)) }).toEqual({ who, actions: [...new Set(actions)].sort() });
    }
  });

  test('non-table grants are on one resource each: own log group, the bus, the staff topic, the DLQ, the stream', () => {
    const ids = {
      bus: idAt(s, 'Fanorder/EventBus/Resource'),
      staff: idAt(s, 'Fanorder/StaffTopic/Resource'),
      dlq: idAt(s, 'Fanorder/StreamDlq/Resource'),
      table: idAt(s, 'Fanorder/Data/Table/Resource'),
    };
    for (const fn of FUNCTIONS) {
      const logGroup = idAt(s, `Fanorder/${fn}/LogGroup/Resource`);
      for (const st of statementsOf(s, roleId(s, fn))) {
        const actions = asArray<string>(st.Action);
        if (actions.some((a) => a.startsWith('logs:'))) expect(st.Resource).toEqual({ 'Fn::GetAtt': [logGroup, 'Arn'] });
        if (actions.includes('events:PutEvents')) expect(st.Resource).toEqual({ 'Fn::GetAtt': [ids.bus, 'Arn'] });
        if (actions.includes('sns:Publish')) expect(st.Resource).toEqual({ Ref: ids.staff });
        if (actions.some((a) => a.startsWith('sqs:'))) expect(st.Resource).toEqual({ 'Fn::GetAtt': [ids.dlq, 'Arn'] });
        if (actions.includes('dynamodb:GetRecords')) expect(st.Resource).toEqual({ 'Fn::GetAtt': [ids.table, 'StreamArn'] });
        if (actions.includes('dynamodb:ListStreams')) {
          expect(st.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.table, 'Arn'] }, '/stream/*']] });
        }
      }
    }
  });

  test('the secret: GetSecretValue on that one secret, for the four functions, and no other Secrets Manager action', () => {
    const secretRef = { Ref: idAt(s, 'Fanorder/AppSecret/Resource') };
    const holders: string[] = [];
    for (const { roles, statement } of allIdentityStatements(s)) {
      const sm = asArray<string>(statement.Action).filter((a) => a.startsWith('secretsmanager:'));
      if (sm.length === 0) continue;
      expect(sm).toEqual(['secretsmanager:GetSecretValue']);
      expect(statement.Resource).toEqual(secretRef);
      holders.push(...roles);
    }
    expect(holders.sort()).toEqual(FUNCTIONS.map((fn) => roleId(s, fn)).sort());
    // No resource policy opens the secret to anyone else.
    expect(ofType(s, 'AWS::SecretsManager::ResourcePolicy')).toHaveLength(0);
  });
});
