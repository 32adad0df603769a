import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GsmError } from '../errors.js';
import { createActionStore } from './actions.js';
import { createApiKeyStore } from './api-keys.js';
import { createCounterStore } from './counters.js';
import { createGameStore } from './games.js';
import { createHostLockStore } from './host-locks.js';
import { createHostStore } from './hosts.js';
import { createJobStore } from './jobs.js';
import { createOriginStore } from './origins.js';
import { createPackageStore } from './packages.js';
import { createReleaseStore } from './releases.js';
import { createTableInput } from './table.js';
import type { Store } from './types.js';

export { newActionId } from './actions.js';
export { generateApiKey, parseApiKey } from './api-keys.js';
export { newReleaseId } from './releases.js';
export { createTableInput, type IndexName, TABLE } from './table.js';
export type * from './types.js';

export interface StoreOptions {
  readonly documents: DynamoDBDocumentClient;
  /** The table name: one per stack, one per test file locally. */
  readonly table: string;
  /** See StoreContext.updates; the relay passes one, everything else leaves it out. */
  readonly updates?: DynamoDBClient;
}

export const createStore = ({ documents, table, updates }: StoreOptions): Store => {
  const ctx = { documents, table, ...(updates ? { updates } : {}) };
  return {
    games: createGameStore(ctx),
    hosts: createHostStore(ctx),
    origins: createOriginStore(ctx),
    packages: createPackageStore(ctx),
    releases: createReleaseStore(ctx),
    jobs: createJobStore(ctx),
    apiKeys: createApiKeyStore(ctx),
    counters: createCounterStore(ctx),
    actions: createActionStore(ctx),
    hostLocks: createHostLockStore(ctx),
  };
};

/**
 * Creates the table from the shared definition unless it exists, then waits until it is
 * ACTIVE. Local stacks call it at start; in AWS the CDK stack owns the table.
 */
export const ensureTable = async (
  client: DynamoDBClient,
  tableName: string,
  { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
): Promise<void> => {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException || (error as Error).name === 'ResourceInUseException')) {
      throw error;
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (out.Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === undefined || index.IndexStatus === 'ACTIVE',
    );
    if (out.Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new GsmError(
        'E_UNAVAILABLE',
        `table '${tableName}' did not become ACTIVE within ${timeoutMs} ms`,
      );
    }
    await sleep(100);
  }
};
