import { BadCursorError } from '../errors.js';
import { TABLE } from './table.js';

/** A DynamoDB primary or index key, as the document client reads and writes it. */
export type Key = Record<string, string>;

/**
 * Attributes the store adds to every item for its own use (keys, index keys, write guards).
 * They are stripped before a record is validated and handed out.
 */
export const INTERNAL_ATTRIBUTES: readonly string[] = [
  TABLE.partitionKey,
  TABLE.sortKey,
  ...TABLE.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  'logRev',
];

export const ENTITY = {
  game: 'GAME',
  host: 'HOST',
  origin: 'ORIGIN',
  package: 'PACKAGE',
  release: 'RELEASE',
  job: 'JOB',
  apiKey: 'APIKEY',
  counters: 'COUNTERS',
  action: 'ACTION',
  /** A client's Idempotency-Key, pointing at the record its first request made. */
  idempotency: 'IDEMPOTENCY',
} as const;
export type Entity = (typeof ENTITY)[keyof typeof ENTITY];

/** Every record is alone in its partition: `<TYPE>#<id>` / `<TYPE>`. */
export const itemKey = (entity: Entity, id: string): Key => ({
  [TABLE.partitionKey]: `${entity}#${id}`,
  [TABLE.sortKey]: entity,
});

export const byTypeKeys = (entity: Entity, sortKey: string): Key => ({ gsi1pk: entity, gsi1sk: sortKey });

export const jobIndexKeys = (job: {
  id: string;
  parentId: string;
  hostId: string;
  state: string;
  createdAt: string;
  stateChangedAt: string;
}): Key => ({
  gsi2pk: `JOBS#${job.parentId}`,
  gsi2sk: `${job.hostId}#${job.id}`,
  gsi3pk: `JOBS#${job.hostId}`,
  gsi3sk: `${job.createdAt}#${job.id}`,
  ...jobStateKeys(job.state, job.stateChangedAt, job.id),
});

/** byState orders a state's jobs by when they entered it, so the longest stuck come first. */
export const jobStateKeys = (state: string, changedAt: string, id: string): Key => ({
  gsi4pk: `JOBS#${state}`,
  gsi4sk: `${changedAt}#${id}`,
});

export const stripInternal = (item: Record<string, unknown>): Record<string, unknown> => {
  const record: Record<string, unknown> = { ...item };
  for (const name of INTERNAL_ATTRIBUTES) delete record[name];
  return record;
};

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export const pageLimit = (limit: number | undefined): number => {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit)));
};

/** Cursors are opaque to callers: base64url JSON of the key to resume after. */
export const encodeCursor = (key: Key): string => Buffer.from(JSON.stringify(key)).toString('base64url');

/**
 * Decodes a cursor for one particular query: it must name exactly that index's key
 * attributes and belong to the same partition, so a cursor from another list is refused
 * rather than silently resuming somewhere else.
 */
export const decodeCursor = (
  cursor: string,
  expect: { attributes: readonly string[]; partition: Key },
): Key => {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor) || cursor.length > 2048) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new BadCursorError({ cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadCursorError();
  const entries = Object.entries(parsed);
  const names = entries.map(([name]) => name).sort();
  const expected = [...expect.attributes].sort();
  const sameShape =
    names.length === expected.length &&
    names.every((name, i) => name === expected[i]) &&
    entries.every(([, value]) => typeof value === 'string' && value.length > 0 && value.length <= 1024);
  if (!sameShape) throw new BadCursorError();
  const key = parsed as Key;
  if (Object.entries(expect.partition).some(([name, value]) => key[name] !== value)) {
    throw new BadCursorError();
  }
  return key;
};
