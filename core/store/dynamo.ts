import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { BadCursorError, ConflictError, GsmError, NotFoundError, ValidationError } from '../errors.js';
import type { Page, PageRequest } from '../model/index.js';
import { decodeCursor, encodeCursor, type Key, pageLimit, stripInternal } from './keys.js';
import { TABLE } from './table.js';

/** What every entity store needs: the document client and the table name. */
export interface StoreContext {
  readonly documents: DynamoDBDocumentClient;
  readonly table: string;
  /**
   * A low-level client built with `cacheMiddleware` (which the document client refuses), for the
   * conditional single-item updates of the hot write path: the client resolves its middleware
   * once instead of per call: 20-30 % less client CPU per UpdateItem alone, ~7 % less relay CPU
   * per job in the fan-out bench (bench/RESULTS.md). Without it those writes go through
   * `documents` like the rest.
   */
  readonly updates?: DynamoDBClient;
}

export type Item = Record<string, unknown>;

export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

/** Condition parts, joined by the callers; names are always `#`-aliased. */
export const CONDITION = {
  exists: `attribute_exists(#pk)`,
  notExists: `attribute_not_exists(#pk)`,
} as const;
export const PK_NAME = { '#pk': TABLE.partitionKey } as const;

/** Input validation at the store boundary: zod issues become a ValidationError naming each field. */
export const validate = <S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(
    `invalid ${what}`,
    result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    { cause: result.error },
  );
};

/** Stored records are validated on the way out too: a bad item is a bug, not a client error. */
export const toRecord = <S extends z.ZodType>(schema: S, item: Item, what: string): z.infer<S> => {
  const result = schema.safeParse(stripInternal(item));
  if (result.success) return result.data;
  throw new GsmError('E_INTERNAL', `stored ${what} does not match its schema`, { cause: result.error });
};

export const getItem = async (ctx: StoreContext, key: Key): Promise<Item | undefined> => {
  const out = await ctx.documents.send(
    new GetCommand({ TableName: ctx.table, Key: key, ConsistentRead: true }),
  );
  return out.Item;
};

/** DynamoDB's limit on keys in one BatchGetItem. */
const BATCH_GET_MAX = 100;
const BATCH_GET_ATTEMPTS = 8;

/**
 * Many items by key in as few round trips as DynamoDB allows (100 keys a call, the calls in
 * parallel), consistent reads; keys with no item are simply absent from the answer.
 * Unprocessed keys are throttling, not failure: sent again after a short, growing pause.
 */
export const getItems = async (ctx: StoreContext, keys: readonly Key[]): Promise<Item[]> => {
  const found: Item[] = [];
  const readBatch = async (batch: Key[]) => {
    let pending: Key[] | undefined = batch;
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt === BATCH_GET_ATTEMPTS)
        throw new GsmError('E_UNAVAILABLE', 'items could not be read; try again');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
      const out: BatchGetCommandOutput = await ctx.documents.send(
        new BatchGetCommand({ RequestItems: { [ctx.table]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...(out.Responses?.[ctx.table] ?? []));
      pending = out.UnprocessedKeys?.[ctx.table]?.Keys as Key[] | undefined;
    }
  };
  const batches: Key[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) batches.push(keys.slice(i, i + BATCH_GET_MAX));
  await Promise.all(batches.map(readBatch));
  return found;
};

export const putNew = async (ctx: StoreContext, item: Item, conflictMessage: string): Promise<void> => {
  try {
    await ctx.documents.send(
      new PutCommand({
        TableName: ctx.table,
        Item: item,
        ConditionExpression: CONDITION.notExists,
        ExpressionAttributeNames: PK_NAME,
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new ConflictError(conflictMessage, { cause: error });
    throw error;
  }
};

export const deleteExisting = async (
  ctx: StoreContext,
  key: Key,
  kind: string,
  id: string,
): Promise<void> => {
  try {
    await ctx.documents.send(
      new DeleteCommand({
        TableName: ctx.table,
        Key: key,
        ConditionExpression: CONDITION.exists,
        ExpressionAttributeNames: PK_NAME,
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError(kind, id, { cause: error });
    throw error;
  }
};

export interface IndexQuery {
  readonly index: (typeof TABLE.indexes)[number];
  readonly partition: string;
  /** An extra condition on the index sort key, e.g. `begins_with(#sk, :prefix)`; use `#sk`. */
  readonly sortCondition?: string;
  readonly filter?: string;
  readonly names?: Record<string, string>;
  readonly values?: Record<string, unknown>;
  readonly newestFirst?: boolean;
  /** What every index sort key in range starts with: a cursor outside it is refused. */
  readonly sortPrefix?: string;
}

/**
 * One page of an index query. It reads one item more than asked so `next` is null on the
 * last page, and with a filter (applied by DynamoDB after `Limit`) it keeps reading until the
 * page is full or the index is exhausted. The cursor is the key of the last item returned,
 * so the next page starts right after it whatever the filter skipped.
 */
export const queryPage = async (ctx: StoreContext, query: IndexQuery, page: PageRequest = {}) => {
  const limit = pageLimit(page.limit);
  const { index } = query;
  const keyAttributes = [TABLE.partitionKey, TABLE.sortKey, index.partitionKey, index.sortKey];
  const partition = { [index.partitionKey]: query.partition };
  let start: Key | undefined = page.cursor
    ? decodeCursor(page.cursor, { attributes: keyAttributes, partition })
    : undefined;
  if (start && query.sortPrefix && !start[index.sortKey]?.startsWith(query.sortPrefix)) {
    throw new BadCursorError();
  }
  const collected: Item[] = [];
  for (;;) {
    const need = limit - collected.length;
    const input: QueryCommandInput = {
      TableName: ctx.table,
      IndexName: index.name,
      KeyConditionExpression: ['#ipk = :ipk', query.sortCondition].filter(Boolean).join(' AND '),
      ExpressionAttributeNames: {
        '#ipk': index.partitionKey,
        ...(query.sortCondition ? { '#sk': index.sortKey } : {}),
        ...query.names,
      },
      ExpressionAttributeValues: { ':ipk': query.partition, ...query.values },
      Limit: query.filter ? Math.max(need + 1, 100) : need + 1,
      ScanIndexForward: !query.newestFirst,
      ExclusiveStartKey: start,
      FilterExpression: query.filter,
    };
    const out = await ctx.documents.send(new QueryCommand(input));
    collected.push(...(out.Items ?? []));
    if (collected.length > limit) {
      const items = collected.slice(0, limit);
      const last = items[items.length - 1] as Item;
      const cursor = Object.fromEntries(keyAttributes.map((name) => [name, String(last[name])]));
      return { items, next: encodeCursor(cursor) };
    }
    if (!out.LastEvaluatedKey) return { items: collected, next: null };
    start = out.LastEvaluatedKey as Key;
  }
};

export const mapPage = <T>(
  page: { items: Item[]; next: string | null },
  map: (item: Item) => T,
): Page<T> => ({
  items: page.items.map(map),
  next: page.next,
});
