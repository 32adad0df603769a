import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { GsmError } from '../errors.js';
import { getItems, type StoreContext } from './dynamo.js';

/**
 * Error handling of getItems: DynamoDB answers a BatchGetItem under load with UnprocessedKeys,
 * which no emulator here produces on demand, so these use a scripted client. Batching and
 * found/missing keys run against real dynalite and DynamoDB Local in hosts.test.ts and jobs.test.ts.
 */
const scripted = (answer: (keys: { pk: string }[], call: number) => object) => {
  const calls: { pk: string }[][] = [];
  const documents = {
    send: async (command: { input: { RequestItems: Record<string, { Keys: { pk: string }[] }> } }) => {
      const keys = command.input.RequestItems.t?.Keys ?? [];
      calls.push(keys);
      return answer(keys, calls.length);
    },
  } as unknown as DynamoDBDocumentClient;
  return { ctx: { documents, table: 't' } satisfies StoreContext, calls };
};

describe('getItems', () => {
  it('sends unprocessed keys again until every key is answered', async () => {
    // Prepare: the first answer leaves the second key unprocessed.
    const { ctx, calls } = scripted((keys, call) =>
      call === 1
        ? { Responses: { t: [{ pk: 'a' }] }, UnprocessedKeys: { t: { Keys: [keys[1]] } } }
        : { Responses: { t: keys } },
    );
    // Act
    const items = await getItems(ctx, [{ pk: 'a' }, { pk: 'b' }]);
    // Assess
    expect(items).toEqual([{ pk: 'a' }, { pk: 'b' }]);
    expect(calls).toEqual([[{ pk: 'a' }, { pk: 'b' }], [{ pk: 'b' }]]);
  });

  it('gives up with E_UNAVAILABLE when keys stay unprocessed', async () => {
    const { ctx, calls } = scripted((keys) => ({
      Responses: { t: [] },
      UnprocessedKeys: { t: { Keys: keys } },
    }));
    const read = getItems(ctx, [{ pk: 'a' }]);
    await expect(read).rejects.toBeInstanceOf(GsmError);
    await expect(read).rejects.toMatchObject({ code: 'E_UNAVAILABLE' });
    expect(calls).toHaveLength(8);
  }, 10_000);

  it('splits more than 100 keys into calls of at most 100, and sends nothing for none', async () => {
    const { ctx, calls } = scripted((keys) => ({ Responses: { t: keys } }));
    const keys = Array.from({ length: 250 }, (_, i) => ({ pk: `k${i}` }));
    expect(await getItems(ctx, keys)).toHaveLength(250);
    expect(calls.map((c) => c.length)).toEqual([100, 100, 50]);
    expect(await getItems(ctx, [])).toEqual([]);
    expect(calls).toHaveLength(3);
  });

  it('passes a failed call on as it is', async () => {
    const { ctx } = scripted(() => {
      throw Object.assign(new Error('the table is gone'), { name: 'ResourceNotFoundException' });
    });
    await expect(getItems(ctx, [{ pk: 'a' }])).rejects.toThrow('the table is gone');
  });
});
