import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The one table as data: `schema/table.json` at the repository root. The same file drives
 * `fanorder migrate` and the embedded SQLite adapter, so the three never disagree.
 */
export const DEFAULT_SCHEMA_PATH = path.resolve(__dirname, '..', '..', '..', 'schema', 'table.json');

export type KeyType = 'S' | 'N' | 'B';
export type StreamView = 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';
export type BillingMode = 'PAY_PER_REQUEST' | 'PROVISIONED';

export interface KeyDef {
  readonly name: string;
  readonly type: KeyType;
}

export type Projection = 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };

export interface IndexDef {
  readonly name: string;
  readonly partition_key: KeyDef;
  readonly sort_key?: KeyDef;
  readonly projection: Projection;
}

export interface TableSchema {
  readonly table_name: string;
  readonly partition_key: KeyDef;
  readonly sort_key?: KeyDef;
  readonly global_secondary_indexes: readonly IndexDef[];
  readonly ttl_attribute?: string;
  readonly stream_view_type?: StreamView;
  readonly billing_mode: BillingMode;
}

const KEY_TYPES = new Set(['S', 'N', 'B']);
const STREAM_VIEWS = new Set(['NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES', 'KEYS_ONLY']);

function fail(file: string, msg: string): never {
  throw new Error(`${file}: ${msg}`);
}

function key(file: string, where: string, v: unknown): KeyDef {
  const k = v as Partial<KeyDef> | undefined;
  if (!k || typeof k.name !== 'string' || k.name === '' || !KEY_TYPES.has(String(k.type))) {
    fail(file, `${where} must be {"name": <string>, "type": "S"|"N"|"B"}`);
  }
  return { name: k.name, type: k.type as KeyType };
}

function projection(file: string, where: string, v: unknown): Projection {
  if (v === undefined || v === 'ALL') return 'ALL';
  if (v === 'KEYS_ONLY') return 'KEYS_ONLY';
  const inc = (v as { include?: unknown })?.include;
  if (Array.isArray(inc) && inc.every((a) => typeof a === 'string')) return { include: inc };
  return fail(file, `${where}.projection must be "ALL", "KEYS_ONLY" or {"include": [..]}`);
}

/** Reads and validates the table schema; throws a message naming the file and the field. */
export function loadTableSchema(file: string = DEFAULT_SCHEMA_PATH): TableSchema {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(file, `cannot read the table schema: ${(e as Error).message}`);
  }
  if (typeof raw.table_name !== 'string' || raw.table_name === '') fail(file, 'table_name must be a string');
  const gsis = (raw.global_secondary_indexes ?? []) as unknown[];
  if (!Array.isArray(gsis)) fail(file, 'global_secondary_indexes must be an array');
  const stream = raw.stream_view_type;
  if (stream !== undefined && !STREAM_VIEWS.has(String(stream))) fail(file, `unknown stream_view_type ${String(stream)}`);
  const billing = raw.billing_mode ?? 'PAY_PER_REQUEST';
  if (billing !== 'PAY_PER_REQUEST' && billing !== 'PROVISIONED') fail(file, `unknown billing_mode ${String(billing)}`);
  if (raw.ttl_attribute !== undefined && typeof raw.ttl_attribute !== 'string') fail(file, 'ttl_attribute must be a string');
  return {
    table_name: raw.table_name as string,
    partition_key: key(file, 'partition_key', raw.partition_key),
    sort_key: raw.sort_key === undefined ? undefined : key(file, 'sort_key', raw.sort_key),
    global_secondary_indexes: gsis.map((g, i) => {
      const gi = g as Record<string, unknown>;
      if (typeof gi.name !== 'string' || gi.name === '') fail(file, `global_secondary_indexes[${i}].name must be a string`);
      const where = `global_secondary_indexes[${i}]`;
      return {
        name: gi.name as string,
        partition_key: key(file, `${where}.partition_key`, gi.partition_key),
        sort_key: gi.sort_key === undefined ? undefined : key(file, `${where}.sort_key`, gi.sort_key),
        projection: projection(file, where, gi.projection),
      };
    }),
    ttl_attribute: raw.ttl_attribute as string | undefined,
    stream_view_type: stream as StreamView | undefined,
    billing_mode: billing as BillingMode,
  };
}
