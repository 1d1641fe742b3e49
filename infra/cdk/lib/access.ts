/**
 * Who may touch which partitions of the one table, with which DynamoDB actions.
 *
 * This file is the contract between the stack and the Rust handlers: a handler that needs
 * another action or partition changes it here (and the tests say what changed). Every grant
 * is on the table ARN (and, where listed, its indexes), never on `*`, and every grant carries
 * a `dynamodb:LeadingKeys` condition, so no role can reach every partition.
 *
 * TransactWriteItems / TransactGetItems have no IAM action of their own: each item in a
 * transaction is authorised as the matching PutItem / UpdateItem / DeleteItem /
 * ConditionCheckItem / GetItem (DynamoDB developer guide, "Using IAM with DynamoDB
 * transactions").
 */

/** The session tag that carries the tenant id when the API assumes the tenant access role. */
export const TENANT_TAG = 'tenant';
/** Session tag naming the one slug guard a signup session may claim. */
export const SLUG_TAG = 'slug';
/** Session tag naming the one page route a page connect/disconnect session may write. */
export const PAGE_TAG = 'page';
/** Session tag (value: the tenant id) that lets a session write the tenant directory (PLATFORM). */
export const DIRECTORY_TAG = 'directory';
/** Every session tag key the API may pass when assuming the tenant access role. */
export const SESSION_TAG_KEYS = [TENANT_TAG, SLUG_TAG, PAGE_TAG, DIRECTORY_TAG];

/** Partition-key patterns (IAM StringLike) a tenant session may reach: its own items and index keys. */
export const TENANT_PARTITIONS = [`T#\${aws:PrincipalTag/${TENANT_TAG}}`, `T#\${aws:PrincipalTag/${TENANT_TAG}}#*`];

/** Partitions of every tenant (platform functions only). Index keys `T#<t>#Q#..` match too. */
export const ALL_TENANT_PARTITIONS = ['T#*'];
/** Page routes (`PAGE#<page id>` -> owning tenant). Only the webhook router and the stream processor. */
export const PAGE_ROUTE_PARTITIONS = ['PAGE#*'];
/** Platform partitions the API function itself uses for sign-up, login and readiness. */
export const API_PLATFORM_PARTITIONS = ['SLUG#*', 'PLATFORM', 'PING'];

export type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Query'
  | 'dynamodb:ConditionCheckItem';

/** Which indexes a grant covers: none, all (`index/*`), or the named ones. */
export type IndexScope = 'none' | 'all' | readonly string[];

export interface TableGrant {
  readonly actions: readonly DynamoAction[];
  readonly partitions: readonly string[];
  readonly indexes: IndexScope;
}

const READ_WRITE: readonly DynamoAction[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];

export const TABLE_GRANTS = {
  /**
   * Tenant access role (assumed by the API per request tenant): everything the tenant-scoped
   * routes do, on the table and both indexes, fenced to `T#<tenant>` and `T#<tenant>#*`.
   */
  tenant: { actions: READ_WRITE, partitions: TENANT_PARTITIONS, indexes: 'all' },
  /** API function's own role: sign-up slug guards, platform items, the readiness ping. */
  api: { actions: READ_WRITE, partitions: API_PLATFORM_PARTITIONS, indexes: 'none' },
  /**
   * Webhook router: resolves `PAGE#<id>` routes, stores and dedupes INBOX items, updates
   * message state, and applies payment notifications (order update + history + outbox in one
   * transaction). It deletes nothing and reads no index.
   */
  webhook: {
    actions: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'dynamodb:ConditionCheckItem',
    ],
    partitions: [...PAGE_ROUTE_PARTITIONS, ...ALL_TENANT_PARTITIONS],
    indexes: 'none',
  },
  /**
   * Stream processor: the bot (conversation, menu, cart, order creation through the orders
   * crate) and the outbox relay. Reads page routes; queries both indexes (queues, a
   * customer's orders). Outbox items expire by TTL, so it deletes nothing.
   */
  stream: {
    actions: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'dynamodb:ConditionCheckItem',
    ],
    partitions: [...PAGE_ROUTE_PARTITIONS, ...ALL_TENANT_PARTITIONS],
    indexes: 'all',
  },
  /**
   * Late-order sweep: lists tenants from the PLATFORM partition, queries each tenant's PAID
   * queue on gsi1, marks the order notified and writes an OUTBOX item in one transaction
   * (fanorder_orders::late::sweep). It reads no single item and checks no condition item, and it
   * publishes nothing itself: the `order.late` event reaches SNS through the stream processor.
   */
  schedule: {
    actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
    partitions: [...ALL_TENANT_PARTITIONS, 'PLATFORM'],
    indexes: ['gsi1'],
  },
} as const satisfies Record<string, TableGrant>;

export type GrantName = keyof typeof TABLE_GRANTS;

/** A grant that only a session carrying `requiredTag` (or the tag its partition names) has. */
export interface GuardGrant extends TableGrant {
  readonly sid: string;
  /** A session tag that must be present (StringLike `?*`), besides those the partitions name. */
  readonly requiredTag?: string;
}

/**
 * What the tenant access role may do outside the tenant's partitions, each only in a session
 * tagged for it. Three API transactions write a platform item beside tenant items and must stay
 * one transaction (one set of credentials): signup (the `SLUG#<slug>` guard and the directory
 * entry with the new tenant's items), connecting or disconnecting a page (the `PAGE#<page>`
 * route with `T#<tenant>/PAGE#<page>`), and a profile edit (the directory entry's name). The API
 * assumes the role for those with the extra tags `slug=<slug>`, `page=<page id>` or
 * `directory=<tenant>`, so such a session reaches exactly that slug guard or page route, and an
 * ordinary tenant session (tag `tenant` only) reaches no platform item at all. IAM drops a
 * statement whose policy variable names a tag the session lacks.
 */
export const TENANT_GUARD_GRANTS: readonly GuardGrant[] = [
  {
    sid: 'TenantSlugGuard',
    actions: ['dynamodb:PutItem'],
    partitions: [`SLUG#\${aws:PrincipalTag/${SLUG_TAG}}`],
    indexes: 'none',
  },
  {
    sid: 'TenantPageRoute',
    actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    partitions: [`PAGE#\${aws:PrincipalTag/${PAGE_TAG}}`],
    indexes: 'none',
  },
  {
    sid: 'TenantDirectoryEntry',
    actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
    partitions: ['PLATFORM'],
    indexes: 'none',
    requiredTag: DIRECTORY_TAG,
  },
];

/** Actions on the table's stream needed by the event source mapping (stream processor only). */
export const STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'];
/**
 * ListStreams has no resource-level permission in IAM; AWS's own example policy for a Lambda
 * stream reader scopes it to `table/<name>/stream/*`, which keeps `*` out of every DynamoDB
 * statement. The mapping is created with an explicit stream ARN and never lists streams.
 */
export const STREAM_LIST_ACTIONS = ['dynamodb:ListStreams'];
