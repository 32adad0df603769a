import { handle } from 'hono/aws-lambda';
import { createAwsClients } from '../../core/aws.js';
import { serviceConfigFromEnv } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { loadAgentMasterSecret } from '../../core/secrets.js';
import { createStore } from '../../core/store/index.js';
import { createPackageObjects } from '../../core/store/objects.js';
import { deriveAgentSecret } from '../../protocol/index.js';
import { createApp } from './app.js';

// Built once per Lambda container, reused by every invocation it serves.
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);
const logger = createLogger('gsm-api', { level: config.logLevel });
const master = await loadAgentMasterSecret(config);
const app = createApp({
  store: createStore({ documents: clients.documents, table: config.table }),
  objects: createPackageObjects({ s3: clients.s3, bucket: config.bucket }),
  logger,
  workflows: { sfn: clients.sfn, stateMachines: config.stateMachines },
  agentSecretFor: master ? (hostId) => deriveAgentSecret(master, hostId) : undefined,
});

export const handler = handle(app);
