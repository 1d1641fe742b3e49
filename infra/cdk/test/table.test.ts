import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { DEFAULT_SCHEMA_PATH, loadTableSchema } from '../lib/schema';
import { ofType, synth, type Synthesized } from './helpers';

const schema = loadTableSchema();

describe('the one table, built from schema/table.json', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth();
  });

  test('there is exactly one table, named after the schema by default', () => {
    expect(ofType(s, 'AWS::DynamoDB::Table')).toHaveLength(1);
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: schema.table_name });
    expect(schema.table_name).toBe('fanorder');
  });

  test('keys: partition key tenant_id (S) and sort key sk (S), as in the schema', () => {
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'tenant_id', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    const defs = ofType(s, 'AWS::DynamoDB::Table')[0][1].Properties.AttributeDefinitions;
    expect(defs).toEqual(
      expect.arrayContaining([
        { AttributeName: schema.partition_key.name, AttributeType: schema.partition_key.type },
        { AttributeName: schema.sort_key!.name, AttributeType: schema.sort_key!.type },
      ]),
    );
  });

  test('every GSI of the schema, with its keys and projection, and no other', () => {
    const gsis = ofType(s, 'AWS::DynamoDB::Table')[0][1].Properties.GlobalSecondaryIndexes;
    expect(gsis.map((g: { IndexName: string }) => g.IndexName)).toEqual(['gsi1', 'gsi2', 'gsi3']);
    for (const g of schema.global_secondary_indexes) {
      s.template.hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: Match.arrayWith([
          {
            IndexName: g.name,
            KeySchema: [
              { AttributeName: g.partition_key.name, KeyType: 'HASH' },
              { AttributeName: g.sort_key!.name, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ]),
      });
    }
    const defs = ofType(s, 'AWS::DynamoDB::Table')[0][1].Properties.AttributeDefinitions;
    expect(defs.map((d: { AttributeName: string }) => d.AttributeName).sort()).toEqual(
      ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'sk', 'tenant_id'],
    );
  });

  test('TTL on expires_at, stream NEW_IMAGE, on-demand billing, point-in-time recovery', () => {
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('deletion protection is on by default, and the table is retained', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('table parameters', () => {
  test('-c deletionProtection=false turns protection off and lets the stack delete the table', () => {
    const s = synth({ deletionProtection: 'false' });
    s.template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
      DeletionPolicy: 'Delete',
    });
    // Point-in-time recovery stays on either way.
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('a stack prop wins over context', () => {
    const s = synth({ deletionProtection: 'false' }, { config: { deletionProtection: true } });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
  });

  test('-c tableName=... names the table and the functions follow it', () => {
    const s = synth({ tableName: 'fanorder-staging' });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'fanorder-staging' });
    const tableId = ofType(s, 'AWS::DynamoDB::Table')[0][0];
    for (const [, fn] of ofType(s, 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.FANORDER_STORE).toEqual({
        'Fn::Join': ['', ['dynamodb:', { Ref: tableId }]],
      });
    }
  });

  test('invalid values are refused with a message naming the parameter', () => {
    expect(() => synth({ deletionProtection: 'maybe' })).toThrow(/deletionProtection/);
    expect(() => synth({ tableName: 'no spaces allowed' })).toThrow(/tableName/);
  });
});

describe('the schema file is read at synth time', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fanorder-schema-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('a changed schema changes the table (keys, indexes, projection, TTL, stream view)', () => {
    const changed = JSON.parse(fs.readFileSync(DEFAULT_SCHEMA_PATH, 'utf8'));
    changed.table_name = 'other';
    changed.ttl_attribute = 'ttl';
    changed.stream_view_type = 'NEW_AND_OLD_IMAGES';
    changed.global_secondary_indexes.push({
      name: 'gsi9',
      partition_key: { name: 'gsi9pk', type: 'S' },
      sort_key: { name: 'gsi9sk', type: 'N' },
      projection: 'KEYS_ONLY',
    });
    const file = path.join(tmp, 'table.json');
    fs.writeFileSync(file, JSON.stringify(changed));
    const s = synth({ schemaPath: file });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'other',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({ IndexName: 'gsi9', Projection: { ProjectionType: 'KEYS_ONLY' } }),
      ]),
      AttributeDefinitions: Match.arrayWith([{ AttributeName: 'gsi9sk', AttributeType: 'N' }]),
    });
  });

  test('a broken schema fails synthesis with the file and the field', () => {
    const file = path.join(tmp, 'broken.json');
    fs.writeFileSync(file, JSON.stringify({ table_name: 'x', partition_key: { name: 'pk', type: 'X' } }));
    expect(() => synth({ schemaPath: file })).toThrow(/broken\.json: partition_key/);
  });
});
