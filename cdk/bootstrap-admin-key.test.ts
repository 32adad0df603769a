import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../core/aws.js';
import { createStore, ensureTable } from '../core/store/index.js';
import { startDynalite } from '../local/dynamodb.js';
import { createAdminKey } from './bootstrap-admin-key.js';

describe('createAdminKey', () => {
  it('writes an admin key to the table the environment names, usable by the API', async () => {
    // Prepare
    const dynamo = await startDynalite();
    try {
      const env = {
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        GSM_TABLE: 'gsm-bootstrap',
      };
      const clients = createAwsClients({
        region: env.AWS_REGION,
        endpoints: { dynamodb: dynamo.endpoint },
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      await ensureTable(clients.dynamodb, env.GSM_TABLE);

      // Act
      const key = await createAdminKey(env, 'ops');

      // Assess
      const store = createStore({ documents: clients.documents, table: env.GSM_TABLE });
      const verified = await store.apiKeys.verify(key);
      expect(verified).toMatchObject({ name: 'ops', role: 'admin' });
    } finally {
      await dynamo.close();
    }
  });
});
