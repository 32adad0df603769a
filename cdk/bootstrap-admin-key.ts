import { createAwsClients } from '../core/aws.js';
import { serviceConfigFromEnv } from '../core/config.js';
import { createStore } from '../core/store/index.js';

/**
 * The first admin API key of a deployed stack: `gsm dev` makes one locally, but in AWS no key
 * exists until someone with access to the table writes one. Run with your own AWS
 * credentials, GSM_TABLE set to the stack's TableName output and AWS_REGION to its region;
 * it prints the key once (only its hash is stored). Later keys: `gsm keys create`.
 */
export const createAdminKey = async (env: NodeJS.ProcessEnv, name: string): Promise<string> => {
  const config = serviceConfigFromEnv(env);
  const store = createStore({ documents: createAwsClients(config.aws).documents, table: config.table });
  const created = await store.apiKeys.create({ name, role: 'admin' });
  return created.key;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const key = await createAdminKey(process.env, process.argv[2] ?? 'bootstrap-admin');
  process.stdout.write(`${key}\n`);
}
