import { randomUUID } from 'node:crypto';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { getItems, type Item, isConditionFailure, type StoreContext } from './dynamo.js';
import type { Key } from './keys.js';
import { TABLE } from './table.js';

/** DynamoDB's per-call limits: items per TransactWriteItems and BatchGetItem, bytes per request (4 MB, with room). */
const TRANSACT_MAX_ITEMS = 100;
const TRANSACT_MAX_BYTES = 3 * 1024 * 1024;
const BATCH_GET_MAX = 100;
/**
 * Batch calls of one kind in flight at once. What arrives while they are out waits and leaves
 * as the next batch, so batches grow with the load instead of one call per write.
 */
const IN_FLIGHT = 4;

/** As the document client marshals (core/aws.ts), so both paths store the same item. */
const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

/** One conditional UpdateItem; the table is the store's. */
export interface ConditionalUpdate {
  readonly Key: Key;
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
}

/** `written: false`: the condition did not hold and nothing was written. `item`: the record after the write, when asked and at hand. */
export type UpdateResult = { written: false } | { written: true; item?: Item };

interface Pending<T, R> {
  readonly input: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects calls made while earlier batches are in flight (and within one turn of the event
 * loop) and hands them to `run` together; `take` says how many of the queue fit in one batch.
 */
class Coalescer<T, R> {
  readonly #run: (batch: Pending<T, R>[]) => Promise<void>;
  readonly #take: (queue: readonly Pending<T, R>[]) => number;
  readonly #queue: Pending<T, R>[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    run: (batch: Pending<T, R>[]) => Promise<void>,
    take: (queue: readonly Pending<T, R>[]) => number,
  ) {
    this.#run = run;
    this.#take = take;
  }

  push(input: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= IN_FLIGHT || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inFlight < IN_FLIGHT && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, Math.max(1, this.#take(this.#queue)));
      this.#inFlight += 1;
      this.#run(batch)
        .catch((error: unknown) => {
          for (const pending of batch) pending.reject(error);
        })
        .finally(() => {
          this.#inFlight -= 1;
          this.#schedule();
        });
    }
  }
}

const keyText = (key: Readonly<Record<string, unknown>>): string =>
  `${String(key[TABLE.partitionKey])}\n${String(key[TABLE.sortKey])}`;

const errorName = (error: unknown): string | undefined =>
  error instanceof Error ? error.name : (error as { name?: string } | undefined)?.name;

/**
 * Conditional updates and consistent reads of one table, batched under load: concurrent
 * updates go out as one TransactWriteItems (each keeps its own condition, and each caller
 * learns whether its own condition held), concurrent reads as one BatchGetItem. A lone call,
 * and every call against a DynamoDB without transactions (dynalite), is a plain UpdateItem.
 */
export class WriteBatcher {
  readonly #ctx: StoreContext;
  /** Unknown until the first batch: dynalite answers TransactWriteItems with UnknownOperationException. */
  #transactions: boolean | undefined;
  readonly #updates: Coalescer<{ update: ConditionalUpdate; returnNew: boolean }, UpdateResult>;
  readonly #reads: Coalescer<Key, Item | undefined>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#updates = new Coalescer(
      (batch) => this.#writeBatch(batch),
      (queue) => {
        const keys = new Set<string>();
        let bytes = 0;
        let n = 0;
        for (const { input } of queue) {
          // One transaction may touch an item only once; a second write to it waits for the next batch.
          const key = keyText(input.update.Key);
          bytes += JSON.stringify(input.update.ExpressionAttributeValues ?? {}).length + 512;
          if (n === TRANSACT_MAX_ITEMS || keys.has(key) || (n > 0 && bytes > TRANSACT_MAX_BYTES)) break;
          keys.add(key);
          n += 1;
        }
        return n;
      },
    );
    this.#reads = new Coalescer(
      (batch) => this.#readBatch(batch),
      (queue) => Math.min(queue.length, BATCH_GET_MAX),
    );
  }

  /** Writes `update` if its condition holds. */
  update(update: ConditionalUpdate, { returnNew = false } = {}): Promise<UpdateResult> {
    if (this.#transactions === false) return this.#single(update, returnNew);
    return this.#updates.push({ update, returnNew });
  }

  /** A consistent read of one item. */
  get(key: Key): Promise<Item | undefined> {
    return this.#reads.push(key);
  }

  async #single(update: ConditionalUpdate, returnNew: boolean): Promise<UpdateResult> {
    try {
      if (this.#ctx.updates) {
        const out = await this.#ctx.updates.send(
          new UpdateItemCommand({
            TableName: this.#ctx.table,
            Key: marshall(update.Key, MARSHALL),
            UpdateExpression: update.UpdateExpression,
            ConditionExpression: update.ConditionExpression,
            ExpressionAttributeNames: update.ExpressionAttributeNames,
            ExpressionAttributeValues: marshall(update.ExpressionAttributeValues, MARSHALL),
            ...(returnNew ? { ReturnValues: 'ALL_NEW' } : {}),
          }),
        );
        return out.Attributes ? { written: true, item: unmarshall(out.Attributes) } : { written: true };
      }
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          ...update,
          TableName: this.#ctx.table,
          ...(returnNew ? { ReturnValues: 'ALL_NEW' } : {}),
        }),
      );
      return out.Attributes ? { written: true, item: out.Attributes } : { written: true };
    } catch (error) {
      if (isConditionFailure(error)) return { written: false };
      throw error;
    }
  }

  async #writeBatch(
    batch: Pending<{ update: ConditionalUpdate; returnNew: boolean }, UpdateResult>[],
  ): Promise<void> {
    const singly = (pendings: typeof batch) =>
      Promise.all(
        pendings.map(({ input, resolve, reject }) =>
          this.#single(input.update, input.returnNew).then(resolve, reject),
        ),
      );
    if (batch.length === 1 || this.#transactions === false) {
      await singly(batch);
      return;
    }
    try {
      await this.#ctx.documents.send(
        new TransactWriteCommand({
          // The SDK's retry of a transaction that did commit then succeeds instead of failing its conditions.
          ClientRequestToken: randomUUID(),
          TransactItems: batch.map(({ input }) => ({
            Update: { ...input.update, TableName: this.#ctx.table },
          })),
        }),
      );
      this.#transactions = true;
      for (const { resolve } of batch) resolve({ written: true });
    } catch (error) {
      const name = errorName(error);
      if (name === 'UnknownOperationException') {
        this.#transactions = false;
        await singly(batch);
        return;
      }
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if (name !== 'TransactionCanceledException' || reasons?.length !== batch.length) throw error;
      this.#transactions = true;
      // Each write learns its own fate: a failed condition is that caller's answer, the writes
      // cancelled only because of another go again, and a conflict or throttle goes alone.
      const alone: typeof batch = [];
      batch.forEach((pending, i) => {
        const code = reasons[i]?.Code;
        if (code === 'ConditionalCheckFailed') pending.resolve({ written: false });
        else if (code === 'None' || code === undefined)
          this.#updates.push(pending.input).then(pending.resolve, pending.reject);
        else alone.push(pending);
      });
      await singly(alone);
    }
  }

  async #readBatch(batch: Pending<Key, Item | undefined>[]): Promise<void> {
    const keys = [...new Map(batch.map(({ input }) => [keyText(input), input])).values()];
    const found = new Map<string, Item>();
    for (const item of await getItems(this.#ctx, keys)) found.set(keyText(item), item);
    for (const { input, resolve } of batch) resolve(found.get(keyText(input)));
  }
}
