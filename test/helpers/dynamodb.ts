import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createDocumentClient, createDynamoDbClient } from '../../core/aws.js';
import { createStore, ensureTable } from '../../core/store/index.js';
import type { Store } from '../../core/store/types.js';
import { LOCAL_CREDENTIALS, startDynalite } from '../../local/dynamodb.js';

/** The data-layer tests run, with the same assertions, on both emulators. */
export const DYNAMODB_BACKENDS = ['dynalite', 'amazon'] as const;
export type DynamoDbBackend = (typeof DYNAMODB_BACKENDS)[number];

export interface TestDynamoDb {
  readonly backend: DynamoDbBackend;
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  /** Unique per call, so test files sharing DynamoDB Local never see each other's items. */
  readonly table: string;
  readonly store: Store;
  close(): Promise<void>;
}

/** A fresh dynalite for this file, or the run's shared DynamoDB Local (see global-setup.ts). */
const endpointFor = async (
  backend: DynamoDbBackend,
): Promise<{ endpoint: string; stop: () => Promise<void> }> => {
  if (backend === 'dynalite') {
    const dynalite = await startDynalite();
    return { endpoint: dynalite.endpoint, stop: () => dynalite.close() };
  }
  const shared = inject('dynamoDbLocal');
  if ('error' in shared) throw new Error(`DynamoDB Local is not running: ${shared.error}`);
  return { endpoint: shared.endpoint, stop: async () => {} };
};

export const startTestDynamoDb = async (backend: DynamoDbBackend, name: string): Promise<TestDynamoDb> => {
  const { endpoint, stop } = await endpointFor(backend);
  const client = createDynamoDbClient({
    region: 'us-east-1',
    endpoints: { dynamodb: endpoint },
    credentials: LOCAL_CREDENTIALS,
  });
  const table = `gsm-test-${name}-${randomBytes(4).toString('hex')}`;
  await ensureTable(client, table);
  const documents = createDocumentClient(client);
  return {
    backend,
    endpoint,
    client,
    documents,
    table,
    store: createStore({ documents, table }),
    close: async () => {
      if (backend === 'amazon')
        await client.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
      client.destroy();
      await stop();
    },
  };
};

/**
 * For race tests: parks `command` requests (e.g. `PutItemCommand`) until `count` of them
 * wait, then lets that one batch go at once. The returned function removes the hold.
 */
export const holdRequests = (
  client: DynamoDBDocumentClient,
  command: string,
  count: number,
): (() => void) => {
  const parked: (() => void)[] = [];
  let released = false;
  const name = `hold-${command}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && !released) {
        await new Promise<void>((resolve) => {
          parked.push(resolve);
          if (parked.length < count) return;
          // One batch only: retries after the race must go straight through.
          released = true;
          for (const go of parked.splice(0)) go();
        });
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return () => {
    client.middlewareStack.remove(name);
    for (const go of parked.splice(0)) go();
  };
};
