import { createDocumentClient, createDynamoDbClient } from '../../core/aws.js';
import { createLogger } from '../../core/log.js';
import { createStore, ensureTable } from '../../core/store/index.js';
import type { Store } from '../../core/store/types.js';
import { createApp } from '../../functions/api/app.js';
import { startDynalite } from '../../local/dynamodb.js';

export interface TestApi {
  readonly app: ReturnType<typeof createApp>;
  readonly store: Store;
  readonly keys: { readonly admin: string; readonly operator: string; readonly viewer: string };
  close(): Promise<void>;
}

/** The real app over a real store on an embedded dynalite; one per test file. */
export const startTestApi = async (): Promise<TestApi> => {
  const dynamo = await startDynalite();
  const client = createDynamoDbClient({
    region: 'us-east-1',
    endpoints: { dynamodb: dynamo.endpoint },
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const table = `gsm-api-${process.pid}`;
  await ensureTable(client, table);
  const store = createStore({ documents: createDocumentClient(client), table });
  const app = createApp({ store, logger: createLogger('test', { level: 'silent' }) });
  const [admin, operator, viewer] = await Promise.all(
    (['admin', 'operator', 'viewer'] as const).map((role) => store.apiKeys.create({ name: role, role })),
  );
  return {
    app,
    store,
    keys: { admin: admin!.key, operator: operator!.key, viewer: viewer!.key },
    close: async () => {
      client.destroy();
      await dynamo.close();
    },
  };
};
