import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { KeyDef, Projection, StreamView, TableSchema } from '../schema';

const ATTRIBUTE_TYPES: Record<KeyDef['type'], dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

const STREAM_VIEWS: Record<StreamView, dynamodb.StreamViewType> = {
  NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE,
  OLD_IMAGE: dynamodb.StreamViewType.OLD_IMAGE,
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  KEYS_ONLY: dynamodb.StreamViewType.KEYS_ONLY,
};

function attr(k: KeyDef): dynamodb.Attribute {
  return { name: k.name, type: ATTRIBUTE_TYPES[k.type] };
}

function projection(p: Projection): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> {
  if (p === 'ALL') return { projectionType: dynamodb.ProjectionType.ALL };
  if (p === 'KEYS_ONLY') return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...p.include] };
}

export interface SchemaTableProps {
  readonly schema: TableSchema;
  readonly tableName: string;
  readonly deletionProtection: boolean;
}

/**
 * The one table, declared from schema/table.json: keys, GSIs with their projections, TTL,
 * stream view and billing mode come from the file; point-in-time recovery is always on;
 * deletion protection (and RETAIN) is a deployment choice.
 */
export class SchemaTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: SchemaTableProps) {
    super(scope, id);
    const { schema } = props;
    if (schema.billing_mode !== 'PAY_PER_REQUEST') {
      throw new Error(
        `billing_mode ${schema.billing_mode} needs capacities that schema/table.json does not hold; ` +
          'fanorder deploys PAY_PER_REQUEST',
      );
    }
    if (!schema.stream_view_type) {
      throw new Error('schema/table.json has no stream_view_type: the outbox relay reads the stream');
    }

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: attr(schema.partition_key),
      sortKey: schema.sort_key ? attr(schema.sort_key) : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: STREAM_VIEWS[schema.stream_view_type],
      timeToLiveAttribute: schema.ttl_attribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection,
      removalPolicy: props.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    for (const gsi of schema.global_secondary_indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.name,
        partitionKey: attr(gsi.partition_key),
        sortKey: gsi.sort_key ? attr(gsi.sort_key) : undefined,
        ...projection(gsi.projection),
      });
    }
  }
}
