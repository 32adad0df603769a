import { createDocumentClient, createDynamoDbClient, createS3Client } from '../../core/aws.js';
import { createLogger } from '../../core/log.js';
import { createStore, ensureTable } from '../../core/store/index.js';
import { createPackageObjects, type PackageObjects } from '../../core/store/objects.js';
import type { Store } from '../../core/store/types.js';
import { createApp } from '../../functions/api/app.js';
import { startDynalite } from '../../local/dynamodb.js';
import { type LocalS3, startS3 } from '../../local/s3.js';
import { deriveAgentSecret } from '../../protocol/index.js';

export interface TestApi {
  readonly app: ReturnType<typeof createApp>;
  readonly store: Store;
  readonly objects: PackageObjects;
  readonly s3: LocalS3;
  readonly keys: { readonly admin: string; readonly operator: string; readonly viewer: string };
  close(): Promise<void>;
}

export interface TestApiOptions {
  /** Every S3 event of the local bucket (uploads completing, objects dropped). */
  readonly onS3Event?: (event: unknown) => Promise<void>;
}

/** The real app over a real store on an embedded dynalite and a real local S3; one per test file. */
/** The master secret test APIs derive agent secrets from. */
export const TEST_AGENT_MASTER_SECRET = 'test-agent-master-secret-0123456789';

export const startTestApi = async (options: TestApiOptions = {}): Promise<TestApi> => {
  const dynamo = await startDynalite();
  const client = createDynamoDbClient({
    region: 'us-east-1',
    endpoints: { dynamodb: dynamo.endpoint },
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const s3 = await startS3({ bucket: 'gsm-packages-test', onEvent: options.onS3Event });
  const s3Client = createS3Client({
    region: s3.region,
    endpoints: { s3: s3.endpoint },
    credentials: s3.credentials,
    s3ForcePathStyle: true,
  });
  const objects = createPackageObjects({ s3: s3Client, bucket: s3.bucket });
  const table = `gsm-api-${process.pid}`;
  await ensureTable(client, table);
  const store = createStore({ documents: createDocumentClient(client), table });
  const app = createApp({
    store,
    objects,
    logger: createLogger('test', { level: 'silent' }),
    agentSecretFor: (hostId) => deriveAgentSecret(TEST_AGENT_MASTER_SECRET, hostId),
  });
  const [admin, operator, viewer] = await Promise.all(
    (['admin', 'operator', 'viewer'] as const).map((role) => store.apiKeys.create({ name: role, role })),
  );
  return {
    app,
    store,
    objects,
    s3,
    keys: { admin: admin!.key, operator: operator!.key, viewer: viewer!.key },
    close: async () => {
      client.destroy();
      s3Client.destroy();
      await s3.close();
      await dynamo.close();
    },
  };
};
